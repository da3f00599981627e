"""Answers stored under retired warning-sign keys still read on the care team's patient page
and in the FHIR export; new keys read too (schedules/checks/warning_signs.yaml, version 2)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from fhir.resources.R4B.bundle import Bundle

TODAY = date(2026, 11, 21)


def test_old_and_new_keys_read_on_the_patient_page_and_in_the_fhir_export(
    coordinator_client, enrolled, record
):
    ours = enrolled(days_ago=5, name="Keys Person")
    plan = ours.plan
    record.report(plan, TODAY - timedelta(days=2), "call_team", pain_not_improving=True)
    record.report(plan, TODAY - timedelta(days=1), "call_team", allergic_reaction=True, fever=False)

    page = coordinator_client.get(f"/coordinator/patients/{ours.patient.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Is your pain not getting better?" in html
    assert "Since your last check, have you had a new rash, hives or itchy skin?" in html
    assert "pain_not_improving" not in html and "allergic_reaction" not in html

    response = coordinator_client.get(f"/coordinator/patients/{ours.patient.id}/fhir.json")
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    responses = [
        e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "QuestionnaireResponse"
    ]
    texts = [{item.linkId: item.text for item in r.item} for r in responses]
    assert texts == [
        {"pain_not_improving": "Is your pain not getting better?"},
        {
            "allergic_reaction": (
                "Since your last check, have you had a new rash, hives or itchy skin?"
            ),
            "fever": "Since your last check, have you had a fever of 100.4 °F (38 °C) or higher?",
        },
    ]
