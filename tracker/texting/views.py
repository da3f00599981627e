"""The SMS gateway's two endpoints: texts in (``/sms/inbound``) and delivery reports
(``/sms/status``). Both answer 404 until ``TRACKER_SMS_INBOUND_SECRET`` is set.

Every post is checked before anything is read or stored, in this order: its size and form
(413, 415), the gateway's signature with the shared secret (403, and an audit row; past
``SMS_REFUSED_LIMIT_PER_ADDRESS`` refusals from one address, 429 without more rows), its
fields (400), and for texts in the sender's rate (``SMS_LIMIT_PER_NUMBER``, 429): a flood
from one number stores nothing. Then one transaction does the work, and the answer is the
reply itself (TwiML for Twilio), so the patient hears back within the gateway's request.
The signature covers the URL the gateway was given: ``SMS_PUBLIC_URL`` (or ``BASE_URL``)
with this path and query.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, abort, current_app, request
from werkzeug.datastructures import MultiDict

from tracker.core import audit
from tracker.core.clock import request_now
from tracker.core.config import ConfigError
from tracker.core.db import get_session
from tracker.core.phones import masked, sms_number
from tracker.plans.severe_pain import guidance_path, load_guidance
from tracker.plans.templates import TemplateError
from tracker.plans.warning_signs import load_signs, signs_path
from tracker.reminders.delivery import record_gateway_report
from tracker.texting.conversation import TextingSettings, receive
from tracker.texting.gateways import BadPost, Gateway, gateway_named
from tracker.texting.sign_questions import load_sign_texts, sign_texts_path
from tracker.texting.words import DEFAULT_LANGUAGE, load_words, words_path
from tracker.web import rate_limits
from tracker.web.headers import csrf

log = logging.getLogger("tracker.texting")
bp = Blueprint("texting", __name__, url_prefix="/sms")

CONFIG_DEFAULTS = {
    # Texts in from one number (a day's check-in by text is about four).
    "SMS_LIMIT_PER_NUMBER": "20 per 10 minutes",
    # Posts refused for a bad signature from one address that are audited; more are
    # answered 429 and only logged, so a flood cannot fill the audit log.
    "SMS_REFUSED_LIMIT_PER_ADDRESS": "30 per 10 minutes",
}
# A gateway's post is a few hundred bytes; 1600 characters of emoji, percent-encoded, ~20 kB.
MAX_POST_BYTES = 32 * 1024
FORM = "application/x-www-form-urlencoded"
# A text message column holds this many characters (models.TextMessage.body).
BODY_COLUMN_LENGTH = 1600


def texting_settings(app: Flask) -> TextingSettings:
    settings: TextingSettings = app.extensions["tracker.texting"]
    return settings


def gateway() -> Gateway:
    return gateway_named(current_app.config["SMS_GATEWAY"])


def public_url() -> str:
    """The URL the gateway posted to, as it signed it."""
    base = (current_app.config.get("SMS_PUBLIC_URL") or current_app.config["BASE_URL"]).rstrip("/")
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def _no_content(status: int = 204) -> Response:
    return Response(status=status)


def _refuse(status: int, reason: str) -> Response:
    log.warning("SMS gateway post to %s refused (%s): %s", request.path, status, reason)
    return Response(reason + "\n", status=status, mimetype="text/plain")


def _signed_form() -> MultiDict[str, str] | Response:
    """The post's form if it is one the gateway signed; else the refusal to answer with."""
    secret = current_app.config.get("SMS_INBOUND_SECRET")
    if not secret:
        abort(404)
    length = request.content_length
    if length is None or length > MAX_POST_BYTES:
        return _refuse(413, "the post is missing its length or is too large")
    if request.mimetype != FORM:
        return _refuse(415, f"the post must be {FORM}")
    form = request.form
    given = request.headers.get(getattr(gateway(), "header", ""), "")
    if gateway().verify(public_url(), form, request.headers, secret):
        return form
    counter = rate_limits.attempts(current_app)
    key = rate_limits.hashed("sms-refused", rate_limits.client_address())
    if not counter.take("SMS_REFUSED_LIMIT_PER_ADDRESS", key):
        return _refuse(429, "too many refused posts from this address")
    db = get_session()
    audit.record(
        db,
        now=request_now(),
        action="text.signature_refused",
        actor_type="system",
        detail={"path": request.path, "signature": "wrong" if given else "missing"},
        remote_addr=request.remote_addr,
    )
    db.commit()
    return _refuse(403, "the signature is missing or wrong")


@bp.post("/inbound")
def inbound() -> Response:
    form = _signed_form()
    if isinstance(form, Response):
        return form
    max_chars = min(int(current_app.config["SMS_MAX_BODY_CHARS"]), BODY_COLUMN_LENGTH)
    try:
        text = gateway().inbound(form, max_chars=max_chars)
    except BadPost as exc:
        return _refuse(exc.status, str(exc))
    number = sms_number(text.sender) or text.sender
    counter = rate_limits.attempts(current_app)
    if not counter.take("SMS_LIMIT_PER_NUMBER", rate_limits.hashed("sms-from", number)):
        return _refuse(429, f"too many texts from {masked(number)}")
    db = get_session()
    try:
        outcome = receive(db, text, now=request_now(), settings=texting_settings(current_app))
    except BadPost as exc:
        db.rollback()
        return _refuse(exc.status, str(exc))
    db.commit()
    if outcome.duplicate:
        log.info("text %s was already received: not handled again", text.sid)
    reply = gateway().reply(outcome.replies)
    return Response(reply.body, status=200, content_type=reply.content_type)


@bp.post("/status")
def status() -> Response:
    form = _signed_form()
    if isinstance(form, Response):
        return form
    key = request.args.get("key", "")
    if not key or len(key) > 200:
        return _refuse(400, "the status callback URL has no reminder key")
    try:
        report = gateway().status_report(form)
    except BadPost as exc:
        return _refuse(exc.status, str(exc))
    if report.status is None:
        return _no_content()
    db = get_session()
    reminder = record_gateway_report(
        db, idempotency_key=key, status=report.status, error=report.error, now=request_now()
    )
    db.commit()
    if reminder is None:
        log.info("delivery report for unknown text %s ignored", key)
    return _no_content()


def load_settings(schedules_dir: str) -> TextingSettings:
    """The data a conversation reads, checked now (a bad file stops the app at start)."""
    words = load_words(words_path(schedules_dir))
    settings = TextingSettings(
        words=words[DEFAULT_LANGUAGE],
        all_words=words,
        signs=load_signs(signs_path(schedules_dir)),
        sign_texts=load_sign_texts(sign_texts_path(schedules_dir)),
        guidance=load_guidance(guidance_path(schedules_dir)),
    )
    settings.parts  # noqa: B018 - raises for a sign without a short form, or one too long
    return settings


def init_app(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    try:
        gateway_named(app.config["SMS_GATEWAY"])
    except KeyError as exc:
        raise ConfigError(f"TRACKER_SMS_GATEWAY: {exc.args[0]}") from None
    try:
        app.extensions["tracker.texting"] = load_settings(app.config["SCHEDULES_DIR"])
    except TemplateError as exc:
        raise ConfigError(str(exc)) from None
    if app.config.get("SMS_INBOUND_SECRET"):
        base = (app.config.get("SMS_PUBLIC_URL") or app.config["BASE_URL"]).rstrip("/")
        # The reminders' webhook asks the gateway to report each text's fate here.
        app.config.setdefault("SMS_STATUS_CALLBACK_URL", f"{base}{bp.url_prefix}/status")
    app.register_blueprint(bp)
    # The gateway cannot hold a CSRF token: its posts are checked by signature instead.
    csrf.exempt(bp)
    rate_limits.limiter_for(app)


__all__ = ["bp", "init_app", "load_settings", "public_url", "texting_settings"]
