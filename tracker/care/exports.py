"""Exports: pain entries as CSV for a clinic and date range, and a FHIR R4 Bundle per patient.

Who entered each row: the CSV's last column, ``entered_by``, is ``patient`` or the caregiver
who entered it as the care team's pages name them, "Ana Ruiz (daughter)" (a caregiver's
name always ends with their relation in parentheses, so it never reads as ``patient``). In
FHIR, a caregiver's entries carry them as a ``RelatedPerson`` of the bundle (the
Observation's ``performer``, the QuestionnaireResponse's ``author``); the patient's own
entries carry the Patient.

The FHIR resources follow R4 (4.0.1); the tests validate them with ``fhir.resources``' R4B
models, which share these resources' structure. References between resources in the bundle use
``urn:uuid`` full URLs derived deterministically from our ids, so an export is repeatable.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.pain_trends import effective_entries
from tracker.core.models import Caregiver, CarePlan, PainEntry, Patient, SymptomReport
from tracker.core.timeutil import local_day
from tracker.outcomes.fhir import (
    questionnaire_resource,
    related_person_resource,
    response_resource,
)
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.outcomes.responses import responses_by_plan
from tracker.plans.agenda import plan_activities, plan_last_day
from tracker.plans.warning_signs import WarningSign, questions_by_key

CSV_COLUMNS = (
    "entry_id",
    "patient_id",
    "patient_name",
    "procedure",
    "procedure_date",
    "local_day",
    "day_number",
    "score",
    "context",
    "note",
    "recorded_at_utc",
    "supersedes_entry_id",
    "entered_by",  # "patient", or the caregiver: "Ana Ruiz (daughter)"
)
ENTERED_BY_PATIENT = "patient"
# Cells a spreadsheet would run as a formula are prefixed with a quote (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_RANGE_DAYS = 400

LOINC = "http://loinc.org"
PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
CANONICAL_BASE = "urn:recovery-tracker"
_NAMESPACE = uuid.UUID("6f1c1d9e-3b7a-4d55-9a53-2d3f4c8e5a10")


class ExportError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """A date range from ``YYYY-MM-DD`` text, inclusive, at most MAX_RANGE_DAYS long."""
    days = []
    for field_name, raw in (("start", start), ("end", end)):
        try:
            text = (raw or "").strip()
            if len(text) != 10:
                raise ValueError
            days.append(date.fromisoformat(text))
        except ValueError:
            raise ExportError(field_name, "Enter a date in YYYY-MM-DD form.") from None
    if days[1] < days[0]:
        raise ExportError("end", "The end date must not be before the start date.")
    if (days[1] - days[0]).days >= MAX_RANGE_DAYS:
        raise ExportError("end", f"Export at most {MAX_RANGE_DAYS} days at a time.")
    return days[0], days[1]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def pain_csv(session: Session, clinic_id: int, start: date, end: date) -> tuple[str, int]:
    """All pain entries of the clinic's patients recorded on local days ``start``..``end``.

    Corrections are included with the id of the entry they supersede, so nothing is hidden.
    Returns the CSV text and the number of rows.
    """
    rows = session.execute(
        select(PainEntry, CarePlan, Patient, Caregiver)
        .join(CarePlan, CarePlan.id == PainEntry.plan_id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .outerjoin(Caregiver, Caregiver.id == PainEntry.entered_by_caregiver_id)
        .where(
            CarePlan.clinic_id == clinic_id,
            PainEntry.local_day >= start,
            PainEntry.local_day <= end,
        )
        .order_by(Patient.name, Patient.id, PainEntry.recorded_at, PainEntry.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry, plan, patient, caregiver in rows:
        writer.writerow(
            [
                entry.id,
                patient.id,
                _cell(patient.name),
                plan.procedure,
                plan.procedure_date.isoformat(),
                entry.local_day.isoformat(),
                (entry.local_day - plan.procedure_date).days,
                entry.score,
                entry.context or "",
                _cell(entry.note),
                entry.recorded_at.isoformat().replace("+00:00", "Z"),
                entry.supersedes_id or "",
                _cell(caregiver.label) if caregiver is not None else ENTERED_BY_PATIENT,
            ]
        )
    return out.getvalue(), len(rows)


# --- FHIR ---------------------------------------------------------------------------------


def _urn(kind: str, ident: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{ident}')}"


def _instant(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def template_canonical(plan: CarePlan) -> str:
    return f"{CANONICAL_BASE}:plan-template:{plan.template_id}|{plan.template_version}"


_PLAN_STATUS = {"active": "active", "paused": "on-hold", "ended": "completed"}


def _patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": f"{CANONICAL_BASE}:patient", "value": str(patient.id)}],
        "active": True,
        "name": [{"text": patient.name}],
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    return resource


def _activity_status(start: date, end: date, today: date, plan_status: str) -> str:
    if plan_status == "ended":
        return "completed" if today > end else "stopped"
    if today > end:
        return "completed"
    if today >= start:
        return "on-hold" if plan_status == "paused" else "in-progress"
    return "not-started"


def _care_plan_resource(plan: CarePlan, patient_ref: str, today: date) -> dict[str, Any]:
    activities = []
    for activity in plan_activities(plan):
        start = plan.procedure_date + timedelta(days=activity.start_day)
        end = plan.procedure_date + timedelta(days=activity.end_day)
        detail: dict[str, Any] = {
            "code": {"text": activity.key},
            "status": (
                "scheduled"
                if activity.kind == "appointment" and today <= end
                else _activity_status(start, end, today, plan.status)
            ),
            "description": activity.title,
            "scheduledPeriod": {"start": start.isoformat(), "end": end.isoformat()},
        }
        if activity.kind == "appointment":
            detail["kind"] = "Appointment"
        activities.append({"detail": detail})
    return {
        "resourceType": "CarePlan",
        "identifier": [{"system": f"{CANONICAL_BASE}:care-plan", "value": str(plan.id)}],
        "instantiatesCanonical": [template_canonical(plan)],
        "status": _PLAN_STATUS[plan.status],
        "intent": "plan",
        "title": plan.title,
        "description": (
            f"Recovery after {plan.procedure} on {plan.procedure_date.isoformat()}"
            + (f" (levels {plan.levels})" if plan.levels else "")
        ),
        "subject": {"reference": patient_ref},
        "period": {
            "start": plan.procedure_date.isoformat(),
            "end": plan_last_day(plan).isoformat(),
        },
        "created": _instant(plan.created_at),
        "activity": activities,
    }


def _pain_observation(
    entry: PainEntry, patient_ref: str, plan_ref: str, performer_ref: str
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": f"{CANONICAL_BASE}:pain-entry", "value": str(entry.id)}],
        "basedOn": [{"reference": plan_ref}],
        "status": "amended" if entry.supersedes_id else "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": PAIN_LOINC, "display": PAIN_LOINC_DISPLAY}],
            "text": "Pain score (0-10)",
        },
        "subject": {"reference": patient_ref},
        "effectiveDateTime": _instant(entry.recorded_at),
        "performer": [{"reference": performer_ref}],
        "valueInteger": entry.score,
    }
    if entry.context:
        resource["component"] = [
            {"code": {"text": "Activity context"}, "valueString": entry.context}
        ]
    if entry.note:
        resource["note"] = [{"text": entry.note}]
    return resource


def _symptom_response(
    report: SymptomReport,
    patient_ref: str,
    plan_ref: str,
    signs: Sequence[WarningSign],
    author_ref: str,
) -> dict[str, Any]:
    questions = questions_by_key(signs)  # retired signs too: old answers keep their text
    items = []
    for key, answer in sorted((report.answers or {}).items()):
        if not isinstance(answer, bool):
            continue
        item: dict[str, Any] = {"linkId": key, "answer": [{"valueBoolean": answer}]}
        if key in questions:
            item["text"] = questions[key]
        items.append(item)
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": f"{CANONICAL_BASE}:symptom-report", "value": str(report.id)},
        "questionnaire": f"{CANONICAL_BASE}:questionnaire:warning_signs",
        "basedOn": [{"reference": plan_ref}],
        "status": "amended" if report.supersedes_id else "completed",
        "subject": {"reference": patient_ref},
        "authored": _instant(report.recorded_at),
        "author": {"reference": author_ref},
        "item": items,
    }


def _add_questionnaires(
    session: Session,
    plan: CarePlan,
    patient_ref: str,
    plan_ref: str,
    add: Any,
    added: set[str],
    author: Any,
) -> None:
    """The plan's scored questionnaire answers, each Questionnaire once per bundle."""
    known = current_questionnaires()
    for row in responses_by_plan(session, [plan.id])[plan.id]:
        questionnaire = known.get(row.questionnaire_id)
        if questionnaire is None:
            continue  # its file was removed: the answers cannot be labelled
        if questionnaire.id not in added:
            add("Questionnaire", questionnaire.id, questionnaire_resource(questionnaire))
            added.add(questionnaire.id)
        add(
            "QuestionnaireResponse",
            f"outcome/{row.id}",
            response_resource(
                row,
                questionnaire,
                patient_ref=patient_ref,
                plan_ref=plan_ref,
                authored=_instant(row.recorded_at),
                author_ref=author(row.entered_by_caregiver_id),
            ),
        )


def fhir_bundle(
    session: Session,
    patient: Patient,
    *,
    signs: Sequence[WarningSign],
    now: datetime,
) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle with everything recorded for ``patient``.

    What a caregiver entered names them (a RelatedPerson, after the Patient, once each);
    what the patient entered names the Patient."""
    entries: list[dict[str, Any]] = []

    def add(kind: str, ident: object, resource: dict[str, Any]) -> str:
        full_url = _urn(kind, ident)
        entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    patient_ref = add("Patient", patient.id, _patient_resource(patient))
    caregivers = {c.id: c for c in patient.caregivers}
    related: dict[int, dict[str, Any]] = {}

    def author(caregiver_id: int | None) -> str:
        """The reference to whoever entered a row: the Patient, or the caregiver."""
        caregiver = caregivers.get(caregiver_id) if caregiver_id is not None else None
        if caregiver is None:
            return patient_ref
        if caregiver.id not in related:
            related[caregiver.id] = {
                "fullUrl": _urn("RelatedPerson", caregiver.id),
                "resource": related_person_resource(caregiver, patient_ref=patient_ref),
            }
        return related[caregiver.id]["fullUrl"]

    questionnaires_added: set[str] = set()
    plans: Iterable[CarePlan] = patient.plans
    for plan in plans:
        plan_ref = add(
            "CarePlan",
            plan.id,
            _care_plan_resource(plan, patient_ref, local_day(now, plan.timezone)),
        )
        pain = session.scalars(
            select(PainEntry).where(PainEntry.plan_id == plan.id).order_by(PainEntry.recorded_at)
        ).all()
        for entry in effective_entries(pain):
            add(
                "Observation",
                entry.id,
                _pain_observation(
                    entry, patient_ref, plan_ref, author(entry.entered_by_caregiver_id)
                ),
            )
        reports = session.scalars(
            select(SymptomReport)
            .where(SymptomReport.plan_id == plan.id)
            .order_by(SymptomReport.recorded_at)
        ).all()
        superseded = {r.supersedes_id for r in reports if r.supersedes_id}
        for report in reports:
            if report.id not in superseded:
                add(
                    "QuestionnaireResponse",
                    report.id,
                    _symptom_response(
                        report, patient_ref, plan_ref, signs, author(report.entered_by_caregiver_id)
                    ),
                )
        _add_questionnaires(session, plan, patient_ref, plan_ref, add, questionnaires_added, author)
    # The caregivers who entered something, right after the Patient, in the order of ids.
    entries[1:1] = [related[key] for key in sorted(related)]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"bundle/{patient.id}/{_instant(now)}")),
        "type": "collection",
        "timestamp": _instant(now),
        "entry": entries,
    }
