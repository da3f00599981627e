"""The `tracker` console script: happy paths, and bad arguments exit 2 writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tracker.care.passwords import verify_password
from tracker.cli.commands import main
from tracker.core.models import CarePlan, Clinic, Patient, PatientLinkToken, User
from tracker.plans.links import LINK_PATH, find_valid_token


def _invoke(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_it_creates_a_clinic_and_a_coordinator(runner, session):
    result = _invoke(runner, "clinic", "create", "--name", "North Clinic", "--phone", "555-0101")
    assert result.exit_code == 0, result.output
    assert "North Clinic" in result.output

    result = _invoke(
        runner,
        "user",
        "create",
        "--clinic",
        "North Clinic",
        "--email",
        "Nurse@North.example",
        "--role",
        "admin",
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User))
    assert user.email == "nurse@north.example"
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "a-long-password")


def test_enroll_prints_the_patient_id_and_a_working_link(runner, session, clinic):
    result = _invoke(
        runner,
        "enroll",
        "--clinic",
        clinic.name,
        "--name",
        "Jo Sample",
        "--procedure",
        "kyphoplasty",
        "--procedure-date",
        "2026-11-20",
        "--timezone",
        "Europe/London",
        "--levels",
        "t12, L1",
        "--reminder-time",
        "08:30",
        "--email",
        "jo@example.org",
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(" ", 1) for line in result.output.strip().splitlines())
    patient = session.get(Patient, int(lines["patient"]))
    plan = session.scalar(select(CarePlan).where(CarePlan.patient_id == patient.id))
    assert (plan.timezone, plan.levels, plan.reminder_time.isoformat()) == (
        "Europe/London",
        "T12,L1",
        "08:30:00",
    )
    assert plan.template_id == "kyphoplasty" and plan.template_version == 2
    raw = lines["link"].split(LINK_PATH, 1)[1]
    assert len(raw) >= 43
    token = find_valid_token(session, raw, now=NOW)
    assert token is not None and token.patient_id == patient.id
    # Only the hash is stored.
    assert session.scalar(select(PatientLinkToken.token_hash)) != raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--procedure": "spinal-fusion"}, "--procedure: Choose the procedure: kyphoplasty"),
        ({"--procedure-date": "2026-02-30"}, "not a real date. Enter it as year-month-day"),
        ({"--procedure-date": "21/11/2026"}, "not a real date"),
        ({"--procedure-date": "2019-01-01"}, "Enter a procedure date between"),
        ({"--timezone": "Mars/Olympus"}, '"Mars/Olympus" is not a time zone we know'),
        ({"--timezone": "../etc/passwd"}, "is not a time zone we know"),
        ({"--reminder-time": "25:00"}, "is not a time of day"),
        ({"--reminder-time": "9am"}, "on a 24-hour clock, like 09:00"),
        ({"--levels": "Z9"}, "not a spinal level"),
        ({"--email": "not-an-email"}, "--email: Enter an email address like"),
        ({"--clinic": "Nowhere Clinic"}, "no clinic named 'Nowhere Clinic'"),
        ({"--name": "   "}, "--name: Enter the patient's full name."),
    ],
)
def test_enroll_refuses_bad_arguments_with_exit_2_and_writes_nothing(
    runner, session, clinic, change, message
):
    args = {
        "--clinic": clinic.name,
        "--name": "Jo Sample",
        "--procedure": "kyphoplasty",
        "--procedure-date": "2026-11-20",
        "--timezone": "America/Chicago",
    }
    args.update(change)
    flat = [item for pair in args.items() for item in pair]
    result = _invoke(runner, "enroll", *flat)
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.output
    assert message in error_lines[0]
    assert "Traceback" not in result.output
    assert (_count(session, Patient), _count(session, CarePlan)) == (0, 0)
    assert _count(session, PatientLinkToken) == 0


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--clinic", "Nope", "--email", "a@b.example"], "a-long-password\n", "no clinic"),
        (["--email", "bad"], "a-long-password\n", "not an email"),
        (["--email", "a@b.example"], "short\n", "at least 10 characters"),
    ],
)
def test_user_create_refuses_bad_input(runner, session, clinic, args, stdin, message):
    if "--clinic" not in args:
        args = ["--clinic", clinic.name, *args]
    result = _invoke(runner, "user", "create", *args, input=stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert _count(session, User) == 0


def test_user_create_refuses_a_duplicate_email(runner, session, clinic):
    args = ["user", "create", "--clinic", clinic.name, "--email", "a@b.example"]
    assert _invoke(runner, *args, input="a-long-password\n").exit_code == 0
    again = _invoke(runner, *args, input="a-long-password\n")
    assert again.exit_code == 2 and "already exists" in again.output
    assert _count(session, User) == 1


def test_clinic_create_refuses_a_bad_zone_and_a_duplicate(runner, session, clinic):
    bad = _invoke(
        runner,
        "clinic",
        "create",
        "--name",
        "X",
        "--phone",
        "555-0100",
        "--timezone",
        "Nowhere/City",
    )
    assert bad.exit_code == 2 and "unknown time zone" in bad.output
    dup = _invoke(runner, "clinic", "create", "--name", clinic.name, "--phone", "555-0100")
    assert dup.exit_code == 2 and "already exists" in dup.output
    assert _count(session, Clinic) == 1


def test_templates_list_show_and_validate(runner, tmp_path):
    listed = _invoke(runner, "templates", "list")
    assert listed.exit_code == 0
    assert "kyphoplasty\tv2" in listed.output and "vertebroplasty\tv2" in listed.output

    shown = _invoke(runner, "templates", "show", "kyphoplasty")
    assert shown.exit_code == 0
    assert "no_heavy_lifting" in shown.output and "10 pounds" in shown.output
    assert _invoke(runner, "templates", "show", "nope").exit_code == 2

    assert _invoke(runner, "templates", "validate").exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: broken\nversion: 1\ntitle: T\nprocedures: [x]\nduration_days: 5\n"
        "activities:\n  - {key: a, kind: nap, title: A, instructions: B,"
        " source: s, start_day: 0, end_day: 1}\n"
    )
    result = _invoke(runner, "templates", "validate", str(broken))
    assert result.exit_code == 2
    assert f"{broken}: activity 'a': field 'kind': unknown kind 'nap'" in result.output


def test_db_upgrade_is_idempotent(runner):
    result = _invoke(runner, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_user_set_password_replaces_a_forgotten_one_and_signs_the_account_out(
    runner, app, session, clinic
):
    from tests.coordinator.conftest import sign_in_as
    from tracker.core.models import AuditEvent

    create = ["user", "create", "--clinic", clinic.name, "--email", "Sam@Clinic.example"]
    assert _invoke(runner, *create, input="the-old-password\n").exit_code == 0
    user = session.scalar(select(User))
    browser = sign_in_as(app.test_client(), user)
    assert browser.get("/coordinator/").status_code == 200

    result = _invoke(
        runner, "user", "set-password", "--email", "SAM@clinic.example", input="a-new-password\n"
    )
    assert result.exit_code == 0, result.output
    assert "new password set for sam@clinic.example" in result.output
    session.expire_all()
    user = session.scalar(select(User))
    assert verify_password(user.password_hash, "a-new-password")
    assert not verify_password(user.password_hash, "the-old-password")
    # The session signed in before the change no longer works.
    assert browser.get("/coordinator/").status_code == 302
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_set"))
    assert event.detail["user_id"] == user.id


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        ("nobody@clinic.example", "a-new-password\n", "no account for nobody@clinic.example"),
        ("sam@clinic.example", "short\n", "at least 10 characters"),
    ],
)
def test_user_set_password_refuses_bad_input_and_changes_nothing(
    runner, session, clinic, email, stdin, message
):
    create = ["user", "create", "--clinic", clinic.name, "--email", "sam@clinic.example"]
    assert _invoke(runner, *create, input="the-old-password\n").exit_code == 0
    before = session.scalar(select(User.password_hash))
    result = _invoke(runner, "user", "set-password", "--email", email, input=stdin)
    assert result.exit_code == 2
    assert message in result.output
    session.expire_all()
    assert session.scalar(select(User.password_hash)) == before
    assert session.scalar(select(User.session_version)) == 0
