"""A morning's triage on the demo data, entirely through the pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import NOW
from tracker.cli import demo
from tracker.core.models import Alert
from tracker.plans.warning_signs import load_signs, signs_path


def test_a_coordinator_works_the_demo_triage_list(app, session, templates):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    demo.seed(session, templates, signs, now=NOW, grace_days=14)
    client = app.test_client()
    signed_in = client.post(
        "/coordinator/login",
        data={"email": demo.COORDINATOR_EMAIL, "password": demo.DEMO_PASSWORD},
    )
    assert signed_in.status_code == 302

    page = client.get("/coordinator/").get_data(as_text=True)
    rows = re.findall(r'<th scope="row">\s*<a href="(/coordinator/patients/\d+)">([^<]+)</a>', page)
    # The 911 answer (critical) first, then the fever report (urgent).
    assert [name for _, name in rows[:2]] == ["Uma Patel", "Dmitri Vance"]
    assert "Red-flag symptom" in page and "No check-in" in page and "Worsening pain" in page

    first = rows[0][0]
    detail = client.get(first).get_data(as_text=True)
    alert_ids = re.findall(r"/alerts/(\d+)/resolve", detail)
    assert alert_ids
    for alert_id in alert_ids:
        response = client.post(
            f"{first}/alerts/{alert_id}/resolve", data={"note": "Called: seen in clinic today"}
        )
        assert response.status_code == 302
    after = client.get("/coordinator/").get_data(as_text=True)
    top = re.findall(r'<th scope="row">\s*<a href="[^"]+">([^<]+)</a>', after)
    assert top[0] == "Dmitri Vance"
    resolved = session.scalars(select(Alert).where(Alert.status == "resolved")).all()
    assert {a.resolution_note for a in resolved} == {"Called: seen in clinic today"}
