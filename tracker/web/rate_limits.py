"""Rate limits on the two ways in: coordinator sign-in and personal links.

One Flask-Limiter per app (it keeps its storage and key prefix on the instance, so a
module-level one would be shared by every app made in a process, e.g. in tests), created by
``limiter_for`` whoever asks first. Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://``
counts per process, so with several gunicorn workers use Redis
(``redis://host:6379/0``), which every worker shares.

The counting itself is ``Attempts`` (fixed windows in that storage): each count is one
atomic increment-and-compare (a Lua script in Redis, a lock in memory), so concurrent
guesses cannot get past a limit, and only failures stay counted. The policy, and why it
slows an attacker without locking out the owner, is docs/security.md, "Sign-in limits".
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from tracker.core.config import ConfigError

log = logging.getLogger(__name__)

CONFIG_DEFAULTS: dict[str, Any] = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "tracker",
    "RATELIMIT_HEADERS_ENABLED": False,
    # Redis down: keep counting in each worker's memory rather than failing sign-ins (a 500)
    # or dropping the limits altogether; the shared count resumes when Redis returns.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Failed personal-link openings allowed before a pause: per client address, and per link
    # (the same dead or made-up token tried again and again).
    "LINK_LIMIT_PER_ADDRESS": "30 per 15 minutes",
    "LINK_LIMIT_PER_TOKEN": "5 per 15 minutes",
}
LINK_LIMITED = "Too many attempts with links that do not work. Please wait a few minutes."


def limiter_for(app: Flask) -> Limiter:
    """The app's one limiter, created on first use."""
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    check_limits(app)
    limiter = app.extensions.get("tracker.limiter")
    if limiter is None:
        try:
            limiter = Limiter(key_func=get_remote_address, app=app)
        except ConfigurationError as exc:
            raise ConfigError(f"TRACKER_RATELIMIT_STORAGE_URI is not usable: {exc}") from None
        app.extensions["tracker.limiter"] = limiter
        storage = str(app.config["RATELIMIT_STORAGE_URI"])
        serving = app.extensions.get("tracker.serving", True)
        if (
            storage.startswith("memory")
            and serving
            and not app.testing
            and app.config["ENV"] == "production"
        ):
            log.warning(
                "TRACKER_RATELIMIT_STORAGE_URI is memory://: sign-in and link limits are counted "
                "per worker process; set redis://... when running several workers"
            )
    return limiter


def check_limits(app: Flask) -> None:
    """Every ``*_LIMIT_PER_*`` setting must be a rate such as "5 per 15 minutes"."""
    for key, value in app.config.items():
        if "_LIMIT_PER_" not in key:
            continue
        try:
            parse_many(str(value))
        except ValueError:
            raise ConfigError(
                f"TRACKER_{key} must be a rate such as '5 per 15 minutes', not {value!r}"
            ) from None


# --- counting attempts ----------------------------------------------------------------------

# After a storage error (Redis unreachable), count in this process's memory for this long
# before trying the shared storage again: sign-ins keep working and stay limited.
STORAGE_RETRY_SECONDS = 30


def hashed(*parts: str) -> str:
    """Keys hold hashes: the limiter's storage never sees tokens, emails or addresses."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Attempts:
    """Atomic attempt counters in the limiter's storage, one per (setting, key).

    ``take`` counts one attempt and says whether it is within the limit, in one atomic step,
    *before* the caller does the work (checks a password): of N concurrent attempts, at most
    the limit are let through. ``give_back`` un-counts an attempt that succeeded, so only
    failures stay counted. Windows are fixed (``limits`` FixedWindowRateLimiter).
    """

    def __init__(self, app: Flask, limiter: Limiter) -> None:
        self.prefix = str(app.config["RATELIMIT_KEY_PREFIX"])
        self.shared = FixedWindowRateLimiter(limiter.storage)
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.shared_down_until = 0.0

    @staticmethod
    def items(setting: str, rate: str | None) -> list[RateLimitItem]:
        return _parsed(rate if rate is not None else str(current_app.config[setting]))

    def _run(self, work: Callable[[FixedWindowRateLimiter], Any]) -> Any:
        if time.monotonic() >= self.shared_down_until:
            try:
                return work(self.shared)
            except Exception as exc:  # any storage error: count locally meanwhile
                self.shared_down_until = time.monotonic() + STORAGE_RETRY_SECONDS
                log.warning(
                    "rate-limit storage unavailable (%s); counting in this process for %s s",
                    type(exc).__name__,
                    STORAGE_RETRY_SECONDS,
                )
        return work(self.local)

    def _ids(self, setting: str, key: str) -> tuple[str, str, str]:
        return (self.prefix, setting.lower(), key)

    def take(self, setting: str, key: str, rate: str | None = None) -> bool:
        """Count one attempt; False if it is over any of the limits of ``setting`` (a config
        key holding a rate such as "5 per 15 minutes"; ``rate`` instead, if given)."""
        ids = self._ids(setting, key)
        return self._run(lambda s: all([s.hit(item, *ids) for item in self.items(setting, rate)]))

    def over(self, setting: str, key: str, rate: str | None = None) -> bool:
        """Whether ``key`` has used up a limit of ``setting`` (counting nothing)."""
        ids = self._ids(setting, key)
        return not self._run(
            lambda s: all(s.test(item, *ids) for item in self.items(setting, rate))
        )

    def give_back(self, setting: str, key: str, rate: str | None = None) -> None:
        """Un-count one attempt taken with ``take`` (it succeeded)."""
        ids = self._ids(setting, key)
        self._run(lambda s: [s.hit(item, *ids, cost=-1) for item in self.items(setting, rate)])

    def clear(self, setting: str, key: str, rate: str | None = None) -> None:
        ids = self._ids(setting, key)
        self._run(lambda s: [s.clear(item, *ids) for item in self.items(setting, rate)])


_parsed_cache: dict[str, list[RateLimitItem]] = {}


def _parsed(rate: str) -> list[RateLimitItem]:
    if rate not in _parsed_cache:
        _parsed_cache[rate] = parse_many(rate)
    return _parsed_cache[rate]


def attempts(app: Flask) -> Attempts:
    """The app's attempt counters (in the storage of its one limiter)."""
    counter = app.extensions.get("tracker.attempts")
    if counter is None:
        counter = app.extensions["tracker.attempts"] = Attempts(app, limiter_for(app))
    return counter  # type: ignore[no-any-return]


def client_address() -> str:
    return get_remote_address() or "unknown"


# --- personal links --------------------------------------------------------------------------


def limit_link_sign_in(app: Flask, endpoint: str) -> None:
    """Wrap the personal-link view registered at ``endpoint`` with its two limits.

    A link that works always works: it is never counted or refused (a clinic's Wi-Fi or a
    carrier's NAT shares one address between many patients). A link that does not work
    (unknown, expired, revoked: the view's 404) is counted, atomically, against the client
    address and against the link itself; past either limit the answer is the kind "please
    wait" page (429) instead of the 404. Links are 256-bit random tokens, so the limits are
    about scanning noise and load, not about a guess ever succeeding.
    """
    counter = attempts(app)
    view: Callable[..., Any] = app.view_functions[endpoint]

    @wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code != 404:
            return response
        token = str(kwargs.get("token", ""))
        per_address = counter.take("LINK_LIMIT_PER_ADDRESS", hashed("address", client_address()))
        per_token = counter.take("LINK_LIMIT_PER_TOKEN", hashed("link", token))
        if not (per_address and per_token):
            raise TooManyRequests(LINK_LIMITED)
        return response

    app.view_functions[endpoint] = limited
