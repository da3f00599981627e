"""Configuration comes from TRACKER_* variables and fails closed without a real secret key."""

from __future__ import annotations

import secrets

import pytest

from tracker.app import create_app
from tracker.core.config import ConfigError

GOOD_SECRET = secrets.token_urlsafe(48)  # a key written here would be a published one


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("TRACKER_SECRET_KEY", "TRACKER_DATABASE_URL", "TRACKER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me"])
def test_it_refuses_to_serve_without_a_real_secret_key(clean_env, secret):
    if secret is not None:
        clean_env.setenv("TRACKER_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY is missing or a known default"):
        create_app()


def test_it_reads_prefixed_environment_variables(clean_env):
    clean_env.setenv("TRACKER_SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("TRACKER_BASE_URL", "https://recovery.example.org")
    clean_env.setenv("TRACKER_LINK_GRACE_DAYS", "30")
    app = create_app()
    assert app.config["BASE_URL"] == "https://recovery.example.org"
    assert app.config["LINK_GRACE_DAYS"] == 30
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_operator_commands_run_without_a_secret_key(clean_env):
    app = create_app(serving=False)
    assert app.config["SECRET_KEY"] is None


def test_it_refuses_an_unsupported_database_url(clean_env):
    clean_env.setenv("TRACKER_SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("TRACKER_DATABASE_URL", "mysql://root@localhost/x")
    with pytest.raises(ConfigError, match="TRACKER_DATABASE_URL"):
        create_app()


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_test_clock_is_ignored_outside_testing(monkeypatch, tmp_path):
    from datetime import UTC, datetime

    from tracker.core.clock import request_now

    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/clock.db")
    monkeypatch.setenv("TRACKER_SECRET_KEY", GOOD_SECRET)
    app = create_app({"FIXED_NOW": datetime(2020, 1, 1, tzinfo=UTC)})
    with app.app_context():
        assert request_now().year >= 2026
    app.testing = True
    with app.app_context():
        assert request_now() == datetime(2020, 1, 1, tzinfo=UTC)
