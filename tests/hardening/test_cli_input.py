"""Input rules for the `tracker` command (docs/security.md, "Input rules").

Bad arguments are a one-line error and exit 2 with nothing written, on SQLite and on
PostgreSQL: an unknown migration revision, control characters in any argument, names
longer than their column or holding line breaks, and `right/` or `posix/` time zones.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.conftest import NOW
from tracker.cli.commands import main
from tracker.core.config import REPO_ROOT
from tracker.core.models import Clinic, Patient, User
from tracker.core.timeutil import BadTimezone, common_timezones, is_valid_timezone, zone
from tracker.plans.enrollment import EnrollmentError, validate_request
from tracker.plans.templates import load_directory

PASSWORD_STDIN = "a-long-password\n"
TEMPLATES = load_directory(str(REPO_ROOT / "schedules"))


def _invoke(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _counts(session) -> dict:
    return {m.__name__: _count(session, m) for m in (Clinic, User, Patient)}


def _assert_one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # not an exception's traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], result.output


def _enroll_args(clinic: str, **override: str) -> list[str]:
    values = {
        "--clinic": clinic,
        "--name": "Jo Sample",
        "--procedure": "kyphoplasty",
        "--procedure-date": "2026-11-20",
        "--timezone": "Europe/London",
    } | override
    return ["enroll", *[part for pair in values.items() for part in pair]]


# --- migrations -----------------------------------------------------------------------------


def _schema_version(app) -> str:
    with app.extensions["tracker.engine"].connect() as conn:
        return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))


@pytest.mark.parametrize(
    "args",
    [
        ["db", "downgrade", "nonsense"],
        ["db", "downgrade", ""],
        ["db", "downgrade", "   "],
        ["db", "downgrade", "abc:def"],
        ["db", "upgrade", "--revision", "nonsense"],
        ["db", "upgrade", "--revision", ""],
    ],
)
def test_an_unknown_revision_is_a_one_line_error(backend, app, runner, args):
    before = _schema_version(app)
    result = _invoke(runner, *args)
    _assert_one_line_error(result, "revision")
    assert _schema_version(app) == before


def test_the_console_script_prints_no_traceback_for_an_unknown_revision(tmp_path):
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("TRACKER_ENV", None)
    upgrade = [sys.executable, "-m", "tracker", "db", "upgrade"]
    subprocess.run(upgrade, env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "db", "downgrade", "nonsense"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Error: " in done.stderr and "nonsense" in done.stderr


# --- control characters in any argument ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["clinic", "create", "--name", "North\x00", "--phone", "555-0101"], None),
        (["clinic", "create", "--name", "North", "--phone", "555-0101\x1b[2J"], None),
        (["user", "create", "--clinic", "{clinic}", "--email", "a\x00@b.org"], PASSWORD_STDIN),
        (["user", "set-password", "--email", "a\x00@b.org"], PASSWORD_STDIN),
        (["clinic", "create", "--name", "N", "--phone", "555-0101", "--timezone", "UTC\x00"], None),
        (["templates", "show", "kyphoplasty\x00"], None),
        (["templates", "validate", "schedules/\x00"], None),
        (["enroll", "--clinic", "{clinic}\x00", "--name", "Jo"], None),
    ],
)
def test_a_control_character_in_any_argument_is_refused(
    backend, runner, session, clinic, args, stdin
):
    before = _counts(session)
    result = _invoke(runner, *[a.replace("{clinic}", clinic.name) for a in args], input=stdin)
    _assert_one_line_error(result, "control character")
    assert "\x00" not in result.output and "\x1b" not in result.output
    assert _counts(session) == before


def test_a_password_the_sign_in_form_would_refuse_is_not_set(backend, runner, session, clinic):
    args = ["user", "create", "--clinic", clinic.name, "--email", "tab@example.org"]
    result = _invoke(runner, *args, input="a-long\tpassword\n")
    _assert_one_line_error(result, "control characters")
    assert _count(session, User) == 0


# --- names: their column's length, and no line breaks ------------------------------------------


@pytest.mark.parametrize("length", [201, 5000])
@pytest.mark.parametrize("kind", ["clinic", "user", "patient"])
def test_a_name_longer_than_its_column_is_refused_on_every_database(
    backend, runner, session, clinic, kind, length
):
    name = "N" * length
    before = _counts(session)
    if kind == "clinic":
        result = _invoke(runner, "clinic", "create", "--name", name, "--phone", "555-0101")
    elif kind == "user":
        result = _invoke(
            runner,
            "user",
            "create",
            "--clinic",
            clinic.name,
            "--email",
            "long@example.org",
            "--name",
            name,
            input=PASSWORD_STDIN,
        )
    else:
        result = _invoke(runner, *_enroll_args(clinic.name, **{"--name": name}))
    _assert_one_line_error(result, "--name", "200")
    assert _counts(session) == before


@pytest.mark.parametrize("kind", ["clinic", "user", "patient"])
def test_a_name_of_exactly_the_column_length_is_kept(backend, runner, session, clinic, kind):
    name = "N" * 200
    if kind == "clinic":
        result = _invoke(runner, "clinic", "create", "--name", name, "--phone", "555-0101")
        stored = select(Clinic.name).where(Clinic.name == name)
    elif kind == "user":
        result = _invoke(
            runner,
            "user",
            "create",
            "--clinic",
            clinic.name,
            "--email",
            "long@example.org",
            "--name",
            name,
            input=PASSWORD_STDIN,
        )
        stored = select(User.name)
    else:
        result = _invoke(runner, *_enroll_args(clinic.name, **{"--name": name}))
        stored = select(Patient.name)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.scalar(stored) == name


@pytest.mark.parametrize(
    "name",
    ["North\r\nINFO tracker.reminders forged", "North\nClinic", "North\u2028Clinic", "North\x85"],
)
def test_a_clinic_name_with_a_line_break_is_refused(backend, runner, session, name):
    result = _invoke(runner, "clinic", "create", "--name", name, "--phone", "555-0101")
    _assert_one_line_error(result)
    assert "\n" not in result.output.strip() and "\u2028" not in result.output
    assert _count(session, Clinic) == 0


@pytest.mark.parametrize("flag", ["--name"])
def test_a_user_or_patient_name_with_a_line_break_is_refused(
    backend, runner, session, clinic, flag
):
    before = _counts(session)
    user = _invoke(
        runner,
        "user",
        "create",
        "--clinic",
        clinic.name,
        "--email",
        "nurse@example.org",
        flag,
        "Nurse\u2029Two",
        input=PASSWORD_STDIN,
    )
    _assert_one_line_error(user)
    patient = _invoke(runner, *_enroll_args(clinic.name, **{flag: "Pat\rForged"}))
    _assert_one_line_error(patient)
    assert _counts(session) == before


# --- time zones ---------------------------------------------------------------------------------


BAD_ZONES = [
    "right/America/New_York",
    "posix/Europe/London",
    "right/UTC",
    "posix/UTC",
    "posixrules",
    "localtime",
]


@pytest.mark.parametrize("name", BAD_ZONES)
def test_right_and_posix_zones_are_not_time_zones(name):
    with pytest.raises(BadTimezone, match="IANA"):
        zone(name)
    assert not is_valid_timezone(name)
    with pytest.raises(EnrollmentError) as refused:
        validate_request(
            name="Jo",
            procedure="kyphoplasty",
            procedure_date="2026-11-20",
            timezone=name,
            templates=TEMPLATES,
            now=NOW,
        )
    assert refused.value.field == "timezone"


def test_no_listed_zone_is_a_right_or_posix_one():
    listed = common_timezones()
    assert "Europe/London" in listed
    assert not [z for z in listed if z.split("/")[0] in ("right", "posix")]
    assert all(is_valid_timezone(z) for z in listed)


@pytest.mark.parametrize("name", ["right/America/New_York", "posix/Europe/London"])
def test_the_cli_refuses_right_and_posix_zones(backend, runner, session, clinic, name):
    before = _counts(session)
    made = _invoke(
        runner, "clinic", "create", "--name", "North", "--phone", "555-0101", "--timezone", name
    )
    _assert_one_line_error(made, "time zone")
    enrolled = _invoke(runner, *_enroll_args(clinic.name, **{"--timezone": name}))
    _assert_one_line_error(enrolled, "time zone")
    assert _counts(session) == before
