"""Each kind of reply, through the gateway's endpoint: what is stored, what the patient is
texted back, and what the care team is shown it meant. The same rows and alerts as the web
forms make (tests/patient cover those forms)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.texting.conftest import NUMBER, at, count, texts
from tracker.core.models import (
    Alert,
    AuditEvent,
    CarePlan,
    OpioidCheck,
    PainEntry,
    SymptomReport,
)
from tracker.plans.warning_signs import current_signs, safety_911

SAFETY = safety_911(current_signs())
PART_1 = "Warning signs (1 of 2). Since your last check, have you had any of these?"
PART_2 = "Warning signs (2 of 2)."
OPIOIDS = "Are you taking opioid pain medicine today? Text back YES or NO."


def test_a_pain_score_is_saved_and_the_warning_signs_are_asked_next(app, fake, session, patient):
    replies = fake.text_from(NUMBER, "4")
    assert replies[0] == "Thank you. Your pain score of 4 is saved."
    assert replies[1].startswith(PART_1)
    entry = session.scalars(select(PainEntry)).one()
    assert (entry.score, entry.local_day.isoformat(), entry.plan_id) == (
        4,
        "2026-11-21",
        patient.plan.id,
    )
    assert entry.recorded_at == NOW and entry.context is None and entry.note is None
    inbound, ack, question = texts(session)
    assert (inbound.direction, inbound.kind, inbound.body) == ("in", "pain", "4")
    assert inbound.meaning == "Pain score 4 for Nov 21, 2026"
    assert inbound.detail["pain_entry_id"] == entry.id
    assert (ack.kind, ack.question, question.question) == ("reply", None, "signs:1")
    assert question.detail["keys"][0] == "chest_pain"
    # The next tick evaluates the plan's rules, as after a score on the web.
    session.expire_all()
    assert session.get(CarePlan, patient.plan.id).alerts_due_at == NOW


def test_a_whole_check_in_by_text(fake, session, patient):
    fake.text_from(NUMBER, "my pain is 3")
    none_1 = fake.text_from(NUMBER, "0")
    assert none_1[0] == "Thank you. Your answers are saved."
    assert none_1[1].startswith(PART_2)
    none_2 = fake.text_from(NUMBER, "none")
    assert none_2 == ["Thank you. Your answers are saved.", OPIOIDS]
    done = fake.text_from(NUMBER, "Yes")
    assert done == [
        "Saved: you take opioid pain medicine today. Please do not drive. "
        f"That is all for today. {SAFETY}"
    ]
    reports = session.scalars(select(SymptomReport).order_by(SymptomReport.id)).all()
    assert [r.severity for r in reports] == ["none", "none"]
    asked = [k for r in reports for k in r.answers]
    assert asked == [s.key for s in current_signs()]  # every sign, each asked once
    assert not any(v for r in reports for v in r.answers.values())
    check = session.scalars(select(OpioidCheck)).one()
    assert check.taking is True and check.local_day.isoformat() == "2026-11-21"
    meanings = [t.meaning for t in texts(session, direction="in")]
    assert meanings == [
        "Pain score 3 for Nov 21, 2026",
        "Warning signs (1 of 2): none of these",
        "Warning signs (2 of 2): none of these",
        "Opioid pain medicine today: yes",
    ]
    assert count(session, Alert) == 0


def test_a_changed_opioid_answer_supersedes_and_is_audited(fake, session, patient):
    for reply in ("3", "0", "0", "yes"):
        fake.text_from(NUMBER, reply)
    # Nothing is asked any more: a later "no" is not an answer to anything.
    late = fake.text_from(NUMBER, "no")
    assert late[0].startswith("Text your pain from 0 (none) to 10 (worst).")
    assert count(session, OpioidCheck) == 1


def test_the_pain_question_is_asked_again_after_a_number_out_of_range(fake, session, patient):
    replies = fake.text_from(NUMBER, "11")
    assert replies == [
        f"Pain scores go from 0 to 10. Please text one number, like 4. For help, call "
        f"555-0142. {SAFETY}"
    ]
    assert count(session, PainEntry) == 0
    (inbound,) = texts(session, direction="in")
    assert (inbound.kind, inbound.detail) == ("unparsed", {"problem": "out_of_range"})


@pytest.mark.parametrize("reply", ["7.5", "seven and a half"])
def test_a_score_that_is_not_a_whole_number_saves_nothing(fake, session, patient, reply):
    fake.text_from(NUMBER, reply)
    assert count(session, PainEntry) == 0


def test_words_nobody_can_read_get_help_and_go_to_the_care_team_as_they_came(
    fake, session, patient
):
    replies = fake.text_from(NUMBER, "I fell in the kitchen\nand my back hurts")
    assert replies[0].startswith(
        "Sorry, we could not read that. Your care team will see your text."
    )
    assert replies[0].endswith(SAFETY)
    (inbound,) = texts(session, direction="in")
    assert inbound.kind == "unparsed"
    assert inbound.body == "I fell in the kitchen\nand my back hurts"
    assert inbound.meaning == "Not understood: shown to the care team as it came"
    assert count(session, PainEntry) == 0


def test_a_number_during_the_signs_list_names_a_sign_and_a_wrong_one_asks_again(
    fake, session, patient
):
    fake.text_from(NUMBER, "2")
    again = fake.text_from(NUMBER, "9")  # part 1 lists 6 signs: 9 is none of them
    assert again[0].startswith("Please text the numbers of the signs you have, from 1 to 6")
    assert count(session, SymptomReport) == 0 and count(session, PainEntry) == 1
    # Still asked: the answer is read against the same list.
    assert texts(session, direction="out")[-1].question == "signs:1"
    which = fake.text_from(NUMBER, "yes")
    assert which[0].startswith("Which ones? Text their numbers, from 1 to 6, like 1 3.")
    saved = fake.text_from(NUMBER, "0")
    assert saved[0] == "Thank you. Your answers are saved."


def test_yesterdays_question_is_not_answered_today(app, fake, session, patient):
    fake.text_from(NUMBER, "5")  # asks warning signs part 1 today
    at(app, NOW + timedelta(days=1))
    replies = fake.text_from(NUMBER, "1")
    assert replies[0] == "Thank you. Your pain score of 1 is saved."
    assert count(session, SymptomReport) == 0
    assert [e.score for e in session.scalars(select(PainEntry).order_by(PainEntry.id))] == [5, 1]


def test_a_severe_score_says_what_to_do_and_who_knows_and_alerts_as_on_the_web(
    app, fake, session, patient
):
    replies = fake.text_from(NUMBER, "8")
    assert replies[0] == (
        "Thank you. Your pain score of 8 is saved. Your pain is severe. Please call your "
        "care team now. Tell them your pain score."
    )
    # Saturday: the office is closed, and nobody is paged (no on-call list): it says so.
    assert replies[1].startswith("Our office is closed. Your care team will see this when")
    assert replies[1].endswith("If you need help before then, call 555-0142.")
    assert replies[2].startswith(PART_1)
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.urgency, alert.status) == ("severe_pain", "high", "open")
    assert alert.summary == "Pain 8/10 on day 1"
    (inbound,) = texts(session, direction="in")
    assert inbound.detail["alert_id"] == alert.id


def test_a_paused_plan_still_hears_the_pain_and_asks_nothing_more(fake, session, patient):
    plan = session.get(CarePlan, patient.plan.id)
    plan.status = "paused"
    session.commit()
    replies = fake.text_from(NUMBER, "4")
    assert replies == [f"Thank you. Your pain score of 4 is saved. That is all for today. {SAFETY}"]
    assert count(session, PainEntry) == 1


def test_a_text_with_no_patient_behind_its_number_gets_a_generic_reply(fake, session, patient):
    replies = fake.text_from("+15552019999", "8")
    assert replies == [
        "This number is not set up for recovery texts, so your text was not saved. Please "
        f"call your care team. {SAFETY}"
    ]
    assert count(session, PainEntry) == 0
    (row,) = texts(session)
    assert (row.patient_id, row.clinic_id, row.body, row.kind) == (
        None,
        None,
        None,
        "unknown_sender",
    )
    assert row.number == "+155***9999"  # a stranger's number is not kept
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "text.unknown_sender"))
    assert [a.detail["matches"] for a in audit] == [0]


def test_a_number_two_patients_share_is_never_taken_for_either(
    fake, session, patient, enroll_patient
):
    enroll_patient(name="Sam Example", phone="+1 555 201 0142")
    replies = fake.text_from(NUMBER, "8")
    assert replies[0].startswith("This number is not set up for recovery texts")
    assert count(session, PainEntry) == 0
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "text.unknown_sender"))
    assert [a.detail["matches"] for a in audit] == [2]


def test_a_patient_whose_plan_ended_is_not_matched(fake, session, patient, enroll_patient):
    plan = session.get(CarePlan, patient.plan.id)
    plan.status, plan.ended_at = "ended", NOW
    session.commit()
    assert fake.text_from(NUMBER, "3")[0].startswith("This number is not set up")
    assert count(session, PainEntry) == 0


def test_the_number_is_matched_however_the_phone_was_typed(fake, session, enroll_patient):
    enroll_patient(phone="555.201.0142")
    assert fake.text_from("+15552010142", "2")[0] == "Thank you. Your pain score of 2 is saved."


def test_a_reply_at_night_is_answered_whatever_the_quiet_hours(app, fake, session, patient):
    from datetime import time

    clinic = patient.plan.clinic
    clinic.quiet_hours_start, clinic.quiet_hours_end = time(21, 0), time(8, 0)
    session.commit()
    at(app, datetime(2026, 11, 22, 4, 30, tzinfo=UTC))  # 23:30 in New York
    assert fake.text_from(NUMBER, "6")[0] == "Thank you. Your pain score of 6 is saved."
