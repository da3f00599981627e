"""Done when a patient can do a whole week by text alone: seven daily texts, seven check-ins
answered by text (pain, the warning signs, the opioid question), no web page opened, and the
care team sees all of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tests.coordinator.conftest import sign_in_as
from tests.texting.conftest import NUMBER, at, tick
from tests.texting.test_care_texts import _user
from tracker.core.models import Alert, OpioidCheck, PainEntry, PatientSession, SymptomReport
from tracker.reminders.sms_rules import PAIN_PROMPT

PAIN = [6, 5, 5, 4, 3, 3, 2]


def test_a_week_of_check_ins_by_text_alone(app, fake, gateway_server, session, patient):
    # The rate limit counts real seconds, and this week passes in a few of them.
    app.config["SMS_LIMIT_PER_NUMBER"] = "100 per 10 minutes"
    for n, score in enumerate(PAIN):
        now = NOW + timedelta(days=n)  # 10:00 in New York, day n + 1 after the procedure
        tick(app, now)
        daily = [t for t in fake.conversation(NUMBER) if t.kind == "daily"]
        assert len(daily) == n + 1
        assert daily[-1].body.startswith(f"Test Spine Clinic: Day {n + 1} of your recovery.")
        assert PAIN_PROMPT in daily[-1].body
        fake.flush_callbacks()

        at(app, now + timedelta(minutes=20))
        replies = fake.text_from(NUMBER, str(score))
        assert replies[0] == f"Thank you. Your pain score of {score} is saved."
        assert replies[1].startswith("Warning signs (1 of 2).")
        assert fake.text_from(NUMBER, "0")[1].startswith("Warning signs (2 of 2).")
        assert fake.text_from(NUMBER, "none")[1].startswith("Are you taking opioid pain")
        taking = n < 3
        (done,) = fake.text_from(NUMBER, "yes" if taking else "no")
        assert done.startswith("Saved: you take" if taking else "Saved: you do not take")
        assert "That is all for today." in done

    # Every day is recorded as if the web pages had been used.
    pain = session.scalars(select(PainEntry).order_by(PainEntry.local_day)).all()
    assert [e.score for e in pain] == PAIN
    assert len({e.local_day for e in pain}) == 7
    assert len(session.scalars(select(SymptomReport)).all()) == 14
    checks = session.scalars(select(OpioidCheck).order_by(OpioidCheck.local_day)).all()
    assert [c.taking for c in checks] == [True, True, True, False, False, False, False]
    # Never signed in on the web; no "no check-in" or other alert on the way.
    assert session.scalars(select(PatientSession)).all() == []
    tick(app, NOW + timedelta(days=7, hours=-2))  # 08:00 on day 8: rules run, no text yet
    assert session.scalars(select(Alert)).all() == []
    # Every reminder text reached the phone, as the gateway reported.
    assert {t.status for t in fake.conversation(NUMBER) if t.kind == "daily"} == {"delivered"}

    # The care team sees the week: the conversation, and the scores on the patient's page.
    coordinator = sign_in_as(app.test_client(), _user(session, patient.plan.clinic))
    texts = coordinator.get(f"/coordinator/patients/{patient.patient.id}/texts")
    page = texts.get_data(as_text=True)
    assert page.count("Daily reminder for Nov ") == 7
    for n, score in enumerate(PAIN):
        assert f"Pain score {score} for Nov {21 + n}, 2026" in page
    assert page.count("Opioid pain medicine today: yes") == 3
    assert "text-kind-unparsed" not in page
    detail = coordinator.get(f"/coordinator/patients/{patient.patient.id}")
    assert detail.status_code == 200
    triage = coordinator.get("/coordinator/")
    assert triage.status_code == 200 and patient.patient.name in triage.get_data(as_text=True)
