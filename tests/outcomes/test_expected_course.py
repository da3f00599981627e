"""The expected course of pain (published figures) and "recovering more slowly than expected"."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
import yaml

from tests.conftest import NOW
from tests.patient.conftest import sign_in, text_of
from tracker.alerts.pain_trends import DaySummary
from tracker.core.config import REPO_ROOT
from tracker.outcomes.expected_course import (
    ExpectedCourseError,
    course_for,
    parse_course,
    slower_than_expected,
)

SCHEDULES = REPO_ROOT / "schedules"
PROCEDURE = date(2026, 11, 14)
TODAY = date(2026, 11, 21)  # day 7


def kypho():
    return course_for(SCHEDULES, "kyphoplasty")


def test_the_band_is_built_from_the_cited_evolve_figures():
    course = kypho()
    assert [(f.day, f.mean_pain) for f in course.figures] == [
        (0, 8.7),
        (7, 3.5),
        (30, 3.3),
        (90, 2.7),
    ]
    assert all("EVOLVE" in course.sources[f.source] for f in course.figures)
    assert "Neurosurgery 2019" in course.sources["evolve"]
    assert "confirm" in course.confirm
    band = course.band_on(7)
    assert (band.low, band.expected, band.high) == (1.5, 3.5, 5.5)
    assert course.band_on(0).high == 10.0  # clipped to the scale
    assert course.band_on(91) is None
    assert course_for(SCHEDULES, "vertebroplasty") is None  # no published figures shipped


def test_a_broken_course_file_is_refused_with_the_field():
    raw = yaml.safe_load((SCHEDULES / "expected_course" / "kyphoplasty.yaml").read_text())
    bad = copy.deepcopy(raw)
    bad["figures"][1]["source"] = "nowhere"
    with pytest.raises(ExpectedCourseError, match=r"x.yaml: field 'figures\[1\]': source"):
        parse_course(bad, "x.yaml")
    bad = copy.deepcopy(raw)
    del bad["confirm"]
    with pytest.raises(ExpectedCourseError, match="field 'confirm'"):
        parse_course(bad, "x.yaml")


def day(n: int, mean: float) -> DaySummary:
    return DaySummary(PROCEDURE + timedelta(days=n), n, int(mean + 0.5), mean, None, None, 2)


def test_a_mean_exactly_at_the_band_edge_is_within_it():
    summaries = [day(5, 5.5), day(6, 5.5), day(7, 5.5)]  # band's upper edge at day 7: 5.5
    assert slower_than_expected(kypho(), summaries, PROCEDURE, TODAY) is None


def test_a_mean_just_above_the_band_edge_is_slower_than_expected():
    summaries = [day(5, 5.5), day(6, 5.5), day(7, 5.6)]  # 3-day mean 5.53
    found = slower_than_expected(kypho(), summaries, PROCEDURE, TODAY)
    assert (found.window.mean, found.day, found.band.high) == (5.53, 7, 5.5)


def test_old_readings_and_pre_procedure_scores_do_not_count():
    old = [day(1, 9.0), day(2, 9.0), day(3, 9.0)]
    assert slower_than_expected(kypho(), old, PROCEDURE, TODAY) is None  # window ended day 3
    before = [day(-2, 9.0), day(-1, 9.0), day(0, 1.0)]
    assert slower_than_expected(kypho(), before, PROCEDURE, PROCEDURE) is None


def test_the_care_team_sees_it_and_the_patient_never_does(
    app, session, coordinator_client, enroll_patient, record
):
    enrolment = enroll_patient(procedure_date=PROCEDURE.isoformat())
    plan = enrolment.plan
    for n, scores in ((5, (5, 6)), (6, (6, 5)), (7, (6,))):
        for hour, score in enumerate(scores):
            record.pain(plan, PROCEDURE + timedelta(days=n), score, hour=8 + hour)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{enrolment.patient.id}"))
    assert "Recovering more slowly than expected" in page
    assert "3-day mean pain 5.67 at day 7" in page
    patient = sign_in(app.test_client(), enrolment)
    for url in ("/me/", "/me/progress"):
        seen = text_of(patient.get(url)).lower()
        assert "more slowly" not in seen and "expected" not in seen


def test_at_the_edge_the_care_team_sees_no_indicator(coordinator_client, enroll_patient, record):
    enrolment = enroll_patient(procedure_date=PROCEDURE.isoformat())
    for n in (5, 6, 7):
        for hour, score in enumerate((5, 6)):
            record.pain(enrolment.plan, PROCEDURE + timedelta(days=n), score, hour=8 + hour)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{enrolment.patient.id}"))
    assert "Recovering more slowly than expected" not in page
    assert NOW  # the frozen clock is day 7 for this procedure
