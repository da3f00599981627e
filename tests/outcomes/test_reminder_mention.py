"""The daily reminder mentions the questions on the day a time point starts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reminders.test_sms_content import LINK, _reminder, _sms_ok
from tracker.plans.warning_signs import current_signs, safety_911
from tracker.reminders.messages import QUESTIONS_LINE, QUESTIONS_SMS, compose


@pytest.mark.parametrize(("day_number", "mentioned"), [(13, False), (14, True), (15, False)])
def test_it_mentions_the_questions_on_the_first_day_only(
    session, enroll_patient, clinic, day_number, mentioned
):
    enrolled = enroll_patient()
    plan = enrolled.plan
    day = plan.procedure_date + timedelta(days=day_number)
    message = compose(
        session, _reminder("daily", day), plan, enrolled.patient, clinic, LINK, missed=False
    )
    assert (QUESTIONS_LINE in message.text) == mentioned
    assert (QUESTIONS_SMS in message.short_text) == mentioned
    _sms_ok(message.short_text)
    assert message.short_text.endswith(safety_911(current_signs()))


def test_a_long_clinic_name_drops_the_mention_not_the_link(session, enroll_patient, clinic):
    clinic.name = "N" * 200
    enrolled = enroll_patient()
    day = enrolled.plan.procedure_date + timedelta(days=14)
    message = compose(
        session,
        _reminder("daily", day),
        enrolled.plan,
        enrolled.patient,
        clinic,
        LINK,
        missed=False,
    )
    _sms_ok(message.short_text)
    assert LINK in message.short_text
    assert QUESTIONS_LINE in message.text  # the email keeps it
