"""The message that hands a patient their new personal link, sent by the care team at once.

The same channels as the daily reminders (email over SMTP, text messages through the
clinic's gateway): what the patient gets looks like the tracker's other messages, with the
same 911 safety line (schedules/checks/warning_signs.yaml) and, for a text message, at most
``sms_text.MAX_SEGMENTS`` segments. Nothing here is stored: the raw link exists only in
the message handed to the channel.
"""

from __future__ import annotations

import uuid
from datetime import date

from markupsafe import escape

from tracker.core.models import Clinic, Patient
from tracker.core.phones import sms_number
from tracker.plans.warning_signs import WarningSign, safety_911, safety_lines
from tracker.reminders.messages import OutgoingMessage
from tracker.reminders.sms_text import fit

KIND = "link"

# Plain words (grade 6 or below: tests/coordinator/test_enrolment_link.py measures them).
INTRO = (
    "Your care team has set up your recovery plan. This link opens your own page. "
    "There you can see what to do each day, log your pain and check for warning signs."
)
KEEP_PRIVATE = "Keep this link to yourself. Anyone who has it can open your page."


def link_message(
    patient: Patient,
    clinic: Clinic,
    link: str,
    *,
    local_day: date,
    signs: tuple[WarningSign, ...],
) -> OutgoingMessage:
    """The email and text message carrying ``link`` to ``patient``; each send has its own
    idempotency key (sending again on purpose is a new message, not a duplicate)."""
    subject = f"Your recovery page at {clinic.name}"
    greeting = f"Hello {patient.name},"
    safety = safety_lines(signs, clinic.phone)
    text = "\n".join(
        [
            greeting,
            "",
            INTRO,
            "",
            "Open your page:",
            link,
            "",
            KEEP_PRIVATE,
            "",
            safety,
            "",
            clinic.name,
        ]
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>{escape(greeting)}</p><p>{escape(INTRO)}</p>"
        f'<p><a href="{escape(link)}">Open your page</a></p>'
        f"<p>{escape(KEEP_PRIVATE)}</p><p>{escape(safety)}</p><p>{escape(clinic.name)}</p>"
        "</body></html>"
    )
    short = fit(
        [
            (f"{clinic.name}: your recovery page.", False),
            (link, True),
            ("Keep this link to yourself.", False),
            (safety_911(signs), True),
        ]
    )
    return OutgoingMessage(
        idempotency_key=f"{KIND}-{patient.id}-{uuid.uuid4().hex}",
        kind=KIND,
        local_day=local_day,
        subject=subject,
        text=text,
        html=html,
        short_text=short,
        link=link,
        patient_id=patient.id,
        patient_name=patient.name,
        email=patient.email,
        phone=sms_number(patient.phone) or patient.phone,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
    )
