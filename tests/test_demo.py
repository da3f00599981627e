"""The demo seeds a believable clinic once, and only once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import NOW
from tracker.cli import demo
from tracker.core.models import (
    Alert,
    Caregiver,
    CarePlan,
    PainEntry,
    Patient,
    SymptomReport,
    User,
)
from tracker.plans.warning_signs import load_signs, signs_path
from tracker.reminders.planning import planned_through


def _daily_means(session, plan_id):
    rows = session.execute(
        select(PainEntry.local_day, func.avg(PainEntry.score))
        .where(PainEntry.plan_id == plan_id)
        .group_by(PainEntry.local_day)
        .order_by(PainEntry.local_day)
    ).all()
    return [float(mean) for _, mean in rows]


def test_the_demo_seeds_patients_with_varied_histories_once(app, session, templates):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    _clinic, created = demo.seed(session, templates, signs, now=NOW, grace_days=14)
    assert created
    assert session.scalar(select(func.count()).select_from(Patient)) == len(demo.PATIENTS) == 24
    assert session.scalar(select(func.count()).select_from(User)) == 2

    plans = {p.patient.name: p for p in session.scalars(select(CarePlan))}
    improving = _daily_means(session, plans["Samuel Greene"].id)
    assert improving[0] > improving[-1] + 2
    worsening = _daily_means(session, plans["Jonah Brandt"].id)
    assert worsening[-1] >= min(worsening) + 2
    red = session.scalars(select(SymptomReport).where(SymptomReport.severity != "none")).all()
    assert {r.plan_id for r in red} == {plans["Dmitri Vance"].id, plans["Uma Patel"].id}
    # The escalation stories: a fever then weak legs is one critical alert; a paused patient's
    # 9/10 is heard; a corrected 10 says so; scores before the procedure are kept as such.
    by_plan = {(a.plan_id, a.rule): a for a in session.scalars(select(Alert))}
    uma = by_plan[(plans["Uma Patel"].id, "red_flag")]
    assert (uma.urgency, uma.detail["signs"]) == ("critical", ["fever", "leg_weakness"])
    victor = plans["Victor Osei"]
    assert victor.status == "paused" and (victor.id, "severe_pain") in by_plan
    wanda = by_plan[(plans["Wanda Fischer"].id, "severe_pain")]
    assert [(c["from"], c["to"]) for c in wanda.detail["corrections"]] == [(10, 1)]
    before = session.scalar(
        select(func.count())
        .select_from(PainEntry)
        .where(
            PainEntry.plan_id == plans["Wanda Fischer"].id,
            PainEntry.local_day < plans["Wanda Fischer"].procedure_date,
        )
    )
    assert before == 2
    missed = plans["Grace Iwu"]
    last_logged = session.scalar(
        select(func.max(PainEntry.local_day)).where(PainEntry.plan_id == missed.id)
    )
    assert (missed.procedure_date.toordinal() + 7) - last_logged.toordinal() >= 3

    # Synthetic pasts are not days a scheduler missed: planning starts at the demo's start.
    assert planned_through(session) == NOW

    _, again = demo.seed(session, templates, signs, now=NOW, grace_days=14)
    assert not again
    assert session.scalar(select(func.count()).select_from(Patient)) == 24
    assert session.scalar(select(func.count()).select_from(Caregiver)) == 1


def test_the_demo_has_a_spanish_speaker_whose_daughter_enters_some_of_her_days(
    app, session, templates
):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    demo.seed(session, templates, signs, now=NOW, grace_days=14)
    yolanda = session.scalar(select(Patient).where(Patient.name == "Yolanda Ríos"))
    assert yolanda.language == "es"
    (lucia,) = yolanda.caregivers
    assert (lucia.label, lucia.scope, lucia.language) == ("Lucía Ríos (daughter)", "act", "es")
    assert lucia.consent == "recorded" and lucia.added_by_user_id is not None
    assert lucia.reminder_channel == "webhook" and lucia.sms_number == "+15552010190"
    entries = session.scalars(
        select(PainEntry).where(PainEntry.plan_id == yolanda.plans[-1].id)
    ).all()
    by_her = {e.local_day for e in entries if e.entered_by_caregiver_id == lucia.id}
    by_patient = {e.local_day for e in entries if e.entered_by_caregiver_id is None}
    assert by_her and by_patient  # some days each: the care team sees who entered what

