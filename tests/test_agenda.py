"""What is due on a local day: computed from the plan, across days, zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tracker.core.config import REPO_ROOT
from tracker.core.db import session_factory
from tracker.core.models import CarePlan
from tracker.core.timeutil import local_day, local_wall_time_to_utc
from tracker.plans.agenda import agenda_for_day, plan_today
from tracker.plans.templates import load_directory


def _keys(items) -> list[str]:
    return [getattr(i, "activity", i).key for i in items]


def _plan(enroll_patient, **fields):
    return enroll_patient(procedure_date="2026-11-01", **fields).plan


def test_day_0_is_bed_rest_ice_pain_and_warning_signs(enroll_patient):
    agenda = agenda_for_day(_plan(enroll_patient), date(2026, 11, 1))
    assert agenda.day_number == 0
    assert _keys(agenda.tasks) == ["ice_needle_site"]
    assert _keys(agenda.check_ins) == ["pain_score", "warning_signs", "opioid_check"]
    assert _keys(agenda.restrictions) == ["bed_rest", "no_heavy_lifting", "no_driving_on_opioids"]
    lifting = agenda.restrictions[1]
    # Six weeks at least, shown through the six-week visit's window (days 40-44).
    assert lifting.days_left == 44
    assert lifting.last_day == date(2026, 12, 15)
    assert agenda.next_appointment.activity.key == "followup_first"
    assert agenda.next_appointment.window_start == date(2026, 11, 11)


def test_day_1_is_the_last_day_of_bed_rest_and_asks_for_no_walk(enroll_patient):
    plan = _plan(enroll_patient)
    agenda = agenda_for_day(plan, date(2026, 11, 2))
    assert agenda.day_number == 1
    # Bed rest ("get up only for the bathroom") and a walk never share a day.
    assert _keys(agenda.tasks) == ["ice_needle_site"]
    bed_rest = agenda.restrictions[0]
    assert (bed_rest.activity.key, bed_rest.days_left) == ("bed_rest", 0)
    assert "light_activity" not in _keys(agenda.education)


def test_day_2_adds_walking_and_light_activity_after_bed_rest(enroll_patient):
    agenda = agenda_for_day(_plan(enroll_patient), date(2026, 11, 3))
    assert agenda.day_number == 2
    assert _keys(agenda.tasks) == ["ice_needle_site", "walk"]
    assert "bed_rest" not in _keys(agenda.restrictions)
    assert "light_activity" in _keys(agenda.education)


def test_day_41_keeps_the_lifting_limit_through_the_six_week_visit(enroll_patient):
    agenda = agenda_for_day(_plan(enroll_patient), date(2026, 12, 12))
    assert agenda.day_number == 41
    assert _keys(agenda.restrictions) == ["no_heavy_lifting", "no_driving_on_opioids"]
    assert agenda.restrictions[0].days_left == 3
    # Day 41 is not a weekly check day; the opioid question is asked every day of the plan.
    assert _keys(agenda.check_ins) == ["pain_score", "opioid_check"]
    assert agenda.next_appointment.activity.key == "followup_six_weeks"


def test_day_42_has_the_lifting_limit_and_the_six_week_visit(enroll_patient):
    agenda = agenda_for_day(_plan(enroll_patient), date(2026, 12, 13))
    assert agenda.day_number == 42
    assert agenda.within_plan
    # Only the opioid question, asked to the plan's end: a "yes" keeps the no-driving rule.
    assert (agenda.tasks, _keys(agenda.check_ins)) == ((), ["opioid_check"])
    # The lifting limit lasts until the six-week visit says it can end (its last window day).
    assert _keys(agenda.restrictions) == ["no_heavy_lifting"]
    assert agenda.restrictions[0].days_left == 2
    assert agenda.next_appointment.activity.key == "followup_six_weeks"
    assert not agenda_for_day(_plan(enroll_patient), date(2026, 12, 16)).within_plan


def test_an_actual_appointment_date_overrides_the_window(enroll_patient, session):
    plan = _plan(enroll_patient)
    plan.overrides = {"followup_first": {"date": "2026-11-16"}}
    session.commit()
    assert agenda_for_day(plan, date(2026, 11, 12)).next_appointment.scheduled_for == date(
        2026, 11, 16
    )
    assert _keys(agenda_for_day(plan, date(2026, 11, 16)).appointments_today) == ["followup_first"]


def test_an_extended_lifting_limit_changes_days_left(enroll_patient, session):
    plan = _plan(enroll_patient)
    plan.overrides = {"no_heavy_lifting": {"end_day": 55}}
    session.commit()
    agenda = agenda_for_day(plan, date(2026, 12, 13))
    assert _keys(agenda.restrictions) == ["no_heavy_lifting"]
    assert agenda.restrictions[0].days_left == 13


def test_a_template_edit_never_changes_a_running_plan(enroll_patient, app, tmp_path):
    plan_id = _plan(enroll_patient).id
    # The clinic edits the template: a new version with a different walking instruction.
    shipped = load_directory(REPO_ROOT / "schedules")["kyphoplasty"].version
    source = (REPO_ROOT / "schedules" / "kyphoplasty.yaml").read_text()
    edited = source.replace(f"version: {shipped}\n", f"version: {shipped + 1}\n").replace(
        "Take a short walk. Walk a little longer", "Walk twice. Walk a little longer"
    )
    (tmp_path / "kyphoplasty.yaml").write_text(edited)
    new_templates = load_directory(tmp_path)
    assert new_templates["kyphoplasty"].activity("walk").instructions.startswith("Walk twice")

    with session_factory(app)() as fresh:
        plan = fresh.get(CarePlan, plan_id)
        assert plan.template_version == shipped
        walk = agenda_for_day(plan, date(2026, 11, 5)).tasks[-1]
        assert walk.instructions.startswith("Take a short walk")
    later = enroll_patient(name="Later Patient", templates=new_templates).plan
    assert later.template_version == shipped + 1


@pytest.mark.parametrize(
    ("tz", "instant", "expected_day"),
    [
        # New York, autumn change on 2026-11-01 at 02:00 EDT -> 01:00 EST.
        ("America/New_York", datetime(2026, 11, 1, 3, 59, tzinfo=UTC), date(2026, 10, 31)),
        ("America/New_York", datetime(2026, 11, 1, 4, 0, tzinfo=UTC), date(2026, 11, 1)),
        ("America/New_York", datetime(2026, 11, 2, 4, 59, tzinfo=UTC), date(2026, 11, 1)),
        ("America/New_York", datetime(2026, 11, 2, 5, 0, tzinfo=UTC), date(2026, 11, 2)),
        # New York, spring change on 2026-03-08: midnight is still EST (UTC-5).
        ("America/New_York", datetime(2026, 3, 8, 4, 59, tzinfo=UTC), date(2026, 3, 7)),
        ("America/New_York", datetime(2026, 3, 9, 3, 59, tzinfo=UTC), date(2026, 3, 8)),
        ("America/New_York", datetime(2026, 3, 9, 4, 0, tzinfo=UTC), date(2026, 3, 9)),
        # London, spring 2026-03-29 (GMT -> BST) and autumn 2026-10-25 (BST -> GMT).
        ("Europe/London", datetime(2026, 3, 29, 23, 0, tzinfo=UTC), date(2026, 3, 30)),
        ("Europe/London", datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
        ("Europe/London", datetime(2026, 10, 24, 23, 0, tzinfo=UTC), date(2026, 10, 25)),
        ("Europe/London", datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
        # East of UTC: already tomorrow.
        ("Asia/Tokyo", datetime(2026, 11, 21, 15, 0, tzinfo=UTC), date(2026, 11, 22)),
        ("Pacific/Kiritimati", datetime(2026, 11, 21, 10, 0, tzinfo=UTC), date(2026, 11, 22)),
    ],
)
def test_the_local_day_follows_the_patients_zone(tz, instant, expected_day):
    assert local_day(instant, tz) == expected_day


def test_day_numbers_count_local_days_across_the_autumn_change(enroll_patient):
    plan = enroll_patient(procedure_date="2026-10-31", timezone="America/New_York").plan
    # 23:30 local on each of the first three days, straddling the 25-hour day.
    days = [
        plan_today(plan, datetime(2026, 11, 1, 3, 30, tzinfo=UTC)).day_number,  # Oct 31 EDT
        plan_today(plan, datetime(2026, 11, 2, 4, 30, tzinfo=UTC)).day_number,  # Nov 1 EST
        plan_today(plan, datetime(2026, 11, 3, 4, 30, tzinfo=UTC)).day_number,  # Nov 2 EST
    ]
    assert days == [0, 1, 2]


def test_a_patient_east_of_utc_is_on_the_next_day_before_utc_midnight(enroll_patient):
    plan = enroll_patient(procedure_date="2026-11-21", timezone="Asia/Tokyo").plan
    assert plan_today(plan, datetime(2026, 11, 21, 14, 59, tzinfo=UTC)).day_number == 0
    assert plan_today(plan, datetime(2026, 11, 21, 15, 0, tzinfo=UTC)).day_number == 1


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected"),
    [
        ("America/New_York", date(2026, 3, 7), time(9), datetime(2026, 3, 7, 14, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), time(9), datetime(2026, 3, 8, 13, tzinfo=UTC)),
        ("America/New_York", date(2026, 10, 31), time(9), datetime(2026, 10, 31, 13, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), time(9), datetime(2026, 11, 1, 14, tzinfo=UTC)),
        # 02:30 does not exist on 2026-03-08 in New York: it becomes 03:30 EDT.
        (
            "America/New_York",
            date(2026, 3, 8),
            time(2, 30),
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        ),
        # 01:30 happens twice on 2026-11-01: the first (EDT) occurrence is used.
        (
            "America/New_York",
            date(2026, 11, 1),
            time(1, 30),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
        ("Europe/London", date(2026, 3, 29), time(9), datetime(2026, 3, 29, 8, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 25), time(9), datetime(2026, 10, 25, 9, tzinfo=UTC)),
    ],
)
def test_a_local_wall_time_maps_to_one_utc_instant(tz, day, wall, expected):
    assert local_wall_time_to_utc(day, wall, tz) == expected
