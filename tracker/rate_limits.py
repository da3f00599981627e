"""Rate limits on the two ways in: coordinator sign-in and personal links.

One Flask-Limiter per app (it keeps its storage and key prefix on the instance, so a
module-level one would be shared by every app made in a process, e.g. in tests), created by
``limiter_for`` whoever asks first. Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://``
counts per process, so with several gunicorn workers use Redis
(``redis://host:6379/0``), which every worker shares. Only *failed* attempts count, so a
patient opening their own link, or a coordinator typing the right password, is never slowed
by their own successes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.errors import ConfigurationError

from tracker.config import ConfigError

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
        if storage.startswith("memory") and not app.testing and app.config["ENV"] == "production":
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


def _link_failed(response: Any) -> bool:
    return response.status_code == 404


def _token_key() -> str:
    # The token itself is a credential: the limiter's storage only ever sees its hash.
    token = (request.view_args or {}).get("token", "")
    return "link-token:" + hashlib.sha256(token.encode()).hexdigest()


def limit_link_sign_in(app: Flask, endpoint: str) -> None:
    """Wrap the personal-link view registered at ``endpoint`` with its two limits."""
    limiter = limiter_for(app)
    view: Callable[..., Any] = app.view_functions[endpoint]
    per_token = limiter.limit(
        lambda: current_app.config["LINK_LIMIT_PER_TOKEN"],
        key_func=_token_key,
        deduct_when=_link_failed,
        error_message=LINK_LIMITED,
    )
    per_address = limiter.limit(
        lambda: current_app.config["LINK_LIMIT_PER_ADDRESS"],
        deduct_when=_link_failed,
        error_message=LINK_LIMITED,
    )
    app.view_functions[endpoint] = per_address(per_token(view))
