"""The demo seeds a believable clinic once, and only once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import NOW
from tracker import demo
from tracker.models import CarePlan, PainEntry, Patient, SymptomReport, User
from tracker.warning_signs import load_signs, signs_path


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
    assert session.scalar(select(func.count()).select_from(Patient)) == len(demo.PATIENTS) == 20
    assert session.scalar(select(func.count()).select_from(User)) == 2

    plans = {p.patient.name: p for p in session.scalars(select(CarePlan))}
    improving = _daily_means(session, plans["Samuel Greene"].id)
    assert improving[0] > improving[-1] + 2
    worsening = _daily_means(session, plans["Jonah Brandt"].id)
    assert worsening[-1] >= min(worsening) + 2
    red = session.scalars(select(SymptomReport).where(SymptomReport.severity != "none")).all()
    assert [r.plan_id for r in red] == [plans["Dmitri Vance"].id]
    missed = plans["Grace Iwu"]
    last_logged = session.scalar(
        select(func.max(PainEntry.local_day)).where(PainEntry.plan_id == missed.id)
    )
    assert (missed.procedure_date.toordinal() + 7) - last_logged.toordinal() >= 3

    _, again = demo.seed(session, templates, signs, now=NOW, grace_days=14)
    assert not again
    assert session.scalar(select(func.count()).select_from(Patient)) == 20
