"""The message that hands a patient their new personal link, sent by the care team at once.

The same channels as the daily reminders (email over SMTP, text messages through the
clinic's gateway): what the patient gets looks like the tracker's other messages, with the
same 911 safety line (schedules/checks/warning_signs.yaml) and, for a text message, at most
``sms_text.MAX_SEGMENTS`` segments, in the patient's language. Nothing here is stored: the
raw link exists only in the message handed to the channel.
"""

from __future__ import annotations

import uuid
from datetime import date

from markupsafe import escape

from tracker.core.languages import DEFAULT_LANGUAGE, language_or_default, translator
from tracker.core.models import Clinic, Patient
from tracker.core.phones import sms_number
from tracker.plans.warning_signs import WarningSign
from tracker.reminders.messages import OutgoingMessage
from tracker.reminders.safety import safety_911_in, safety_lines_in
from tracker.reminders.sms_text import fit

KIND = "link"


# Plain words (grade 6 or below: tests/coordinator/test_enrolment_link.py measures them).
def intro(language: str = DEFAULT_LANGUAGE) -> str:
    return translator(language).gettext(
        "Your care team has set up your recovery plan. This link opens your own page. "
        "There you can see what to do each day, log your pain and check for warning signs."
    )


def keep_private(language: str = DEFAULT_LANGUAGE) -> str:
    return translator(language).gettext(
        "Keep this link to yourself. Anyone who has it can open your page."
    )


INTRO = intro()
KEEP_PRIVATE = keep_private()


def link_message(
    patient: Patient,
    clinic: Clinic,
    link: str,
    *,
    local_day: date,
    signs: tuple[WarningSign, ...],
) -> OutgoingMessage:
    """The email and text message carrying ``link`` to ``patient``, in their language; each
    send has its own idempotency key (sending again on purpose is a new message, not a
    duplicate)."""
    language = language_or_default(patient.language)
    t = translator(language)
    subject = t.gettext("Your recovery page at %(clinic)s") % {"clinic": clinic.name}
    greeting = t.gettext("Hello %(name)s,") % {"name": patient.name}
    safety = safety_lines_in(signs, clinic.phone, language)
    words, private = intro(language), keep_private(language)
    text = "\n".join(
        [
            greeting,
            "",
            words,
            "",
            t.gettext("Open your page:"),
            link,
            "",
            private,
            "",
            safety,
            "",
            clinic.name,
        ]
    )
    # Outside the f-string: Babel's extractor does not read inside one.
    open_page = t.gettext("Open your page")
    html = (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>{escape(greeting)}</p><p>{escape(words)}</p>"
        f'<p><a href="{escape(link)}">{escape(open_page)}</a></p>'
        f"<p>{escape(private)}</p><p>{escape(safety)}</p><p>{escape(clinic.name)}</p>"
        "</body></html>"
    )
    short = fit(
        [
            (t.gettext("%(clinic)s: your recovery page.") % {"clinic": clinic.name}, False),
            (link, True),
            (t.gettext("Keep this link to yourself."), False),
            (safety_911_in(signs, language), True),
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
        language=language,
    )
