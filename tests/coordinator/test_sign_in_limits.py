"""Sign-in limits slow an attacker without locking out the owner (docs/security.md, "Sign-in
limits"; OWASP ASVS 5.0 V6.1.1, V6.3.1), refusals take the same time whatever the account,
and creating an account tells an admin nothing about other clinics' staff."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.coordinator.conftest import PASSWORD
from tracker.care import auth as coordinator_auth
from tracker.core.models import AuditEvent, User

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"


def sign_in(client, email, password=PASSWORD, address=OWNER):
    return client.post(
        "/coordinator/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(app, client, coordinator):
    for n in range(12):
        assert sign_in(client, coordinator.email, f"guess {n}", ATTACKER).status_code in (401, 429)
    # The attacker's address is paused for this account, even with the right password ...
    assert sign_in(client, coordinator.email, PASSWORD, ATTACKER).status_code == 429
    # ... but the owner, from their own address, signs in at once.
    assert sign_in(app.test_client(), coordinator.email).status_code == 302


def test_an_address_is_paused_after_five_wrong_passwords_for_one_account(client, coordinator):
    statuses = [sign_in(client, coordinator.email, f"guess {n}", ATTACKER) for n in range(6)]
    assert [r.status_code for r in statuses] == [401] * 5 + [429]
    assert "Too many sign-in attempts" in statuses[-1].get_data(as_text=True)
    # Another account from that address is not paused by this one's failures.
    assert sign_in(client, "someone-else@example.org", "nope", ATTACKER).status_code == 401


def test_a_right_password_clears_the_owners_own_failures(app, coordinator):
    client = app.test_client()
    for _ in range(4):
        assert sign_in(client, coordinator.email, "typo").status_code == 401
    assert sign_in(client, coordinator.email).status_code == 302
    client = app.test_client()
    for _ in range(4):  # four more typos are allowed again: the success reset the count
        assert sign_in(client, coordinator.email, "typo").status_code == 401
    assert sign_in(client, coordinator.email).status_code == 302


def test_many_successes_from_one_clinic_address_are_never_paused(database_url, make_user, clinic):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=False, SIGNIN_LIMIT_PER_ADDRESS="3 per hour")
    users = [make_user(clinic, email=f"nurse{n}@example.org") for n in range(6)]
    try:
        for user in users:  # a whole ward signing in through the clinic's one address
            assert sign_in(app.test_client(), user.email).status_code == 302
    finally:
        app.extensions["tracker.engine"].dispose()


def test_guesses_from_many_addresses_pause_new_addresses_but_not_the_owners(
    database_url, coordinator
):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=False, SIGNIN_LIMIT_PER_ACCOUNT="4 per hour")
    try:
        assert sign_in(app.test_client(), coordinator.email).status_code == 302  # usual desk
        client = app.test_client()
        for n in range(4):  # a botnet: each address stays under its own limits
            assert sign_in(client, coordinator.email, "x", f"192.0.2.{n}").status_code == 401
        assert sign_in(client, coordinator.email, "x", "192.0.2.99").status_code == 429
        assert sign_in(client, coordinator.email, PASSWORD, "192.0.2.98").status_code == 429
        # The owner's known address still gets in, with the right password only.
        assert sign_in(client, coordinator.email, "x", OWNER).status_code == 401
        assert sign_in(app.test_client(), coordinator.email).status_code == 302
    finally:
        app.extensions["tracker.engine"].dispose()


def test_concurrent_guesses_cannot_exceed_the_limit(app, coordinator, monkeypatch):
    checked: list[str] = []
    real_verify = coordinator_auth.verify_password

    def counting_verify(password_hash, password):
        checked.append(password)
        time.sleep(0.02)  # keep requests overlapping
        return real_verify(password_hash, password)

    monkeypatch.setattr(coordinator_auth, "verify_password", counting_verify)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def guess(n: int) -> None:
        client = app.test_client()
        start.wait()
        status = sign_in(client, coordinator.email, f"guess {n}", ATTACKER).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 40
    assert statuses.count(401) == 5 and statuses.count(429) == 35
    assert len(checked) == 5  # a refused guess is never checked


def _median_seconds(client, email, password, address, times=5):
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        assert sign_in(client, email, password, address).status_code == 401
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def test_a_disabled_account_costs_one_password_check_like_any_other(
    app, session, coordinator, make_user, clinic, monkeypatch
):
    disabled = make_user(clinic, email="gone@example.org")
    disabled.is_active = False
    session.commit()
    hashes: list[str] = []
    real_verify = coordinator_auth.verify_password

    def spy(password_hash, password):
        hashes.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(coordinator_auth, "verify_password", spy)
    client = app.test_client()
    for email, address in (
        (disabled.email, "192.0.2.1"),  # disabled, with its right password
        ("nobody@example.org", "192.0.2.2"),
        (coordinator.email, "192.0.2.3"),  # wrong password below
    ):
        hashes.clear()
        password = PASSWORD if email == disabled.email else "wrong password"
        assert sign_in(client, email, password, address).status_code == 401
        assert len(hashes) == 1, email
    monkeypatch.undo()
    # And the time taken says nothing: a disabled account is not answered faster.
    enabled = _median_seconds(client, coordinator.email, "wrong", "192.0.2.10", 4)
    gone = _median_seconds(client, disabled.email, PASSWORD, "192.0.2.11", 4)
    assert gone > enabled / 3, (gone, enabled)


def _form_of(page: str, typed: str) -> str:
    return page[page.index("<h2>Create an account</h2>") :].replace(typed, "X")


def _create(admin_client, email):
    form = {"name": "New Nurse", "email": email, "role": "coordinator", "password": "x" * 16}
    return admin_client.post("/coordinator/admin/users", data=form)


def test_creating_an_account_does_not_reveal_another_clinics_staff(
    admin_client, admin, session, make_user, other_clinic
):
    theirs = make_user(other_clinic, email="their.nurse@other.example")
    elsewhere = _create(admin_client, theirs.email)
    here = _create(admin_client, admin.email)
    assert elsewhere.status_code == here.status_code == 400
    page = elsewhere.get_data(as_text=True)
    assert "cannot be used for a new account" in page
    assert "exists" not in page and other_clinic.name not in page
    # The form as it came back, apart from the address typed: the same answer either way.
    assert _form_of(page, theirs.email) == _form_of(here.get_data(as_text=True), admin.email)
    refused = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.create_refused")
    ).all()
    assert len(refused) == 2 and all(e.clinic_id == admin.clinic_id for e in refused)


def test_an_admin_cannot_list_other_clinics_staff_by_trying_addresses(
    app, admin_client, session, make_user, other_clinic
):
    app.config["ACCOUNT_EMAIL_REFUSALS_LIMIT_PER_ADMIN"] = "3 per hour"
    staff = [make_user(other_clinic, email=f"staff{n}@other.example") for n in range(5)]
    statuses = [_create(admin_client, user.email).status_code for user in staff]
    assert statuses == [400, 400, 400, 429, 429]
    # Paused: even an unused address is not looked up now, so nothing more is learnt.
    fresh = _create(admin_client, "fresh@example.org")
    assert fresh.status_code == 429
    assert "Too many email addresses" in fresh.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(User)) == 6


@pytest.mark.parametrize(
    "setting",
    [
        "SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS",
        "SIGNIN_LIMIT_PER_ACCOUNT",
        "SIGNIN_KNOWN_ADDRESS_DAYS",
        "ACCOUNT_EMAIL_REFUSALS_LIMIT_PER_ADMIN",
    ],
)
def test_the_new_limit_settings_are_checked_at_start(database_url, setting):
    from tracker.core.config import ConfigError

    with pytest.raises(ConfigError, match=f"TRACKER_{setting}"):
        make_test_app(database_url, **{setting: "lots"})
