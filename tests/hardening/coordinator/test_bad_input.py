"""Property-based: the care team's forms and query parameters never answer with a 5xx.

Hypothesis drives the triage filters and page numbers, the audit log's page and patient,
export date ranges, ids in URLs, the clinic's alert thresholds, plan adjustments and the
enrolment form. Whatever arrives, the answer is the expected page or a 4xx with a message,
and nothing is stored unless the values were valid. (CSRF is off in these fixtures so the
fields themselves are exercised; tests/coordinator/test_csrf.py covers the token.)
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hardening.test_enrollment_input import (
    dates,
    emails,
    levels,
    names,
    phones,
    procedures,
    times,
    zones,
)
from tracker.care.admin import THRESHOLDS
from tracker.core.models import AuditEvent, CarePlan, Clinic, Patient, PlanAdjustment
from tracker.web.input_rules import CONTROL_CHARACTER_MESSAGE, has_control_characters

EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TRICKY = ["", " ", "²", "٣", "-1", "0", "1", "99999999999999999999", "1e3", "1.5", "NaN", "∞"]
junk = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30))
numbers = st.one_of(st.integers(-10, 10**6).map(str), junk)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@EXAMPLES
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "has_alerts": st.one_of(st.sampled_from(["1", "on", "true"]), junk),
            "procedure": st.one_of(st.sampled_from(["kyphoplasty", "vertebroplasty"]), junk),
            "status": st.one_of(st.sampled_from(["active", "paused", "ended", "all"]), junk),
            "min_day": numbers,
            "max_day": numbers,
            "page": numbers,
            "unknown": junk,
        },
    )
)
def test_triage_filters_and_pages_never_fail(coordinator_client, params):
    response = coordinator_client.get("/coordinator/", query_string=params)
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    if response.status_code == 400:
        assert any(
            words in page for words in ("Enter a whole number", "Choose a", "must not be before")
        )


@EXAMPLES
@given(page=numbers, patient=st.one_of(numbers, st.just("{own}")))
def test_the_audit_log_pages_and_patient_filter_never_fail(
    admin_client, enroll_patient, session, page, patient
):
    own = session.scalar(select(Patient.id)) or enroll_patient().patient.id
    patient = patient.replace("{own}", str(own))
    response = admin_client.get(
        "/coordinator/admin/audit", query_string={"page": page, "patient": patient}
    )
    # The filter is part of a name (issue 20): any text is a search, never an error.
    assert response.status_code == 200


@EXAMPLES
@given(
    start=st.one_of(st.dates(date(2000, 1, 1), date(2100, 1, 1)).map(date.isoformat), junk),
    end=st.one_of(st.dates(date(2000, 1, 1), date(2100, 1, 1)).map(date.isoformat), junk),
)
def test_export_date_ranges_give_a_file_or_a_message(coordinator_client, session, start, end):
    before = _count(session, AuditEvent)
    response = coordinator_client.get(
        "/coordinator/exports/pain.csv", query_string={"start": start, "end": end}
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.mimetype == "text/csv"
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
        assert first <= last
        assert _count(session, AuditEvent) == before + 1  # the export is audited
    else:
        page = response.get_data(as_text=True)
        assert "Enter a date" in page or "end date" in page or "at most" in page
        assert _count(session, AuditEvent) == before


@EXAMPLES
@given(
    patient_id=st.one_of(st.integers(0, 10**20), st.sampled_from(["own", "other"])),
    suffix=st.sampled_from(["", "/fhir.json"]),
)
def test_ids_in_urls_are_the_clinics_own_or_not_found(
    coordinator_client, enroll_patient, other_clinic, session, patient_id, suffix
):
    own = session.scalar(select(Patient.id).where(Patient.clinic_id != other_clinic.id))
    if own is None:
        own = enroll_patient().patient.id
        enroll_patient(name="Elsewhere", clinic=other_clinic)
    theirs = session.scalar(select(Patient.id).where(Patient.clinic_id == other_clinic.id))
    target = {"own": own, "other": theirs}.get(patient_id, patient_id)
    response = coordinator_client.get(f"/coordinator/patients/{target}{suffix}")
    response.close()
    assert response.status_code == (200 if target == own else 404)


@EXAMPLES
@given(values=st.fixed_dictionaries({t.name: numbers for t in THRESHOLDS}))
def test_clinic_thresholds_store_only_values_in_range(admin_client, session, values):
    form = {"phone": "555-0142", "after_hours_phone": "", **values}
    session.expire_all()
    clinic = session.scalars(select(Clinic)).one()
    before = {t.name: getattr(clinic, t.name) for t in THRESHOLDS}
    response = admin_client.post("/coordinator/admin/clinic", data=form)
    assert response.status_code in (302, 400)
    session.expire_all()
    after = {t.name: getattr(session.get(Clinic, clinic.id), t.name) for t in THRESHOLDS}
    if response.status_code == 302:
        for t in THRESHOLDS:
            assert t.low <= after[t.name] <= t.high
            assert after[t.name] == t.kind(values[t.name].strip())
    else:
        assert after == before
        page = response.get_data(as_text=True)
        if any(has_control_characters(v) for v in form.values()):
            assert CONTROL_CHARACTER_MESSAGE in page  # refused before the view runs
        else:
            assert "Enter a" in page


@EXAMPLES
@given(
    kind=st.sampled_from(["restrictions", "appointments", "status"]),
    key=st.one_of(
        st.sampled_from(["no_heavy_lifting", "followup_first", "walk", "bed_rest"]), junk
    ),
    value=st.one_of(numbers, st.dates().map(date.isoformat)),
    action=st.one_of(st.sampled_from(["pause", "resume", "end"]), junk),
)
def test_plan_adjustments_change_the_plan_only_when_valid(
    coordinator_client, enroll_patient, session, kind, key, value, action
):
    patient_id = session.scalar(select(Patient.id)) or enroll_patient().patient.id
    before = _count(session, PlanAdjustment)
    form = {"key": key, "end_day": value, "date": value, "action": action, "note": "checked"}
    response = coordinator_client.post(f"/coordinator/patients/{patient_id}/{kind}", data=form)
    assert response.status_code in (302, 400)
    added = _count(session, PlanAdjustment) - before
    assert added == (1 if response.status_code == 302 else 0)
    plan = session.scalars(select(CarePlan)).one()
    assert plan.status in ("active", "paused", "ended")
    if kind == "status" and plan.status == "ended":
        # Start the next example from an active plan again.
        plan.status, plan.ended_at = "active", None
        session.commit()


@EXAMPLES
@given(
    name=names,
    procedure=procedures,
    procedure_date=dates,
    timezone=zones,
    reminder_time=times,
    email=emails,
    phone=phones,
    levels=levels,
)
def test_the_enrolment_form_enrols_only_valid_patients(
    coordinator_client,
    session,
    name,
    procedure,
    procedure_date,
    timezone,
    reminder_time,
    email,
    phone,
    levels,
):
    form = {
        "name": name,
        "procedure": procedure,
        "procedure_date": procedure_date,
        "timezone": timezone,
        "reminder_time": reminder_time,
        "email": email,
        "phone": phone,
        "levels": levels,
    }
    form = {k: v for k, v in form.items() if v is not None}
    before = _count(session, Patient)
    response = coordinator_client.post("/coordinator/enrol", data=form)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert _count(session, Patient) == before + 1
        assert "/p/" in response.get_data(as_text=True)  # the link, shown once
    else:
        assert _count(session, Patient) == before


def test_the_inputs_that_used_to_fail_are_refused_plainly(
    coordinator_client, admin_client, enroll_patient
):
    """Found by the properties above: "²" passes str.isdigit but not int(); ids overflow."""
    patient = enroll_patient().patient.id
    assert coordinator_client.get("/coordinator/?min_day=²").status_code == 400
    assert coordinator_client.get("/coordinator/?page=²").status_code == 200  # page 1
    assert coordinator_client.get("/coordinator/patients/99999999999999999999").status_code == 404
    assert coordinator_client.get("/coordinator/patients/2147483648").status_code == 404
    assert (
        admin_client.get("/coordinator/admin/audit?patient=99999999999999999999").status_code == 200
    )
    assert admin_client.get("/coordinator/admin/audit?page=²").status_code == 200
    adjust = coordinator_client.post(
        f"/coordinator/patients/{patient}/restrictions",
        data={"key": "no_heavy_lifting", "end_day": "4²"},
    )
    assert adjust.status_code == 400
