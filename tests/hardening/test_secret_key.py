"""One secret-key rule for every process that relies on the key (tracker/core/secret_key.py):
the web app in production, the scheduler and ``tracker reminders tick``. Reminder links are
derived from the key, so a weak scheduler key would let anyone forge a patient's link."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tests.conftest import TEST_SECRET_KEY
from tracker.app import create_app
from tracker.cli.reminders import reminders_group, scheduler_command
from tracker.core.config import ConfigError
from tracker.core.secret_key import secret_key_problem
from tracker.scheduler.tick import require_secret_key

WEAK_KEYS = {
    "short": "x9-Qm2",
    "24 spaces": " " * 24,
    "32 spaces": " " * 32,
    "identical letters": "a" * 24,
    "identical letters, long": "a" * 64,
    "two letters": "ab" * 20,
    "repeated word": "password" * 4 + "1",
    "digits in order": "123456789012345678901234567890123",
    "alphabet": "abcdefghijklmnopqrstuvwxyz012345",
    "the test suite's key": TEST_SECRET_KEY,
    "the test suite's key, upper case": TEST_SECRET_KEY.upper(),
    "a default with spaces": "  change-me  ",
}


REFUSED = r"TRACKER_SECRET_KEY (is too weak|is missing or a known|must be text)"


@pytest.fixture
def prod_env(monkeypatch, tmp_path):
    for name in ("TRACKER_SECRET_KEY", "TRACKER_ENV", "TRACKER_TESTING", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/k.db")
    return monkeypatch


@pytest.mark.parametrize("key", list(WEAK_KEYS.values()), ids=list(WEAK_KEYS))
def test_the_web_app_refuses_a_weak_or_published_key(prod_env, key):
    prod_env.setenv("TRACKER_SECRET_KEY", key)
    with pytest.raises(ConfigError, match=REFUSED):
        create_app()


@pytest.mark.parametrize("key", list(WEAK_KEYS.values()), ids=list(WEAK_KEYS))
def test_the_scheduler_refuses_the_same_keys(prod_env, key):
    # The scheduler runs with serving=False; it used to accept anything but a few defaults.
    app = create_app({"SECRET_KEY": key}, serving=False)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY"):
        require_secret_key(app)
    runner = app.test_cli_runner()
    for command, args in ((reminders_group, ["tick"]), (scheduler_command, [])):
        result = runner.invoke(command, args)
        assert result.exit_code == 2, result.output
        assert "TRACKER_SECRET_KEY" in result.output
        assert key.strip() == "" or key not in result.output  # never echoed
    app.extensions["tracker.engine"].dispose()


def test_a_numeric_key_stops_every_process_at_start(prod_env):
    # Read as a JSON number, it used to pass start-up and then fail every request.
    prod_env.setenv("TRACKER_SECRET_KEY", "123456789012345678901234567890123")
    for serving in (True, False):
        with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY must be text"):
            create_app(serving=serving)


def test_the_web_app_and_the_scheduler_accept_generated_keys(prod_env):
    for key in (secrets.token_urlsafe(48), secrets.token_urlsafe(24), secrets.token_hex(16)):
        assert secret_key_problem(key) is None
        prod_env.setenv("TRACKER_SECRET_KEY", key)
        app = create_app()
        require_secret_key(app)
        app.extensions["tracker.engine"].dispose()


def test_generated_keys_are_never_refused():
    # The weakest usual generator (128 bits of hex) must pass every time.
    refused = [k for k in (secrets.token_hex(16) for _ in range(20000)) if secret_key_problem(k)]
    assert refused == []


def test_tracker_testing_in_the_environment_does_not_switch_off_the_checks(prod_env):
    prod_env.setenv("TRACKER_SECRET_KEY", "dev")
    prod_env.setenv("TRACKER_TESTING", "true")
    with pytest.raises(ConfigError, match="TRACKER_TESTING is not a setting"):
        create_app()
    with pytest.raises(ConfigError, match="TRACKER_TESTING is not a setting"):
        create_app(serving=False)  # the scheduler and the CLI too


def test_the_test_suites_own_apps_still_work(database_url):
    # TESTING set in code, as tests/conftest.py make_test_app does.
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "dev"})
    require_secret_key(app)
    assert app.test_client().get("/livez").status_code == 200
    app.extensions["tracker.engine"].dispose()


def test_gunicorn_refuses_tracker_testing_in_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "TRACKER_TESTING": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import tracker.app.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "TRACKER_TESTING is not a setting" in result.stderr
