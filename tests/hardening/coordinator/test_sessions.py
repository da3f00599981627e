"""Care team sessions: new on sign-in, ended by sign-out everywhere, and by time.

The idle and absolute limits are kept in the signed cookie, so a copied cookie expires as the
original would; sign-out bumps the account's ``session_version`` (server side), so a copy
stops working at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, make_test_app
from tests.coordinator.conftest import PASSWORD
from tracker.core.config import ConfigError


def _sign_in(client, email, next_url=None):
    data = {"email": email, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/coordinator/login", data=data)


def _at(app, minutes: float) -> None:
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=minutes)


def _copy(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_sign_in_starts_a_new_session(app, client, coordinator):
    with client.session_transaction() as sess:
        sess["patient_id"] = 12345  # someone else's session on this browser
        sess["planted"] = "value set before sign-in"
    before = client.get_cookie("session").value
    assert _sign_in(client, coordinator.email).status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as sess:
        assert "patient_id" not in sess and "planted" not in sess
        assert sess["_user_id"] == f"{coordinator.id}:{coordinator.session_version}"


def test_sign_out_ends_a_copied_cookie_on_the_server(app, client, coordinator):
    _sign_in(client, coordinator.email)
    copy = _copy(app, client)
    assert copy.get("/coordinator/").status_code == 200
    client.post("/coordinator/logout")
    assert copy.get("/coordinator/").status_code == 302
    assert copy.get("/coordinator/exports/pain.csv").status_code == 302


def test_an_idle_session_ends_after_the_configured_minutes(app, client, coordinator):
    assert app.config["COORDINATOR_IDLE_MINUTES"] == 30
    _sign_in(client, coordinator.email)
    copy = _copy(app, client)  # taken at sign-in, then never used
    _at(app, 29)
    assert client.get("/coordinator/").status_code == 200  # activity keeps it alive
    _at(app, 45)
    assert copy.get("/coordinator/").status_code == 302  # the copy was idle for 45 minutes
    assert client.get("/coordinator/").status_code == 200  # idle for 16 minutes only
    _at(app, 45 + 31)
    expired = client.get("/coordinator/exports")
    assert expired.status_code == 302
    assert expired.location.startswith("/coordinator/login?next=")
    assert expired.location.endswith("next=/coordinator/exports")
    page = client.get(expired.location).get_data(as_text=True)
    assert "You were signed out to keep patient data safe. Please sign in again." in page
    assert client.get("/coordinator/").status_code == 302  # still signed out


def test_a_session_ends_after_the_longest_allowed_time_whatever_the_activity(
    app, client, coordinator
):
    _sign_in(client, coordinator.email)
    minutes = 0
    while minutes < 12 * 60:
        _at(app, minutes)
        assert client.get("/coordinator/").status_code == 200, minutes
        minutes += 25
    _at(app, 12 * 60 + 1)
    assert client.get("/coordinator/").status_code == 302


def test_a_cookie_without_session_times_is_not_accepted(app, client, coordinator):
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{coordinator.id}:{coordinator.session_version}"
        sess["_fresh"] = True
    assert client.get("/coordinator/").status_code == 302


def test_health_checks_neither_end_nor_extend_a_session(app, client, coordinator):
    _sign_in(client, coordinator.email)
    _at(app, 20)
    client.get("/livez")
    _at(app, 31)
    assert client.get("/coordinator/").status_code == 302  # /livez was not activity


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("COORDINATOR_IDLE_MINUTES", "thirty"),
        ("COORDINATOR_IDLE_MINUTES", 0),
        ("COORDINATOR_SESSION_HOURS", -1),
    ],
)
def test_a_bad_timeout_setting_fails_at_start(database_url, setting, value):
    with pytest.raises(ConfigError) as failed:
        make_test_app(database_url, **{setting: value})
    assert f"TRACKER_{setting}" in str(failed.value) and "\n" not in str(failed.value)
