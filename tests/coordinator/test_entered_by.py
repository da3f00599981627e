"""What a caregiver entered is marked as theirs wherever the care team reads it: the patient
page (scores, notes, corrections, check-offs, checks, opioid answers, questionnaires), the
CSV export (``entered_by``) and the FHIR export (a RelatedPerson as performer or author).
The page reads the caregivers' names in one query, however many rows they entered."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.conftest import NOW, statements_of
from tests.coordinator.test_caregivers import add_ana
from tests.patient.conftest import text_of
from tracker.care.exports import CSV_COLUMNS
from tracker.core.models import OpioidCheck, QuestionnaireResponse
from tracker.plans.caregivers import Actor, remove_caregiver

TODAY = date(2026, 11, 21)


def by(row, caregiver, session):
    row.entered_by_caregiver_id = caregiver.id
    session.commit()
    return row


@pytest.fixture
def jo(enrolled):
    return enrolled(days_ago=14, name="Jo Sample")


@pytest.fixture
def history(jo, session, record):
    """Jo's own entries, and Ana's (her daughter) on Jo's behalf."""
    plan = jo.plan
    ana = add_ana(session, jo.patient)
    record.pain(plan, TODAY - timedelta(days=3), 6, note="Jo's own note")
    wrong = by(record.pain(plan, TODAY - timedelta(days=2), 9), ana, session)
    fixed = record.pain(plan, TODAY - timedelta(days=2), 5, supersedes=wrong, hour=10, note="Mum")
    by(fixed, ana, session)
    by(record.report(plan, TODAY - timedelta(days=1), "call_team", fever=True), ana, session)
    by(record.checkoff(plan, "walk", TODAY - timedelta(days=1)), ana, session)
    record.checkoff(plan, "walk", TODAY - timedelta(days=3))
    opioid = OpioidCheck(
        plan_id=plan.id,
        local_day=TODAY,
        taking=True,
        recorded_at=NOW - timedelta(hours=1),
        entered_by_caregiver_id=ana.id,
    )
    answers = {"bed": 2, "walk": 2, "dress": 2, "chores": 2, "sit": 2, "sleep": 2}
    response = QuestionnaireResponse(
        plan_id=plan.id,
        questionnaire_id="daily_life",
        questionnaire_version=1,
        time_point_day=14,
        local_day=TODAY,
        answers=answers,
        score=50.0,
        answered=6,
        recorded_at=NOW - timedelta(hours=2),
        entered_by_caregiver_id=ana.id,
    )
    session.add_all([opioid, response])
    session.commit()
    return ana


def test_the_patient_page_says_what_the_caregiver_entered(coordinator_client, jo, history):
    response = coordinator_client.get(f"/coordinator/patients/{jo.patient.id}")
    page = text_of(response)
    # The pain table: an "Entered by" column, the patient on their own days.
    assert "Entered by" in page
    rows = re.findall(r"<tr><td>(Nov \d+)</td>.*?</tr>", response.get_data(as_text=True), re.S)
    assert rows == ["Nov 18", "Nov 19"]
    body = response.get_data(as_text=True)
    assert re.search(r"Nov 18</td>((?!</tr>).)*<td>the patient</td></tr>", body, re.S)
    assert re.search(r"Nov 19</td>((?!</tr>).)*<td>Ana Ruiz \(daughter\)</td></tr>", body, re.S)
    # Notes, corrections, checks, check-offs, opioids, questionnaires.
    assert "Nov 19, score 5, entered by Ana Ruiz (daughter): Mum" in page
    assert "Nov 18, score 6: Jo's own note" in page
    assert "9 → 5, corrected Nov 19, 10:00 AM EST by Ana Ruiz (daughter)" in page
    assert "entered by Ana Ruiz (daughter) " in page.split("Warning-signs checks")[-1]
    assert "checked off by Ana Ruiz (daughter)" in page
    assert "answered Nov 21, 9:00 AM EST, entered by Ana Ruiz (daughter)" in page
    assert "(6 of 6 answered) entered by Ana Ruiz (daughter)" in page


def test_a_day_with_both_names_both(coordinator_client, jo, history, record):
    record.pain(jo.plan, TODAY - timedelta(days=2), 4, hour=18)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "the patient and Ana Ruiz (daughter)" in page


def test_a_removed_caregivers_entries_keep_their_name(
    coordinator_client, coordinator, session, jo, history
):
    remove_caregiver(session, history, actor=Actor.user(coordinator.id), now=NOW)
    session.commit()
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "score 5, entered by Ana Ruiz (daughter)" in page
    assert "Removed caregivers" in page


def test_a_patient_who_entered_everything_shows_no_entered_by(coordinator_client, jo, record):
    record.pain(jo.plan, TODAY - timedelta(days=1), 5, note="fine")
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "Entered by" not in page and "entered by Ana" not in page
    assert "checked off by" not in page


def _statements(app, client, url) -> list[tuple[str, object]]:
    engine = app.extensions["tracker.engine"]
    return statements_of(engine, lambda: _assert_ok(client.get(url)))


def _assert_ok(response) -> None:
    assert response.status_code == 200


def test_the_page_costs_the_same_statements_for_one_or_many_caregiver_entries(
    app, coordinator_client, session, jo, record
):
    url = f"/coordinator/patients/{jo.patient.id}"
    ana = add_ana(session, jo.patient)
    by(record.pain(jo.plan, TODAY - timedelta(days=1), 5, note="one"), ana, session)
    by(record.report(jo.plan, TODAY - timedelta(days=1), "call_team", fever=True), ana, session)
    few = _statements(app, coordinator_client, url)
    luis = add_ana(session, jo.patient, name="Luis Ruiz", relation="son", phone="+15552010199")
    for n in range(2, 12):
        who = ana if n % 2 else luis
        day = TODAY - timedelta(days=n)
        by(record.pain(jo.plan, day, 6, note=f"note {n}"), who, session)
        by(record.report(jo.plan, day, "call_team", fever=True), who, session)
        by(record.checkoff(jo.plan, "walk", day), who, session)
    many = _statements(app, coordinator_client, url)
    assert len(many) == len(few)
    assert "Luis Ruiz (son)" in text_of(coordinator_client.get(url))


# --- exports ------------------------------------------------------------------------------


def test_the_csv_says_who_entered_each_score(coordinator_client, jo, history):
    response = coordinator_client.get(
        "/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21"
    )
    assert response.status_code == 200
    assert CSV_COLUMNS[-1] == "entered_by"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["score"], r["entered_by"]) for r in rows] == [
        ("6", "patient"),
        ("9", "Ana Ruiz (daughter)"),
        ("5", "Ana Ruiz (daughter)"),
    ]


def test_a_caregiver_name_that_looks_like_a_formula_is_defused(
    coordinator_client, session, jo, record
):
    mallory = add_ana(session, jo.patient, name="=cmd|' /C calc'!A0")
    by(record.pain(jo.plan, TODAY - timedelta(days=1), 5), mallory, session)
    response = coordinator_client.get(
        "/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21"
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["entered_by"].startswith("'=")


def test_the_fhir_export_names_the_caregiver_as_performer_and_author(
    coordinator_client, jo, history
):
    response = coordinator_client.get(f"/coordinator/patients/{jo.patient.id}/fhir.json")
    data = json.loads(response.get_data(as_text=True))
    Bundle.model_validate(data)  # raises on anything R4(B) does not allow
    entries = data["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    assert kinds[:3] == ["Patient", "RelatedPerson", "CarePlan"]
    assert kinds.count("RelatedPerson") == 1  # once, however many rows she entered
    patient_ref, ana_ref = entries[0]["fullUrl"], entries[1]["fullUrl"]
    ana = entries[1]["resource"]
    assert ana["patient"] == {"reference": patient_ref}
    assert ana["name"] == [{"text": "Ana Ruiz"}]
    assert ana["active"] is True
    assert ana["relationship"] == [
        {
            "text": "daughter",
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                    "code": "DAUC",
                    "display": "daughter",
                }
            ],
        }
    ]
    assert {"system": "phone", "value": "+1 555 201 0142"} in ana["telecom"]
    observations = [
        e["resource"] for e in entries if e["resource"]["resourceType"] == "Observation"
    ]
    performers = [(o["valueInteger"], o["performer"]) for o in observations]
    assert performers == [
        (6, [{"reference": patient_ref}]),
        (5, [{"reference": ana_ref}]),
    ]
    responses = [
        e["resource"] for e in entries if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert len(responses) == 2  # the warning-signs check and the daily-life questionnaire
    assert all(r["author"] == {"reference": ana_ref} for r in responses)


def test_the_patients_own_entries_name_the_patient(coordinator_client, jo, record):
    record.pain(jo.plan, TODAY - timedelta(days=1), 5)
    record.report(jo.plan, TODAY - timedelta(days=1), "none", fever=False)
    data = coordinator_client.get(f"/coordinator/patients/{jo.patient.id}/fhir.json").get_json()
    Bundle.model_validate(data)
    patient_ref = data["entry"][0]["fullUrl"]
    resources = [e["resource"] for e in data["entry"]]
    assert "RelatedPerson" not in [r["resourceType"] for r in resources]
    observation = next(r for r in resources if r["resourceType"] == "Observation")
    assert observation["performer"] == [{"reference": patient_ref}]
    report = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse")
    assert report["author"] == {"reference": patient_ref}


@pytest.mark.parametrize(
    ("relation", "code"),
    [
        ("daughter", "DAUC"),
        ("Hija", "DAUC"),
        ("son", "SONC"),
        ("husband", "HUSB"),
        ("esposa", "WIFE"),
        ("spouse", "SPS"),
        ("friend", "FRND"),
        ("neighbour", "NBOR"),
        ("neighbour from church", None),
    ],
)
def test_a_relation_is_coded_where_it_maps(coordinator_client, session, jo, record, relation, code):
    someone = add_ana(session, jo.patient, relation=relation)
    by(record.pain(jo.plan, TODAY - timedelta(days=1), 5), someone, session)
    data = coordinator_client.get(f"/coordinator/patients/{jo.patient.id}/fhir.json").get_json()
    Bundle.model_validate(data)
    person = data["entry"][1]["resource"]
    concept = person["relationship"][0]
    assert concept["text"] == relation
    assert [c["code"] for c in concept.get("coding", [])] == ([code] if code else [])
