"""Signing in and out: argon2 passwords, rate limits, safe redirects, revocable sessions."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.conftest import IN_CI, make_test_app
from tests.coordinator.conftest import PASSWORD, sign_in_as
from tracker.care.passwords import needs_rehash
from tracker.core.models import AuditEvent, User


def sign_in(client, email, password=PASSWORD, next_url=None, headers=None):
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/coordinator/login", data=data, headers=headers or {})


def test_it_signs_a_coordinator_in_and_shows_the_triage_list(client, session, coordinator):
    response = sign_in(client, coordinator.email.upper())  # email is case-insensitive
    assert response.status_code == 302
    assert response.location == "/coordinator/"
    page = client.get("/coordinator/")
    assert page.status_code == 200
    assert "Triage: Test Spine Clinic" in page.get_data(as_text=True)
    session.refresh(coordinator)
    assert coordinator.last_login_at is not None
    assert session.scalar(select(AuditEvent.action)) == "user.sign_in"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("coordinator-1@example.org", "wrong password"),
        ("nobody@example.org", PASSWORD),
        ("", ""),
        ("x" * 300 + "@example.org", PASSWORD),
    ],
)
def test_it_refuses_bad_credentials_with_one_message(client, coordinator, email, password):
    email = email.replace("coordinator-1", coordinator.email.split("@")[0])
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/coordinator/").status_code == 302


def test_it_refuses_a_disabled_account(client, session, coordinator):
    coordinator.is_active = False
    session.commit()
    assert sign_in(client, coordinator.email).status_code == 401


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/coordinator/exports", "/coordinator/exports"),
        ("https://evil.example/", "/coordinator/"),
        ("//evil.example/", "/coordinator/"),
        ("/\\evil.example", "/coordinator/"),
        ("javascript:alert(1)", "/coordinator/"),
    ],
)
def test_it_redirects_after_sign_in_only_within_the_site(client, coordinator, next_url, expected):
    assert sign_in(client, coordinator.email, next_url=next_url).location == expected


def test_sign_out_ends_every_copy_of_the_session(app, client, session, coordinator):
    sign_in(client, coordinator.email)
    cookie = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/coordinator/").status_code == 200

    response = client.post("/coordinator/logout")
    assert response.location == "/coordinator/login"
    assert client.get("/coordinator/").status_code == 302
    assert copy.get("/coordinator/").status_code == 302  # the copied cookie no longer works
    session.refresh(coordinator)
    assert coordinator.session_version == 1


def test_it_rate_limits_failed_sign_ins_per_account(client, coordinator):
    for _ in range(5):
        assert sign_in(client, coordinator.email, "wrong password").status_code == 401
    blocked = sign_in(client, coordinator.email)  # from this address, even the right one waits
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is not locked by this one's failures.
    assert sign_in(client, "someone-else@example.org", "nope").status_code == 401


def test_successful_sign_ins_do_not_count_against_the_limit(app, coordinator):
    for _ in range(8):
        client = app.test_client()
        assert sign_in(client, coordinator.email).status_code == 302


def test_it_rate_limits_failed_sign_ins_per_address(database_url, session, make_user, clinic):
    app = make_test_app(
        database_url, WTF_CSRF_ENABLED=False, SIGNIN_LIMIT_PER_ADDRESS="3 per minute"
    )
    client = app.test_client()
    for n in range(3):
        assert sign_in(client, f"guess{n}@example.org", "x").status_code == 401
    assert sign_in(client, "guess9@example.org", "x").status_code == 429
    app.extensions["tracker.engine"].dispose()


def test_it_upgrades_an_old_password_hash_on_sign_in(client, session, coordinator):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    coordinator.password_hash = weak
    session.commit()
    assert needs_rehash(weak)
    assert sign_in(client, coordinator.email).status_code == 302
    session.refresh(coordinator)
    assert coordinator.password_hash != weak
    assert not needs_rehash(coordinator.password_hash)


def test_it_sets_secure_httponly_samesite_cookies(database_url, coordinator):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=False, BASE_URL="https://clinic.example")
    response = sign_in(app.test_client(), coordinator.email)
    cookie = response.headers["Set-Cookie"]
    assert re.search(r"; Secure", cookie)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    app.extensions["tracker.engine"].dispose()


def test_a_disabled_account_is_signed_out_at_once(app, session, coordinator):
    client = sign_in_as(app.test_client(), coordinator)
    assert client.get("/coordinator/").status_code == 200
    session.get(User, coordinator.id).is_active = False
    session.commit()
    assert client.get("/coordinator/").status_code == 302


def test_the_sign_in_page_is_a_plain_form(client):
    page = client.get("/coordinator/login").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page
    assert "<script" not in page


def _redis_reachable() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_workers_share_sign_in_counts_through_redis(database_url, coordinator):
    """Production with several workers: the counts live in Redis, not in one process."""
    import uuid

    if not _redis_reachable():
        # CI must run this test (no silent skips there); elsewhere Redis is optional.
        if IN_CI:
            pytest.fail("Redis on 127.0.0.1:6379 is unreachable (CI requires Redis)")
        pytest.skip("no Redis on 127.0.0.1:6379")

    config = {
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"tracker-test-{uuid.uuid4().hex}",
        "SIGNIN_LIMIT_PER_ACCOUNT": "2 per minute",
    }
    first_worker = make_test_app(database_url, **config)
    for _ in range(2):
        assert sign_in(first_worker.test_client(), coordinator.email, "wrong").status_code == 401
    second_worker = make_test_app(database_url, **config)
    assert sign_in(second_worker.test_client(), coordinator.email).status_code == 429
    for worker in (first_worker, second_worker):
        worker.extensions["tracker.engine"].dispose()
    import redis

    with redis.Redis(host="127.0.0.1", port=6379) as client:
        keys = list(client.scan_iter(match=f"*{config['RATELIMIT_KEY_PREFIX']}*"))
        if keys:
            client.delete(*keys)


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(database_url, coordinator, session):
    app = make_test_app(
        database_url, WTF_CSRF_ENABLED=False, PROXY_FIX=1, SIGNIN_LIMIT_PER_ADDRESS="2 per minute"
    )
    client = app.test_client()
    for _ in range(2):
        sign_in(client, "x@example.org", "bad", headers={"X-Forwarded-For": "203.0.113.7"})
    assert (
        sign_in(
            client, "y@example.org", "bad", headers={"X-Forwarded-For": "203.0.113.7"}
        ).status_code
        == 429
    )
    # Another client behind the same proxy is not locked out by the first one.
    ok = sign_in(client, coordinator.email, headers={"X-Forwarded-For": "198.51.100.9"})
    assert ok.status_code == 302
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in")).one()
    assert event.remote_addr == "198.51.100.9"
    app.extensions["tracker.engine"].dispose()
