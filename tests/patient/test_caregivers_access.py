"""Access rules on the patient's pages as a matrix: every patient URL x who is asking.

The patient: everything. A caregiver who may act: every page and every write, but not the
"People helping me" page (403). A caregiver who may only view: every page, no write (403,
nothing stored). A caregiver removed while signed in, and nobody: the signed-out page (401).
A caregiver reaches only the patient they were added to (tests/patient/test_caregivers.py).
The care team's pages refuse caregivers: tests/coordinator/test_access.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import add_caregiver_fixture, open_link  # noqa: F401
from tests.patient.conftest import csrf_token, post_form
from tracker.core.models import (
    AuditEvent,
    Caregiver,
    CheckOff,
    OpioidCheck,
    PainEntry,
    QuestionnaireResponse,
    SymptomReport,
)
from tracker.plans import caregivers as domain

TODAY = "2026-11-21"
ANSWERS = {"bed": "2", "walk": "1", "dress": "1", "chores": "2", "sit": "3", "sleep": "1"}
NEW_CAREGIVER = {
    "name": "Eva Ruiz",
    "relation": "niece",
    "email": "eva@example.org",
    "scope": "view",
    "reminder": "no",
    "language": "en",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {entry}, {report}, {target} are filled in from the world fixture
    ok: int  # the patient's status
    data: tuple[tuple[str, str], ...] = ()
    manages_caregivers: bool = False  # the patient's own: 403 for any caregiver
    records: bool = False  # a write: 403 for a caregiver who may only view

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/me/", 200),
    Endpoint("GET", "/me/pain", 200),
    Endpoint("GET", "/me/pain/{entry}/fix", 200, records=True),
    Endpoint("GET", "/me/pain/{entry}/severe", 302),  # not severe: today's scores
    Endpoint("GET", "/me/warning-signs", 200),
    Endpoint("GET", "/me/warning-signs/{report}", 200),
    Endpoint("GET", "/me/warning-signs/{report}/change", 200, records=True),
    Endpoint("GET", "/me/progress", 200),
    Endpoint("GET", "/me/card", 200),
    Endpoint("GET", "/me/questions/daily_life", 200),
    Endpoint("GET", "/me/caregivers/", 200, manages_caregivers=True),
    Endpoint("GET", "/me/caregivers/{target}/remove", 200, manages_caregivers=True),
    Endpoint("POST", "/me/pain", 302, (("score", "3"),), records=True),
    Endpoint("POST", "/me/pain/{entry}/fix", 302, (("score", "2"),), records=True),
    Endpoint("POST", "/me/tasks/walk", 302, (("action", "done"), ("day", TODAY)), records=True),
    Endpoint("POST", "/me/opioids", 302, (("taking", "no"), ("day", TODAY)), records=True),
    Endpoint("POST", "/me/warning-signs", 302, (("all", "no"),), records=True),
    Endpoint("POST", "/me/warning-signs/{report}/change", 302, (("all", "no"),), records=True),
    Endpoint(
        "POST",
        "/me/questions/daily_life",
        302,
        (("point", "14"), *ANSWERS.items()),
        records=True,
    ),
    Endpoint("POST", "/me/caregivers/", 200, tuple(NEW_CAREGIVER.items()), manages_caregivers=True),
    Endpoint("POST", "/me/caregivers/{target}/remove", 302, manages_caregivers=True),
]
IDS = [str(e) for e in ENDPOINTS]
STORED = (PainEntry, CheckOff, OpioidCheck, SymptomReport, QuestionnaireResponse, Caregiver)


@pytest.fixture
def world(app, session, enroll_patient, add_caregiver):
    """A patient on day 14 (the questions are open, walking is on the list) with a pain
    score and a warning-signs check of today, an "act" and a "view" caregiver (each
    signed in on their own client) and a third caregiver to remove."""
    enrolment = enroll_patient(procedure_date="2026-11-07")
    patient = open_link(app.test_client(), enrolment.link_token)
    post_form(patient, "/me/pain", data={"score": "4"})
    html = patient.get("/me/warning-signs").get_data(as_text=True)
    patient.post(
        "/me/warning-signs", data={**_signs_answered(html), "csrf_token": csrf_token(html)}
    )
    actor, actor_link = add_caregiver(enrolment, scope="act")
    _viewer, viewer_link = add_caregiver(enrolment, name="Luis Ruiz", relation="son", scope="view")
    removed, removed_link = add_caregiver(enrolment, name="Tom Ruiz", relation="son-in-law")
    target, _ = add_caregiver(enrolment, name="Sam Ruiz", relation="grandson")
    clients = {
        "patient": patient,
        "act": open_link(app.test_client(), actor_link),
        "view": open_link(app.test_client(), viewer_link),
        "removed": open_link(app.test_client(), removed_link),
        "nobody": app.test_client(),
    }
    domain.remove_caregiver(
        session, session.get(Caregiver, removed.id), actor=domain.Actor.patient(1), now=NOW
    )
    session.commit()
    return {
        "clients": clients,
        "entry": session.scalars(select(PainEntry.id)).one(),
        "report": session.scalars(select(SymptomReport.id)).one(),
        "target": target.id,
        "actor": actor.id,
    }


def _signs_answered(html: str) -> dict[str, str]:
    import re

    return dict.fromkeys(re.findall(r'name="(q_[^"]+)"', html), "no")


def call(world, who: str, endpoint: Endpoint):
    client = world["clients"][who]
    path = endpoint.path.format(**world)
    if endpoint.method == "GET":
        return client.get(path)
    # Any page of theirs for the form's CSRF token (the signed-out page has none).
    html = client.get("/me/").get_data(as_text=True)
    data = dict(endpoint.data)
    if data.pop("all", None) is not None:
        form = world["clients"]["patient"].get("/me/warning-signs").get_data(as_text=True)
        data.update(_signs_answered(form))
    if 'name="csrf_token"' in html:
        data["csrf_token"] = csrf_token(html)
    return client.post(path, data=data)


def _counts(session) -> dict[str, int]:
    session.expire_all()
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in STORED} | {
        "removed": session.scalar(
            select(func.count()).select_from(Caregiver).where(Caregiver.removed_at.is_not(None))
        )
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_the_patient_may_do_everything(world, endpoint):
    assert call(world, "patient", endpoint).status_code == endpoint.ok


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_caregiver_who_acts_may_do_all_but_manage_caregivers(session, world, endpoint):
    before = _counts(session)
    response = call(world, "act", endpoint)
    if endpoint.manages_caregivers:
        assert response.status_code == 403
        assert _counts(session) == before
    else:
        assert response.status_code == endpoint.ok
    if endpoint.method == "POST" and endpoint.records:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.actor_caregiver_id == world["actor"])
        ).all()
        assert all(e.actor_type == "caregiver" for e in events)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_caregiver_who_views_may_only_read(session, world, endpoint):
    before = _counts(session)
    response = call(world, "view", endpoint)
    if endpoint.manages_caregivers or endpoint.records:
        assert response.status_code == 403
    else:
        assert response.status_code == endpoint.ok
    assert _counts(session) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("who", ["removed", "nobody"])
def test_a_removed_caregiver_and_nobody_are_signed_out(session, world, endpoint, who):
    before = _counts(session)
    response = call(world, who, endpoint)
    assert response.status_code == 401
    assert _counts(session) == before
