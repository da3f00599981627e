"""Patients' answers to questionnaires: what is asked on a day, storing answers, and the
scores over time with their change since baseline (for both the patient's and the care
team's pages).

Answering again within a time point's window replaces the answers (the row is updated) and
an audit event keeps the previous answers and score, so nothing is lost. One row per plan,
questionnaire and time point: the unique constraint turns two tabs sending at once into one
insert and one replacement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.models import CarePlan, QuestionnaireResponse
from tracker.outcomes.questionnaires import Questionnaire, Score, TimePoint, for_procedure


@dataclass(frozen=True)
class Asked:
    """A questionnaire open today for a plan, at ``point``; ``response`` if answered."""

    questionnaire: Questionnaire
    point: TimePoint
    window_end: date
    response: QuestionnaireResponse | None


def asked_on(
    session: Session,
    plan: CarePlan,
    questionnaires: Mapping[str, Questionnaire],
    today: date,
) -> list[Asked]:
    """The questionnaires whose time-point window holds ``today`` for ``plan``. A paused or
    ended plan asks nothing (as the Today page asks for no check-ins then)."""
    if plan.status != "active":
        return []
    open_now = []
    for questionnaire in for_procedure(questionnaires, plan.procedure):
        point = questionnaire.open_time_point(plan.procedure_date, today)
        if point is not None:
            open_now.append((questionnaire, point))
    if not open_now:
        return []
    rows = {
        (r.questionnaire_id, r.time_point_day): r
        for r in session.scalars(
            select(QuestionnaireResponse).where(QuestionnaireResponse.plan_id == plan.id)
        )
    }
    return [
        Asked(q, p, q.window(p, plan.procedure_date)[1], rows.get((q.id, p.day)))
        for q, p in open_now
    ]


def first_asked_on(
    plan: CarePlan, questionnaires: Mapping[str, Questionnaire], day: date
) -> list[Questionnaire]:
    """Questionnaires first asked on ``day`` (a reminder mentions them then). No queries."""
    if plan.status != "active":
        return []
    return [
        q
        for q in for_procedure(questionnaires, plan.procedure)
        if q.first_asked_on(plan.procedure_date, day) is not None
    ]


def record_response(
    session: Session,
    *,
    plan: CarePlan,
    questionnaire: Questionnaire,
    point: TimePoint,
    answers: Mapping[str, int],
    today: date,
    now: datetime,
    patient_id: int,
    remote_addr: str | None = None,
    caregiver_id: int | None = None,
) -> tuple[QuestionnaireResponse, Score, bool]:
    """Store ``answers`` for ``point`` (scored now); returns the row, its score, and whether
    it replaced earlier answers (then an audit event keeps those). Raises AnswerError before
    anything is written when an answer does not fit the questionnaire. ``caregiver_id``:
    the caregiver who answered for the patient (None: the patient)."""
    score = questionnaire.score(answers)
    stored = {k: v for k, v in answers.items() if v is not None}
    values = {
        "questionnaire_version": questionnaire.version,
        "local_day": today,
        "answers": stored,
        "score": score.value,
        "answered": score.answered,
        "recorded_at": now,
        "entered_by_caregiver_id": caregiver_id,
    }
    key = (
        QuestionnaireResponse.plan_id == plan.id,
        QuestionnaireResponse.questionnaire_id == questionnaire.id,
        QuestionnaireResponse.time_point_day == point.day,
    )
    row = session.scalars(select(QuestionnaireResponse).where(*key)).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                row = QuestionnaireResponse(
                    plan_id=plan.id,
                    questionnaire_id=questionnaire.id,
                    time_point_day=point.day,
                    **values,
                )
                session.add(row)
            return row, score, False
        except IntegrityError:
            # Another request stored this time point's first answers a moment ago: ours
            # replace them, as a second send would.
            row = session.scalars(select(QuestionnaireResponse).where(*key)).one()
    previous = {
        "answers": row.answers,
        "score": row.score,
        "questionnaire_version": row.questionnaire_version,
        "recorded_at": row.recorded_at.isoformat(),
        "local_day": row.local_day.isoformat(),
        "entered_by_caregiver_id": row.entered_by_caregiver_id,
    }
    for name, value in values.items():
        setattr(row, name, value)
    row.replaced_at = now
    audit.record(
        session,
        now=now,
        action="patient.questionnaire_replaced",
        actor_type="patient" if caregiver_id is None else "caregiver",
        actor_patient_id=patient_id if caregiver_id is None else None,
        actor_caregiver_id=caregiver_id,
        clinic_id=plan.clinic_id,
        patient_id=patient_id,
        detail={
            "questionnaire_response_id": row.id,
            "questionnaire_id": questionnaire.id,
            "time_point_day": point.day,
            "previous": previous,
        },
        remote_addr=remote_addr,
    )
    session.flush()
    return row, score, True


# --- scores over time --------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePoint:
    point: TimePoint
    response: QuestionnaireResponse | None
    band: str | None

    @property
    def score(self) -> float | None:
        return self.response.score if self.response is not None else None


@dataclass(frozen=True)
class ScoreHistory:
    """One questionnaire's scores at its time points for one plan. The baseline is the
    first scored answer (normally the first time point's; a patient enrolled later has a
    later one)."""

    questionnaire: Questionnaire
    points: tuple[ScorePoint, ...]

    @property
    def scored(self) -> list[ScorePoint]:
        return [p for p in self.points if p.score is not None]

    @property
    def baseline(self) -> ScorePoint | None:
        scored = self.scored
        return scored[0] if scored else None

    @property
    def latest(self) -> ScorePoint | None:
        scored = self.scored
        return scored[-1] if scored else None

    @property
    def change(self) -> float | None:
        """Latest minus baseline; None until two time points are scored."""
        scored = self.scored
        if len(scored) < 2:
            return None
        return round(scored[-1].score - scored[0].score, 1)

    @property
    def answered_any(self) -> bool:
        return any(p.response is not None for p in self.points)


def responses_by_plan(
    session: Session, plan_ids: Iterable[int]
) -> dict[int, list[QuestionnaireResponse]]:
    """Every plan's responses, in one query."""
    ids = list(plan_ids)
    found: dict[int, list[QuestionnaireResponse]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.plan_id.in_(ids))
        .order_by(QuestionnaireResponse.time_point_day, QuestionnaireResponse.id)
    )
    for row in rows:
        found[row.plan_id].append(row)
    return found


def histories(
    plan: CarePlan,
    questionnaires: Mapping[str, Questionnaire],
    responses: Iterable[QuestionnaireResponse],
) -> list[ScoreHistory]:
    """Score histories for the plan's questionnaires (and any it answered that are no
    longer listed for its procedure, so stored answers never disappear)."""
    by_key = {(r.questionnaire_id, r.time_point_day): r for r in responses}
    wanted = {q.id for q in for_procedure(questionnaires, plan.procedure)}
    wanted |= {qid for qid, _ in by_key if qid in questionnaires}
    result = []
    for qid in sorted(wanted):
        questionnaire = questionnaires[qid]
        points = []
        for point in questionnaire.time_points:
            row = by_key.get((qid, point.day))
            band = (
                questionnaire.band_for(row.score)
                if row is not None and row.score is not None
                else None
            )
            points.append(ScorePoint(point, row, band))
        result.append(ScoreHistory(questionnaire, tuple(points)))
    return result


def fill_past_time_points(
    session: Session,
    plan: CarePlan,
    questionnaires: Mapping[str, Questionnaire],
    *,
    today: date,
    now: datetime,
    answer_for: Callable[[Questionnaire, TimePoint], Mapping[str, int]],
) -> int:
    """Store answers at every time point of the plan's questionnaires that has started by
    ``today`` (the demo's patients): ``answer_for`` gives the answers. Returns the count."""
    stored = 0
    for questionnaire in for_procedure(questionnaires, plan.procedure):
        for point in questionnaire.time_points:
            day = plan.procedure_date + timedelta(days=point.day)
            if day > today:
                break
            at = datetime.combine(day, time(11, 0), tzinfo=ZoneInfo(plan.timezone))
            record_response(
                session,
                plan=plan,
                questionnaire=questionnaire,
                point=point,
                answers=answer_for(questionnaire, point),
                today=day,
                now=min(at.astimezone(ZoneInfo("UTC")), now),
                patient_id=plan.patient_id,
            )
            stored += 1
    return stored
