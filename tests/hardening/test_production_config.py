"""Fail closed: the app refuses to serve with settings that would expose patients' data."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tracker.app import create_app
from tracker.core.config import ConfigError

# Generated: a key written here would be a published one, which the app refuses.
GOOD_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
def prod_env(monkeypatch, tmp_path):
    for name in ("TRACKER_SECRET_KEY", "TRACKER_ENV", "FLASK_DEBUG", "TRACKER_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    monkeypatch.setenv("TRACKER_SECRET_KEY", GOOD_SECRET)
    return monkeypatch


def test_it_starts_with_a_sound_production_config(prod_env):
    app = create_app()
    assert not app.debug
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRACKER_SECRET_KEY", "short", "TRACKER_SECRET_KEY is too weak"),
        ("TRACKER_DEBUG", "true", "debug mode is on in production"),
        ("FLASK_DEBUG", "1", "debug mode is on in production"),
        ("TRACKER_SESSION_COOKIE_SECURE", "false", "SESSION_COOKIE_SECURE and _HTTPONLY"),
        ("TRACKER_SESSION_COOKIE_HTTPONLY", "false", "SESSION_COOKIE_SECURE and _HTTPONLY"),
        ("TRACKER_SESSION_COOKIE_SAMESITE", '"None"', "SAMESITE must be Lax or Strict"),
        ("TRACKER_MAX_CONTENT_LENGTH", "0", "MAX_CONTENT_LENGTH must be set"),
        ("TRACKER_LINK_GRACE_DAYS", "fourteen", "TRACKER_LINK_GRACE_DAYS must be a whole number"),
        ("TRACKER_SMTP_STARTTLS", "maybe", "TRACKER_SMTP_STARTTLS must be true or false"),
        ("TRACKER_ENV", "staging", "TRACKER_ENV must be production or development"),
    ],
)
def test_it_refuses_an_unsafe_or_malformed_setting(prod_env, variable, value, message):
    prod_env.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_gunicorns_entry_point_fails_with_one_line_naming_the_setting(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/w.db"}
    result = subprocess.run(
        [sys.executable, "-c", "import tracker.app.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "recovery tracker cannot start: TRACKER_SECRET_KEY is missing or a known default; "
        "set it to a long random value"
    ]


def test_the_cli_reports_a_bad_variable_in_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
        "TRACKER_LINK_GRACE_DAYS": "soon",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli.commands", "templates", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: TRACKER_LINK_GRACE_DAYS must be a whole number, not 'soon'"
    )


def test_only_a_serving_app_warns_of_per_process_rate_limits(prod_env, caplog):
    warning = "TRACKER_RATELIMIT_STORAGE_URI is memory://"
    with caplog.at_level("WARNING", logger="tracker"):
        create_app(serving=False)  # `tracker clinic create`, `enroll`, ...: one-shot commands
    assert warning not in caplog.text
    with caplog.at_level("WARNING", logger="tracker"):
        create_app()
    assert warning in caplog.text
