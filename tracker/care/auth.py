"""Sign-in for care coordinators and clinic admins, and the access rules of their pages.

Flask-Login keeps ``"<user id>:<session version>"`` in the signed session cookie. Signing out
bumps ``User.session_version``, so a copied cookie stops working at once; so does disabling
the account. Failed sign-ins are limited per client address, per (account, address), and
per account for addresses the account has never signed in from (``_sign_in_limits``;
docs/security.md, "Sign-in limits"), in the storage named by ``RATELIMIT_STORAGE_URI``
(``memory://`` by default; use ``redis://127.0.0.1:6379`` when several web workers run, so
they share one count).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from tracker.care.passwords import hash_password, needs_rehash, verify_password
from tracker.core import audit
from tracker.core.clock import request_now
from tracker.core.config import ConfigError
from tracker.core.db import get_session
from tracker.core.models import Patient, User
from tracker.core.whole_numbers import parse_whole_number
from tracker.web import error_pages as errors
from tracker.web import rate_limits

bp = Blueprint("coordinator_auth", __name__, url_prefix="/coordinator")
login_manager = LoginManager()
SIGNIN_LIMITED = "Too many sign-in attempts. Please wait a few minutes and try again."

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_DEFAULTS = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    # Failed sign-ins allowed before a pause (docs/security.md, "Sign-in limits"): from one
    # client address; for one account from one address; and for one account from all
    # addresses, after which only addresses it signed in from before may still try.
    "SIGNIN_LIMIT_PER_ADDRESS": "20 per 15 minutes",
    "SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS": "5 per 15 minutes",
    "SIGNIN_LIMIT_PER_ACCOUNT": "100 per hour",
    # An address from which an account signed in is "known" to it for this many days.
    "SIGNIN_KNOWN_ADDRESS_DAYS": 30,
    # Email addresses an admin may try that turn out to be taken (admin_views.py).
    "ACCOUNT_EMAIL_REFUSALS_LIMIT_PER_ADMIN": "10 per hour",
}


class Account(UserMixin):
    """The signed-in user as Flask-Login sees it; ``user`` is the database row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.user.is_active)

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    @property
    def clinic_id(self) -> int:
        return self.user.clinic_id


@login_manager.user_loader
def load_account(user_id: str) -> Account | None:
    ident, _, version = user_id.partition(":")
    user_number, version_number = parse_whole_number(ident), parse_whole_number(version)
    if user_number is None or version_number is None:
        return None
    user = get_session().get(User, user_number)
    if user is None or not user.is_active or user.session_version != version_number:
        return None
    return Account(user)


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    if session.get("patient_id") is not None:
        # A patient's own session: signed in, but never allowed here.
        abort(403)
    # Come back to the page asked for; a form post cannot be replayed, so not to its URL.
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("coordinator_auth.login", next=target))


def account() -> Account:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def coordinator_required(view: F) -> F:
    """Signed-in coordinator or admin; the clinic scope is ``account().clinic_id``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not account().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def get_clinic_patient(patient_id: int) -> Patient:
    """The patient if they belong to the signed-in user's clinic, else 404 (no existence leak)."""
    patient = get_session().get(Patient, patient_id)
    if patient is None or patient.clinic_id != account().clinic_id:
        abort(404)
    return patient


def record(action: str, *, patient_id: int | None = None, **detail: Any) -> None:
    """Audit what the signed-in user did; committed with the request's work."""
    user = account().user
    audit.record(
        get_session(),
        now=request_now(),
        action=action,
        actor_type="user",
        actor_user_id=user.id,
        clinic_id=user.clinic_id,
        patient_id=patient_id,
        detail=detail or None,
        remote_addr=request.remote_addr,
    )


def safe_next(target: str | None) -> str | None:
    """``target`` if it is one of this site's own pages, else None (no open redirects).

    Refused: anything with a scheme or host (``https://evil``, ``//evil``), backslashes
    (``\\evil``, ``/\\evil``: browsers read them as slashes), control characters (browsers drop
    tabs and newlines, so ``/<tab>/evil`` would become ``//evil``), the same tricks percent-encoded
    once or twice, and any path that is not a page of this app.
    """
    if not target or len(target) > 2000:
        return None
    decoded = target
    for _ in range(3):  # %25252F -> %252F -> %2F -> /
        decoded = unquote(decoded)
    for candidate in (target, decoded):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        if "\\" in candidate or any(ord(c) < 32 or ord(c) == 127 for c in candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    try:
        current_app.url_map.bind("localhost").match(urlsplit(target).path, method="GET")
    except HTTPException:  # not found, not a page (POST only), or a redirect elsewhere
        return None
    return target


_dummy_hash: str | None = None


def _dummy_password_hash() -> str:
    """A hash with the current parameters, to verify against when there is no account (or
    it is disabled): every refusal then costs one argon2 verify, like a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password-0000")
    return _dummy_hash


class _SignInLimits:
    """Failed sign-in counts for one attempt (the typed email, the client address).

    ``admit`` takes a slot of each limit *before* the password is checked (atomic, so
    concurrent guesses cannot exceed a limit); ``succeeded`` gives the slots back, clears
    the (account, address) count and remembers the address as known to the account.
    """

    def __init__(self, email: str) -> None:
        self.counter = rate_limits.attempts(current_app)
        account_id = email.strip().lower()[:254]
        address = rate_limits.client_address()
        self.address = rate_limits.hashed("signin-address", address)
        self.account_address = rate_limits.hashed("signin-account-address", account_id, address)
        self.account = rate_limits.hashed("signin-account", account_id)
        self.known_key = "known:" + self.account_address

    def _known_rate(self) -> str:
        # "Known" is one success in a window of this many days (counted like an attempt).
        return f"1 per {current_app.config['SIGNIN_KNOWN_ADDRESS_DAYS']} days"

    def _known(self) -> bool:
        return self.counter.over("SIGNIN_KNOWN", self.known_key, self._known_rate())

    def admit(self) -> bool:
        if not self.counter.take("SIGNIN_LIMIT_PER_ADDRESS", self.address):
            return False
        if not self.counter.take("SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", self.account_address):
            return False
        # Past the account's own limit (guesses from many addresses), only addresses it has
        # signed in from before may still try: the owner at the usual desk is not locked out.
        return self.counter.take("SIGNIN_LIMIT_PER_ACCOUNT", self.account) or self._known()

    def succeeded(self) -> None:
        self.counter.give_back("SIGNIN_LIMIT_PER_ADDRESS", self.address)
        self.counter.clear("SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", self.account_address)
        self.counter.give_back("SIGNIN_LIMIT_PER_ACCOUNT", self.account)
        self.counter.take("SIGNIN_KNOWN", self.known_key, self._known_rate())


def _limited_page(next_url: str | None, email: str) -> tuple[str, int]:
    return (
        render_template(
            "coordinator/login.html", next_url=next_url, email=email[:254], error=SIGNIN_LIMITED
        ),
        429,
    )


def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("coordinator.triage"))
    if request.method == "GET":
        return render_template("coordinator/login.html", next_url=next_url, email="")
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    limits = _SignInLimits(email)
    if not limits.admit():
        return _limited_page(next_url, email)
    db = get_session()
    user = None
    if email and len(email) <= 254 and len(password) <= 1024:
        user = db.scalar(select(User).where(func.lower(User.email) == email.lower()))
    # One argon2 verify whatever the case (unknown email, disabled account, wrong password),
    # so the time taken tells nothing about the account.
    usable = user is not None and user.is_active
    checked_hash = user.password_hash if usable and user is not None else _dummy_password_hash()
    right = verify_password(checked_hash, password[:1024])
    if user is None or not usable or not right:
        return (
            render_template(
                "coordinator/login.html",
                next_url=next_url,
                email=email[:254],
                error="That email and password do not match an active account.",
            ),
            401,
        )
    limits.succeeded()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = request_now()
    user.last_login_at = now
    # A fresh session: nothing from before sign-in (a patient's session included) survives.
    session.clear()
    login_user(Account(user))
    session[SIGNED_IN_AT] = session[SEEN_AT] = _epoch(now)
    record("user.sign_in")
    db.commit()
    return redirect(next_url or url_for("coordinator.triage"))


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        user = account().user
        user.session_version += 1  # every copy of this session cookie stops working
        get_session().commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("coordinator_auth.login"))


def too_many_requests(error: Any) -> tuple[str, int]:
    if request.endpoint != "coordinator_auth.login":
        return errors.error_page(429)
    return (
        render_template(
            "coordinator/login.html",
            next_url=None,
            email="",
            error=str(getattr(error, "description", "")) or "Too many attempts.",
        ),
        429,
    )


# --- session timeouts --------------------------------------------------------------------
# The signed cookie carries when the session started and when it was last used (whole
# seconds). A session without them, idle too long, or older than the longest allowed is
# ended; a stolen copy of the cookie dies with it, since the times cannot be forged.
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# Requests that are not the coordinator's activity: they neither end nor extend a session.
_PASSIVE_ENDPOINTS = frozenset({"static", "site.livez", "site.healthz"})
SIGNED_OUT_IDLE = "You were signed out to keep patient data safe. Please sign in again."


def _epoch(now: Any) -> int:
    return int(now.timestamp())


def expire_idle_session() -> Any:
    if "_user_id" not in session or request.endpoint in _PASSIVE_ENDPOINTS:
        return None
    now = _epoch(request_now())
    seen, since = session.get(SEEN_AT), session.get(SIGNED_IN_AT)
    idle = current_app.config["COORDINATOR_IDLE_MINUTES"] * 60
    longest = current_app.config["COORDINATOR_SESSION_HOURS"] * 3600
    if (
        isinstance(seen, int)
        and isinstance(since, int)
        and now - seen <= idle
        and now - since <= longest
    ):
        if now - seen >= 60:  # refresh at most once a minute: fewer new cookies
            session[SEEN_AT] = now
        return None
    logout_user()
    session.clear()
    flash(SIGNED_OUT_IDLE, "info")
    if request.endpoint == "coordinator_auth.login":
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("coordinator_auth.login", next=safe_next(target)))


def init_app(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    days = app.config["SIGNIN_KNOWN_ADDRESS_DAYS"]
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"TRACKER_SIGNIN_KNOWN_ADDRESS_DAYS must be a whole number, not {days!r}")
    login_manager.init_app(app)
    # The app's one limiter's storage holds the sign-in counts (rate_limits.Attempts).
    rate_limits.attempts(app)
    app.add_url_rule(
        "/coordinator/login",
        endpoint="coordinator_auth.login",
        view_func=login,
        methods=["GET", "POST"],
    )
    app.register_blueprint(bp)
    app.register_error_handler(429, too_many_requests)
    app.before_request(expire_idle_session)
