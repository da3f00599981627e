"""Exports: a clinic's pain scores as CSV, one patient's record as a FHIR R4 Bundle."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from tracker.core.models import AuditEvent

TODAY = date(2026, 11, 21)


@pytest.fixture
def history(enrolled, enroll_patient, record, other_clinic):
    ours = enrolled(days_ago=5, name="Csv Person")
    plan = ours.plan
    record.pain(plan, TODAY - timedelta(days=5), 7, context="rest", note="=HYPERLINK(evil)")
    wrong = record.pain(plan, TODAY - timedelta(days=2), 9, context="activity")
    record.pain(plan, TODAY - timedelta(days=2), 4, supersedes=wrong, hour=10)
    record.report(plan, TODAY - timedelta(days=1), "call_911", chest_pain=True, fever=False)
    theirs = enroll_patient(name="Other Clinic Person", clinic=other_clinic)
    record.pain(theirs.plan, TODAY - timedelta(days=1), 3)
    return ours


def rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_it_exports_the_clinic_pain_scores_for_a_date_range(coordinator_client, history, session):
    response = coordinator_client.get(
        "/coordinator/exports/pain.csv?start=2026-11-16&end=2026-11-21"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="pain-2026-11-16-to-2026-11-21.csv"' in response.headers["Content-Disposition"]
    data = rows(response)
    assert [(r["patient_name"], r["local_day"], r["score"], r["context"]) for r in data] == [
        ("Csv Person", "2026-11-16", "7", "rest"),
        ("Csv Person", "2026-11-19", "9", "activity"),
        ("Csv Person", "2026-11-19", "4", ""),
    ]
    assert data[2]["supersedes_entry_id"] == data[1]["entry_id"]
    assert data[0]["note"] == "'=HYPERLINK(evil)"  # never a live formula in a spreadsheet
    assert data[0]["day_number"] == "0"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.pain_csv")).one()
    assert event.detail == {"start": "2026-11-16", "end": "2026-11-21", "rows": 3}


def test_it_limits_the_csv_to_the_range(coordinator_client, history):
    response = coordinator_client.get(
        "/coordinator/exports/pain.csv?start=2026-11-17&end=2026-11-19"
    )
    assert [r["local_day"] for r in rows(response)] == ["2026-11-19", "2026-11-19"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-11-21&end=2026-11-01", "must not be before the start date"),
        ("start=yesterday&end=2026-11-01", "Enter a date in YYYY-MM-DD form."),
        ("start=2026-11-01", "Enter a date in YYYY-MM-DD form."),
        ("start=2020-01-01&end=2026-11-01", "Export at most 400 days"),
    ],
)
def test_it_refuses_a_bad_range(coordinator_client, history, session, query, message):
    response = coordinator_client.get("/coordinator/exports/pain.csv?" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "export.pain_csv")) is None


def test_it_exports_a_valid_fhir_r4_bundle(coordinator_client, history, session):
    response = coordinator_client.get(f"/coordinator/patients/{history.patient.id}/fhir.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    data = json.loads(response.get_data(as_text=True))
    bundle = Bundle.model_validate(data)  # raises on anything R4(B) does not allow
    resources = [entry.resource for entry in bundle.entry]
    kinds = [r.get_resource_type() for r in resources]
    assert kinds == [
        "Patient",
        "CarePlan",
        "Observation",
        "Observation",
        "QuestionnaireResponse",
    ]  # the superseded score is left out, its correction kept
    patient, plan, first, corrected, report = resources
    assert patient.name[0].text == "Csv Person"
    assert plan.instantiatesCanonical == ["urn:recovery-tracker:plan-template:kyphoplasty|2"]
    assert plan.status == "active" and plan.subject.reference == bundle.entry[0].fullUrl
    assert first.code.coding[0].system == "http://loinc.org"
    assert first.code.coding[0].code == "72514-3"
    assert (first.valueInteger, corrected.valueInteger, corrected.status) == (7, 4, "amended")
    assert first.component[0].valueString == "rest"
    answers = {item.linkId: item.answer[0].valueBoolean for item in report.item}
    assert answers == {"chest_pain": True, "fever": False}
    assert report.item[0].text == "Do you have chest pain right now?"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.fhir")).one()
    assert event.patient_id == history.patient.id
