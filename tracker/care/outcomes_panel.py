"""What the care team's patient page shows of outcomes: questionnaire scores at their time
points with the change since baseline, the expected course of pain (the band's data, for
the chart), and "recovering more slowly than expected" (never shown to the patient)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tracker.alerts.pain_trends import DaySummary
from tracker.core.models import CarePlan
from tracker.outcomes.expected_course import current_course, slower_than_expected
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.outcomes.responses import histories, responses_by_plan


def outcomes_panel(
    session: Session, plan: CarePlan, summaries: Sequence[DaySummary], today: date
) -> dict[str, Any]:
    course = current_course(plan.procedure)
    last_day = max([plan.duration_days - 1] + [s.day_number for s in summaries])
    return {
        "score_histories": histories(
            plan, current_questionnaires(), responses_by_plan(session, [plan.id])[plan.id]
        ),
        "expected_course": course,
        "expected_band": course.band(0, last_day) if course is not None else [],
        "slower": slower_than_expected(course, summaries, plan.procedure_date, today),
    }
