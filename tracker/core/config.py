"""Configuration: defaults, then ``TRACKER_*`` environment variables, then test overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from tracker.core.db import DEFAULT_TIMEOUTS
from tracker.core.secret_key import KNOWN_KEYS, secret_key_problem

ENV_PREFIX = "TRACKER"
# Known-bad secret keys (the whole rule is tracker/core/secret_key.py).
INSECURE_SECRET_KEYS = KNOWN_KEYS
REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """Configuration that must stop the process at start, with a one-line reason."""


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        # "production" (the default) fails closed; "development" relaxes the checks below
        # for local runs such as `tracker demo`.
        "ENV": "production",
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'tracker.db'}",
        # Base of the links put in reminders; must be the address patients reach.
        "BASE_URL": "http://127.0.0.1:5000",
        "SCHEDULES_DIR": str(REPO_ROOT / "schedules"),
        # Personal links stay valid this many days after the plan ends.
        "LINK_GRACE_DAYS": 14,
        # Reminder channels (SPEC section 3). "log" writes to the log only: the demo default.
        "REMINDER_CHANNEL": "log",
        # Email reminders are used only when an SMTP host is configured.
        "SMTP_HOST": None,
        "SMTP_PORT": 25,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 10,
        "MAIL_FROM": "recovery-tracker@localhost",
        "WEBHOOK_URL": None,
        "WEBHOOK_TIMEOUT": 10,
        # The scheduler (tracker/reminders/delivery.py, tracker/scheduler/process.py).
        "REMINDER_MAX_ATTEMPTS": 6,
        "REMINDER_RETRY_BASE_SECONDS": 60,
        "REMINDER_RETRY_MAX_SECONDS": 3600,
        "REMINDER_BATCH_SIZE": 50,
        "REMINDER_LEASE_SECONDS": 300,
        "SCHEDULER_INTERVAL_SECONDS": 60,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": True,
        # Number of trusted reverse proxies in front of the app (X-Forwarded-* headers).
        "PROXY_FIX": 0,
        # Care team sessions end after this long without a request, and this long after
        # sign-in whatever the activity (tracker/care/auth.py).
        "COORDINATOR_IDLE_MINUTES": 30,
        "COORDINATOR_SESSION_HOURS": 12,
        # Patient sessions (tracker/patient/session.py; docs/security.md, "Patient sessions"):
        # ended after this long unused, and this long after opening the link. An hour, not
        # the care team's 30 minutes: patients are often older, on a phone, and put it down
        # mid-form to rest or take medicine; every reminder carries a link to start again.
        "PATIENT_IDLE_MINUTES": 60,
        "PATIENT_SESSION_HOURS": 12,
        # The health check turns red when the newest scheduler tick is older than this.
        "SCHEDULER_STALE_SECONDS": 300,
        # How long web requests, CLI commands and scheduler ticks wait for the database,
        # in seconds (tracker/core/db.py DatabaseTimeouts; docs/operations.md, "When the
        # database stops answering"): to connect; for one statement (PostgreSQL
        # statement_timeout, SQLite busy_timeout); for any answer on an open connection.
        "DB_CONNECT_TIMEOUT": DEFAULT_TIMEOUTS.connect,
        "DB_STATEMENT_TIMEOUT": DEFAULT_TIMEOUTS.statement,
        "DB_READ_TIMEOUT": DEFAULT_TIMEOUTS.read,
        # Two-way text messages (tracker/texting; docs/operations.md, "Text messages"). The
        # secret the SMS gateway signs its posts with (Twilio: the account's auth token);
        # unset, the inbound and status endpoints answer 404 and texts ask for no reply.
        "SMS_INBOUND_SECRET": None,
        # Which gateway's post format and signature: "twilio" (tracker/texting/gateways.py).
        "SMS_GATEWAY": "twilio",
        # The address the gateway posts to, when it is not BASE_URL (the signature covers
        # the exact URL the gateway was given).
        "SMS_PUBLIC_URL": None,
        # The longest text accepted (a gateway's own limit is 1600 characters).
        "SMS_MAX_BODY_CHARS": 1600,
    }


def load(app: Flask, test_config: dict[str, Any] | None, *, serving: bool = True) -> None:
    base = defaults(app.instance_path)
    app.config.from_mapping(base)
    refuse_testing_from_env()
    app.config.from_prefixed_env(ENV_PREFIX)
    if test_config:
        app.config.update(test_config)
    check_types(app, base)
    if app.config["BASE_URL"].startswith("http://") and relaxed_mode(app):
        # Local development over plain HTTP: a Secure cookie would never be sent back.
        app.config["SESSION_COOKIE_SECURE"] = False
    validate(app, serving=serving)


def refuse_testing_from_env() -> None:
    """``TESTING`` turns the production checks off (and lets FIXED_NOW stop the clock): the
    test suite sets it in code (``create_app({"TESTING": True})``); an environment variable
    left on a server must not (docs/security.md, "Secret key")."""
    if f"{ENV_PREFIX}_TESTING" in os.environ:
        raise ConfigError(
            f"{ENV_PREFIX}_TESTING is not a setting: it would switch off the production checks; "
            f"unset it (the test suite sets TESTING in code)"
        )


def relaxed_mode(app: Flask) -> bool:
    return app.testing or app.config.get("ENV") == "development"


def check_types(app: Flask, base: dict[str, Any]) -> None:
    """A setting whose default is a number or a flag must stay one (one-line error otherwise)."""
    for key, default in base.items():
        value = app.config.get(key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{ENV_PREFIX}_{key} must be true or false, not {value!r}")
        elif isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a whole number, not {value!r}")
    for key in (
        "COORDINATOR_IDLE_MINUTES",
        "COORDINATOR_SESSION_HOURS",
        "PATIENT_IDLE_MINUTES",
        "PATIENT_SESSION_HOURS",
    ):
        if app.config[key] < 1:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be at least 1, not {app.config[key]!r}")
    if app.config.get("ENV") not in ("production", "development"):
        raise ConfigError(f"{ENV_PREFIX}_ENV must be production or development")
    check_database_timeouts(app)
    check_sms_secret(app)


# Twilio's auth tokens are 32 hexadecimal characters; anything much shorter is guessable.
SMS_SECRET_MIN_LENGTH = 16


def check_sms_secret(app: Flask) -> None:
    """The SMS gateway's shared secret, when set, is text of a guess-proof length."""
    secret = app.config.get("SMS_INBOUND_SECRET")
    if secret is None:
        return
    if not isinstance(secret, str) or len(secret.strip()) < SMS_SECRET_MIN_LENGTH:
        raise ConfigError(
            f"{ENV_PREFIX}_SMS_INBOUND_SECRET must be at least {SMS_SECRET_MIN_LENGTH} "
            "characters (the SMS gateway's auth token), or unset to turn replies off"
        )


def check_database_timeouts(app: Flask) -> None:
    """Every wait for the database has a bound, and a slow statement is cancelled by the
    server (connection kept) before the application gives up on the connection."""
    # libpq counts a connect timeout under 2 s as 2 s.
    minimum = {"DB_CONNECT_TIMEOUT": 2, "DB_STATEMENT_TIMEOUT": 1, "DB_READ_TIMEOUT": 1}
    for key, least in minimum.items():
        if app.config[key] < least:
            raise ConfigError(
                f"{ENV_PREFIX}_{key} must be at least {least} seconds, not {app.config[key]!r}"
            )
    if app.config["DB_READ_TIMEOUT"] <= app.config["DB_STATEMENT_TIMEOUT"]:
        raise ConfigError(
            f"{ENV_PREFIX}_DB_READ_TIMEOUT must be longer than {ENV_PREFIX}_DB_STATEMENT_TIMEOUT"
            f" ({app.config['DB_READ_TIMEOUT']!r} <= {app.config['DB_STATEMENT_TIMEOUT']!r})"
        )


def validate(app: Flask, *, serving: bool = True) -> None:
    """Refuse to serve with settings that would expose patients' data."""
    if not str(app.config["DATABASE_URL"]).startswith(("sqlite", "postgres")):
        raise ConfigError(f"{ENV_PREFIX}_DATABASE_URL must be a sqlite:// or postgresql:// URL")
    secret = app.config.get("SECRET_KEY")
    if secret is not None and not isinstance(secret, str | bytes):
        # A number read from the environment would fail every request that signs a cookie.
        raise ConfigError(str(secret_key_problem(secret)))
    if not serving or relaxed_mode(app):
        return
    problem = secret_key_problem(secret)  # the same rule as the scheduler's (tick.py)
    if problem is not None:
        raise ConfigError(problem)
    if app.debug:
        raise ConfigError("debug mode is on in production; unset FLASK_DEBUG / TRACKER_DEBUG")
    if not app.config["SESSION_COOKIE_SECURE"] or not app.config["SESSION_COOKIE_HTTPONLY"]:
        raise ConfigError(
            f"{ENV_PREFIX}_SESSION_COOKIE_SECURE and _HTTPONLY must be true in production"
        )
    if app.config["SESSION_COOKIE_SAMESITE"] not in ("Lax", "Strict"):
        raise ConfigError(f"{ENV_PREFIX}_SESSION_COOKIE_SAMESITE must be Lax or Strict")
    if not app.config.get("MAX_CONTENT_LENGTH"):
        raise ConfigError(f"{ENV_PREFIX}_MAX_CONTENT_LENGTH must be set in production")


def database_url_from_env() -> str | None:
    """The database URL as the environment gives it (used by Alembic outside the app)."""
    return os.environ.get(f"{ENV_PREFIX}_DATABASE_URL")
