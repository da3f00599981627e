"""Personal-link attempts are limited per address and per link; only failures count, and a
link that works is never refused."""

from __future__ import annotations

import pytest

from tests.conftest import make_test_app
from tests.patient.conftest import text_of

PAUSED = "Please wait a few minutes"


@pytest.fixture
def app(app):
    app.config.update(LINK_LIMIT_PER_ADDRESS="4 per 15 minutes", LINK_LIMIT_PER_TOKEN="2 per hour")
    return app


def _open(client, token, address="192.0.2.10"):
    return client.get(f"/p/{token}", environ_base={"REMOTE_ADDR": address})


def test_failed_links_from_one_address_are_paused(client, enrolled):
    for n in range(4):
        assert _open(client, f"made-up-token-{n:04d}-xxxxxxxxxxxxxxxx").status_code == 404
    paused = _open(client, "made-up-token-9999-xxxxxxxxxxxxxxxx")
    assert paused.status_code == 429
    assert PAUSED in text_of(paused) and "call your clinic" in text_of(paused)
    # A link that works always works, even from the paused address (a clinic's Wi-Fi, a
    # carrier's NAT): only links that do not work are counted and paused.
    assert _open(client, enrolled.link_token).status_code == 302
    assert _open(client, "made-up-token-9998-xxxxxxxxxxxxxxxx").status_code == 429
    assert _open(client, enrolled.link_token, address="198.51.100.7").status_code == 302


def test_the_same_dead_link_is_paused_from_any_address(client, enrolled):
    dead = "an-old-revoked-looking-token-abcdefghijkl"
    assert _open(client, dead, "203.0.113.1").status_code == 404
    assert _open(client, dead, "203.0.113.2").status_code == 404
    assert _open(client, dead, "203.0.113.3").status_code == 429
    # Only that link: the patient's own link still works from a fresh address.
    assert _open(client, enrolled.link_token, "203.0.113.4").status_code == 302


def test_opening_a_good_link_again_and_again_is_never_limited(client, enrolled):
    for _ in range(8):
        assert _open(client, enrolled.link_token).status_code == 302


def test_with_redis_unreachable_links_still_work_and_limits_still_apply(database_url, enrolled):
    app = make_test_app(
        database_url,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens on port 1
        LINK_LIMIT_PER_ADDRESS="2 per 15 minutes",
    )
    try:
        client = app.test_client()
        statuses = [
            _open(client, f"made-up-token-{n:04d}-xxxxxxxxxxxxxxxx").status_code for n in range(3)
        ]
        assert statuses == [404, 404, 429]  # counted in this process's memory meanwhile
        assert _open(client, enrolled.link_token, "198.51.100.9").status_code == 302
    finally:
        app.extensions["tracker.engine"].dispose()
