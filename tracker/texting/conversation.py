"""Texts in from patients: who sent it, what it means, what it changes, and the reply.

``receive`` handles one inbound text, in one transaction, in this order:

1. the sender's number (E.164) must match **exactly one** patient whose current plan is
   running (active or paused, as on the web: a paused patient's pain is still heard);
   otherwise nothing is recorded for anyone, the sender gets a generic reply that names
   nobody, and an audit row says so;
2. the gateway's message id is claimed with an insert-or-ignore on a unique column: the
   same message posted again (a gateway retry, a replayed request) inserts nothing and is
   answered with no text. This is the only check, so it holds for two posts at once too;
3. the reply is read (reading.py) against the question the last text to the patient asked
   *today* (``TextMessage.question``), and applied with the same domain functions as the
   web pages: a pain score as on the pain form (severe pain alerts and pages at once), the
   warning-signs answers as on the warning-signs form (a red flag raises the alert, pages
   the on-call contact when the clinic's rules say so, and is answered at once with the
   911 or care-team instruction and who knows), the opioid answer as on Today;
4. the reply texts are recorded as outbound messages; the last one carries the next
   question: after a pain score, the warning signs if they are due today and not yet
   answered (a part at a time), then the opioid question if due and unanswered.

STOP (and its synonyms), START and HELP work from any number, matched or not: an opt-out is
kept by number (``TextOptOut``) and the reminders' deliver step honours it. After STOP,
nothing but START and HELP is answered; what such a number sends is kept for the care team.

**Languages**: a reply is read with every language's words (``words.reading_words``), and
what is texted back is in the sender's language (the patient's, or the caregiver's), with the
warning signs asked in that language's parts (which may be more, or fewer, than English's).

**Caregivers**: a number that is no running patient's but exactly one caregiver's (not
removed) is that caregiver's; a number a patient and a caregiver share is the patient's.
The caregiver's texts are in the patient's conversation with ``caregiver_id``, and what
they record carries ``entered_by_caregiver_id`` and an audit row with them as the actor,
if their scope is "act". A "view" caregiver's score or answers are not recorded: they are
told so, with whom to call and the 911 line, and the text is kept as not understood, so it
shows on the care team's list to be read (as any text nobody could read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.alerts import rules as alerts
from tracker.alerts.corrections import add_symptom_report, current_symptom_reports
from tracker.core import audit
from tracker.core.db import insert_or_ignore
from tracker.core.languages import DEFAULT_LANGUAGE, language_or_default
from tracker.core.models import (
    Alert,
    Caregiver,
    CarePlan,
    Clinic,
    PainEntry,
    Patient,
    SymptomReport,
    TextMessage,
    TextOptOut,
    User,
)
from tracker.core.phones import masked, sms_number
from tracker.core.timeutil import local_day
from tracker.escalation import paging
from tracker.escalation.notices import CallNumbers, numbers_now, who_knows
from tracker.plans import opioid_rules
from tracker.plans.agenda import agenda_for_day
from tracker.plans.severe_pain import SeverePainGuidance, for_clinic
from tracker.plans.warning_signs import WarningSign, severity
from tracker.reminders.safety import signs_in
from tracker.reminders.sms_rules import PAIN_QUESTION, opted_out_at
from tracker.texting import replies
from tracker.texting.gateways import BadPost, InboundText
from tracker.texting.reading import NO, PAIN, SIGNS, UNPARSED, YES, Pending, Reading, read_reply
from tracker.texting.sign_questions import SignPart, SignTexts, part_by_question, sign_parts
from tracker.texting.words import Words, plain, reading_words
from tracker.web.time_format import day_text

OPIOID_QUESTION = "opioids"
# Plans whose patient may text in: the web keeps the pain log and the warning-signs check
# open while a plan is paused, and so does this.
RUNNING = ("active", "paused")


@dataclass(frozen=True)
class TextingSettings:
    """The data a conversation reads: words, warning signs and their short forms, and the
    default severe-pain guidance (tracker/texting/views.py loads them from SCHEDULES_DIR)."""

    words: Words
    signs: tuple[WarningSign, ...]
    sign_texts: SignTexts
    guidance: SeverePainGuidance
    # Every language's words (words.yaml), by language; None: ``words`` alone.
    all_words: dict[str, Words] | None = None

    @property
    def parts(self) -> tuple[SignPart, ...]:
        return sign_parts(self.signs, self.sign_texts)

    def parts_in(self, language: str) -> tuple[SignPart, ...]:
        """The warning-signs check as texts in ``language``."""
        if language == DEFAULT_LANGUAGE:
            return self.parts
        return sign_parts(signs_in(self.signs, language), self.sign_texts.in_language(language))

    def reading(self, language: str) -> Words:
        """The words a reply is read by: every language's."""
        if not self.all_words:
            return self.words
        return _reading_words(self.all_words, language)


_READING: dict[tuple[int, str], Words] = {}


def _reading_words(found: dict[str, Words], language: str) -> Words:
    key = (id(found), language)
    words = _READING.get(key)
    if words is None:
        words = _READING[key] = reading_words(found, language)
    return words


@dataclass
class Outcome:
    """What ``receive`` did: ``replies`` to text back (none for a duplicate or after STOP)."""

    replies: list[str] = field(default_factory=list)
    duplicate: bool = False
    inbound_id: int | None = None
    kind: str | None = None


@dataclass
class _Turn:
    """One inbound text being handled: who, what the last text asked, what it was read as."""

    session: Session
    number: str
    now: datetime
    settings: TextingSettings
    patient: Patient | None = None
    plan: CarePlan | None = None
    # The caregiver who sent it (None: the patient, or nobody known).
    caregiver: Caregiver | None = None
    language: str = DEFAULT_LANGUAGE
    today: date | None = None
    pending_part: SignPart | None = None
    pending_keys: tuple[str, ...] = ()
    pending_yes_no: bool = False
    texts: list[str] = field(default_factory=list)
    question: str | None = None
    question_detail: dict[str, Any] = field(default_factory=dict)

    @property
    def clinic(self) -> Clinic | None:
        return self.patient.clinic if self.patient is not None else None

    def numbers(self) -> CallNumbers | None:
        clinic = self.clinic
        return numbers_now(clinic, self.now) if clinic is not None else None

    @property
    def caregiver_id(self) -> int | None:
        return self.caregiver.id if self.caregiver is not None else None

    @property
    def signs(self) -> tuple[WarningSign, ...]:
        return self.settings.signs

    @property
    def parts(self) -> tuple[SignPart, ...]:
        return self.settings.parts_in(self.language)

    def actor(self) -> dict[str, Any]:
        """The audit actor: the patient, or the caregiver who texted for them."""
        if self.caregiver is not None:
            return {"actor_type": "caregiver", "actor_caregiver_id": self.caregiver.id}
        return {
            "actor_type": "patient",
            "actor_patient_id": self.patient.id if self.patient else None,
        }


# --- who sent it ------------------------------------------------------------------------------


def match_sender(session: Session, number: str) -> list[tuple[Patient, CarePlan]]:
    """Every patient with ``number`` whose current (latest) plan is running, with that plan."""
    rows = session.execute(
        select(Patient, CarePlan)
        .join(CarePlan, CarePlan.patient_id == Patient.id)
        .where(Patient.sms_number == number)
        .order_by(Patient.id, CarePlan.id)
    ).all()
    latest: dict[int, tuple[Patient, CarePlan]] = {}
    for patient, plan in rows:
        latest[patient.id] = (patient, plan)  # ascending plan ids: the last one wins
    return [(p, plan) for p, plan in latest.values() if plan.status in RUNNING]


def match_caregiver(session: Session, number: str) -> list[tuple[Caregiver, Patient, CarePlan]]:
    """Every caregiver (not removed) with ``number`` whose patient's current plan is running,
    with that patient and plan."""
    rows = session.execute(
        select(Caregiver, Patient, CarePlan)
        .join(Patient, Patient.id == Caregiver.patient_id)
        .join(CarePlan, CarePlan.patient_id == Patient.id)
        .where(Caregiver.sms_number == number, Caregiver.removed_at.is_(None))
        .order_by(Caregiver.id, CarePlan.id)
    ).all()
    latest: dict[int, tuple[Caregiver, Patient, CarePlan]] = {}
    for caregiver, patient, plan in rows:
        latest[caregiver.id] = (caregiver, patient, plan)  # ascending plan ids: the last wins
    return [row for row in latest.values() if row[2].status in RUNNING]


def _last_question(
    session: Session, patient_id: int, today: date, caregiver_id: int | None = None
) -> TextMessage | None:
    """The last text to the sender (the patient, or their caregiver ``caregiver_id``), if it
    was sent today (the patient's local day) and asked."""
    last = session.scalar(
        select(TextMessage)
        .where(
            TextMessage.patient_id == patient_id,
            TextMessage.direction == "out",
            TextMessage.caregiver_id.is_(None)
            if caregiver_id is None
            else TextMessage.caregiver_id == caregiver_id,
        )
        .order_by(TextMessage.created_at.desc(), TextMessage.id.desc())
        .limit(1)
    )
    if last is None or last.local_day != today or not last.question:
        return None
    return last


# --- opt-out ----------------------------------------------------------------------------------


def opt_out(session: Session, number: str, keyword: str, now: datetime) -> None:
    """Record STOP for ``number`` (kept from the first STOP while it stays opted out)."""
    session.execute(
        insert_or_ignore(session, TextOptOut.__table__).values(
            number=number, opted_out_at=now, keyword=keyword[:20], updated_at=now
        )
    )
    session.execute(
        update(TextOptOut)
        .where(TextOptOut.number == number, TextOptOut.opted_out_at.is_(None))
        .values(opted_out_at=now, keyword=keyword[:20], updated_at=now)
        .execution_options(synchronize_session=False)
    )


def opt_in(session: Session, number: str, now: datetime) -> bool:
    """START: texts may go to ``number`` again; whether it had opted out."""
    result = session.execute(
        update(TextOptOut)
        .where(TextOptOut.number == number, TextOptOut.opted_out_at.is_not(None))
        .values(opted_out_at=None, opted_in_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- what is due next -------------------------------------------------------------------------


def _signs_answered_today(session: Session, plan: CarePlan, today: date) -> bool:
    found = session.scalar(
        select(SymptomReport.id).where(
            SymptomReport.plan_id == plan.id,
            SymptomReport.local_day == today,
            current_symptom_reports(),
        )
    )
    return found is not None


def _opioid_check(plan: CarePlan, today: date, language: str = DEFAULT_LANGUAGE) -> Any:
    """Today's opioid check-in activity, if one is due (its title is the question)."""
    agenda = agenda_for_day(plan, today, language=language)
    return next((a for a in agenda.check_ins if a.check_in == "opioids"), None)


def _ask_next(turn: _Turn, *, after: str) -> None:
    """Put the next question of today in ``turn`` (as its last text), if any is due:
    after a pain score the warning signs (a part at a time), then the opioid question.
    Only a running (active) plan asks: a paused one asks nothing, as on the web."""
    plan, today, session = turn.plan, turn.today, turn.session
    assert plan is not None and today is not None
    if plan.status != "active":
        return
    parts = turn.parts
    agenda = agenda_for_day(plan, today)
    if after == PAIN:
        signs_due = any(a.check_in == "warning_signs" for a in agenda.check_ins)
        if signs_due and parts and not _signs_answered_today(session, plan, today):
            _ask_part(turn, parts[0])
            return
    elif after.startswith("signs:"):
        done = part_by_question(parts, after)
        following = next((p for p in parts if done and p.number == done.number + 1), None)
        if following is not None:
            _ask_part(turn, following)
            return
    if after in (PAIN,) or after.startswith("signs:"):
        check = _opioid_check(plan, today, turn.language)
        answered = opioid_rules.current_rows(session, [plan.id])[plan.id].get(today)
        if check is not None and answered is None:
            turn.texts.append(replies.opioid_question(check.title, turn.language))
            turn.question = OPIOID_QUESTION
            return


def _ask_part(turn: _Turn, part: SignPart) -> None:
    turn.texts.append(part.text)
    turn.question = part.question
    turn.question_detail = {"keys": list(part.keys)}


# --- applying a reply -------------------------------------------------------------------------


def _who_knows_text(turn: _Turn, alert_id: int | None) -> str:
    """The honest "who knows" for the alert just raised or updated (escalation/notices)."""
    session, plan = turn.session, turn.plan
    assert plan is not None and turn.patient is not None
    alert = session.get(Alert, alert_id) if alert_id is not None else None
    if alert is not None:
        session.refresh(alert)
    state = paging.paging_states(session, [alert.id]).get(alert.id) if alert else None
    seen_by = None
    if alert is not None and (alert.acknowledged_by_id or alert.resolved_by_id):
        user = session.get(User, alert.acknowledged_by_id or alert.resolved_by_id)
        seen_by = user.name if user is not None else None
    notice = who_knows(
        alert, turn.patient.clinic, state, turn.now, tz_name=plan.timezone, seen_by=seen_by
    )
    return replies.who_knows(notice, turn.language)


def _pain(turn: _Turn, score: int) -> dict[str, Any]:
    """A pain score, exactly as the pain form records it (patient/views.py ``pain``)."""
    session, plan, now = turn.session, turn.plan, turn.now
    assert plan is not None and turn.today is not None and turn.clinic is not None
    entry = PainEntry(
        plan_id=plan.id,
        score=score,
        local_day=turn.today,
        recorded_at=now,
        entered_by_caregiver_id=turn.caregiver_id,
    )
    session.add(entry)
    session.flush()
    threshold = turn.clinic.severe_pain_threshold
    alert_id = alerts.raise_severe_pain_now(
        session,
        plan=plan,
        threshold=threshold,
        entry=alerts.PainScore(entry.id, score, None, turn.today),
        now=now,
    )
    if alert_id is not None:
        paging.page_if_needed(session, alert_id, now)
    alerts.mark_due(session, plan.id, now)
    _ask_next(turn, after=PAIN)
    language = turn.language
    saved = replies.pain_saved(
        score, last=turn.question is None, signs=turn.signs, language=language
    )
    if score >= threshold:
        guidance = for_clinic(turn.clinic, turn.settings.guidance, language)
        first = replies.pain_saved(score, last=False, signs=(), language=language)
        turn.texts[:0] = [
            f"{first} {replies.severe_pain(guidance)}",
            _who_knows_text(turn, alert_id),
        ]
    else:
        turn.texts.insert(0, saved)
    return {"pain_entry_id": entry.id, "score": score, "alert_id": alert_id}


def _signs(turn: _Turn, numbers: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """Answers to one part of the warning-signs check, stored and alerted exactly as the
    web form's (patient/views.py ``_store_answers``): a report of the signs this part asked."""
    session, plan, now = turn.session, turn.plan, turn.now
    part = turn.pending_part
    assert plan is not None and turn.today is not None and part is not None
    by_key = {s.key: s for s in turn.settings.signs}
    keys = turn.pending_keys or part.keys
    chosen = {keys[n - 1] for n in numbers}
    answers = {key: key in chosen for key in keys}
    asked = [by_key[k] for k in keys if k in by_key]
    level = severity(tuple(asked), answers)
    report = add_symptom_report(
        session,
        plan_id=plan.id,
        local_day=turn.today,
        now=now,
        answers=answers,
        severity=level,
        caregiver_id=turn.caregiver_id,
    )
    session.flush()
    alert_id = None
    if level != "none":
        alert = alerts.raise_red_flag(session, plan=plan, report=report, now=now)
        if alert is not None:
            alert_id = alert.id
            paging.page_if_needed(session, alert.id, now)
    alerts.mark_due(session, plan.id, now)
    flagged = [by_key[k] for k in keys if answers[k] and k in by_key]
    detail = {
        "symptom_report_id": report.id,
        "answers": answers,
        "severity": level,
        "alert_id": alert_id,
    }
    if level != "none":
        # A red flag is answered at once, and nothing more is asked today.
        numbers_now_ = turn.numbers()
        assert numbers_now_ is not None
        turn.texts.append(replies.red_flag(level, flagged, numbers_now_, turn.signs, turn.language))
        turn.texts.append(_who_knows_text(turn, alert_id))
        words = ", ".join(s.label for s in flagged)
        told = "call 911" if level == "call_911" else "call the care team"
        return f"Warning signs ({part.number} of {part.count}): {words} (told to {told})", detail
    _ask_next(turn, after=part.question)
    turn.texts.insert(
        0, replies.signs_saved(last=turn.question is None, signs=turn.signs, language=turn.language)
    )
    return f"Warning signs ({part.number} of {part.count}): none of these", detail


def _opioids(turn: _Turn, taking: bool) -> dict[str, Any]:
    """Today's opioid answer, as the Today page records it (``answer_opioids``)."""
    session, plan, now = turn.session, turn.plan, turn.now
    assert plan is not None and turn.today is not None and turn.patient is not None
    row, changed = opioid_rules.record_answer(
        session,
        plan_id=plan.id,
        local_day=turn.today,
        taking=taking,
        now=now,
        caregiver_id=turn.caregiver_id,
    )
    if changed and row.supersedes_id is not None:
        audit.record(
            session,
            now=now,
            action="patient.opioid_check_changed",
            **turn.actor(),
            clinic_id=turn.patient.clinic_id,
            patient_id=turn.patient.id,
            detail={"opioid_check_id": row.id, "supersedes_id": row.supersedes_id, "via": "text"},
        )
    turn.texts.append(replies.opioid_saved(taking, turn.signs, turn.language))
    return {"opioid_check_id": row.id, "taking": taking}


def _not_understood(turn: _Turn, reading: Reading) -> None:
    numbers = turn.numbers()
    assert numbers is not None
    part = turn.pending_part
    turn.texts.append(
        replies.not_understood(reading.problem, part, numbers, turn.signs, turn.language)
    )
    if part is not None:
        # Asked again: the next reply is still read against the same list.
        turn.question = part.question
        turn.question_detail = {"keys": list(turn.pending_keys or part.keys)}
    elif turn.pending_yes_no:
        turn.question = OPIOID_QUESTION


# --- one inbound text -------------------------------------------------------------------------


def _claim(session: Session, text: InboundText, values: dict[str, Any]) -> int | None:
    """Insert the inbound row unless its message id is already stored; its id, or None."""
    return session.execute(
        insert_or_ignore(session, TextMessage.__table__)
        .values(provider_sid=text.sid, direction="in", **values)
        .returning(TextMessage.__table__.c.id)
    ).scalar()


def _record_replies(turn: _Turn, inbound_id: int) -> None:
    for index, body in enumerate(turn.texts):
        last = index == len(turn.texts) - 1
        turn.session.add(
            TextMessage(
                clinic_id=turn.patient.clinic_id if turn.patient else None,
                patient_id=turn.patient.id if turn.patient else None,
                caregiver_id=turn.caregiver_id,
                direction="out",
                number=turn.number,
                body=body[:1600],
                kind="reply",
                question=turn.question if last else None,
                local_day=turn.today,
                detail=turn.question_detail if last else {},
                in_reply_to_id=inbound_id,
                created_at=turn.now,
            )
        )


def _meaning(reading: Reading) -> str:
    return {
        "stop": "STOP: no more texts to this number",
        "start": "START: texts to this number again",
        "help": "HELP: sent who we are and whom to call",
    }[reading.kind]


def receive(
    session: Session, text: InboundText, *, now: datetime, settings: TextingSettings
) -> Outcome:
    """Handle one inbound text (see the module's docstring). Adds to ``session`` and flushes;
    the caller commits. Raises BadPost for a sender that is not a phone number."""
    number = sms_number(text.sender)
    if number is None:
        raise BadPost("From is not a phone number")
    turn = _Turn(session=session, number=number, now=now, settings=settings)
    matches = match_sender(session, number)
    caregivers: list[tuple[Caregiver, Patient, CarePlan]] = []
    if len(matches) == 1:
        turn.patient, turn.plan = matches[0]
        turn.language = language_or_default(turn.patient.language)
    elif not matches:
        # Not a patient's number (a patient sharing it with a caregiver wins): a caregiver's?
        caregivers = match_caregiver(session, number)
        if len(caregivers) == 1:
            turn.caregiver, turn.patient, turn.plan = caregivers[0]
            turn.language = language_or_default(turn.caregiver.language)
    if turn.plan is not None:
        turn.today = local_day(now, turn.plan.timezone)
    stopped = opted_out_at(session, number) is not None
    pending = None
    if turn.patient is not None and turn.today is not None:
        last = _last_question(session, turn.patient.id, turn.today, turn.caregiver_id)
        if last is not None:
            part = part_by_question(turn.parts, last.question)
            if part is not None:
                turn.pending_part = part
                turn.pending_keys = tuple((last.detail or {}).get("keys") or part.keys)
                pending = Pending(SIGNS, len(turn.pending_keys))
            elif last.question == OPIOID_QUESTION:
                turn.pending_yes_no = True
                pending = Pending("yes_no")
    reading = read_reply(
        text.body, settings.reading(turn.language), pending=pending, opted_out=stopped
    )
    # A caregiver who may only view records nothing for the patient (scope "view").
    refused = (
        turn.caregiver is not None
        and turn.caregiver.scope != "act"
        and reading.kind in (PAIN, SIGNS, YES, NO)
    )

    # Who the row is about: a matched patient, or nobody (a stranger's number is masked).
    about: dict[str, Any] = {
        "clinic_id": turn.patient.clinic_id if turn.patient else None,
        "patient_id": turn.patient.id if turn.patient else None,
        "caregiver_id": turn.caregiver_id,
        "number": number if turn.patient else masked(number),
        "body": text.body if turn.patient else None,
        "local_day": turn.today,
        "created_at": now,
    }
    keyword = reading.kind in ("stop", "start", "help")
    if keyword:
        kind = reading.kind
    elif turn.patient is None:
        kind = "unknown_sender"
    elif stopped:
        kind = "opted_out"
    elif refused:
        kind = "unparsed"  # kept for the care team to read, as a text nobody could read
    elif reading.kind == PAIN:
        kind = "pain"
    elif reading.kind in (SIGNS, YES, NO):
        kind = "answer"
    else:
        kind = "unparsed"
    inbound_id = _claim(session, text, {**about, "kind": kind})
    if inbound_id is None:
        return Outcome(duplicate=True)

    meaning: str
    detail: dict[str, Any] = {}
    clinic = turn.clinic
    if keyword:
        meaning = _meaning(reading)
        name = clinic.name if clinic else None
        if reading.kind == "stop":
            opt_out(session, number, plain(text.body).upper(), now)
            turn.texts.append(replies.stopped(name, turn.numbers(), turn.language))
        elif reading.kind == "start":
            was_out = opt_in(session, number, now)
            if not was_out:
                meaning = "START: texts to this number (it had not opted out)"
            turn.texts.append(replies.started(name, turn.language))
        else:
            turn.texts.append(
                replies.help_text(name, turn.numbers(), settings.signs, turn.language)
            )
            # HELP in the middle of a question leaves the question open.
            if turn.pending_part is not None:
                turn.question = turn.pending_part.question
                turn.question_detail = {"keys": list(turn.pending_keys)}
            elif turn.pending_yes_no:
                turn.question = OPIOID_QUESTION
        audit.record(
            session,
            now=now,
            action=f"text.{reading.kind}",
            **(turn.actor() if turn.patient else {"actor_type": "system"}),
            clinic_id=clinic.id if clinic else None,
            patient_id=turn.patient.id if turn.patient else None,
            detail={"number": masked(number), "text_message_id": inbound_id},
        )
        if turn.patient is None:
            # Answered, but nothing about a patient is shown: no conversation to keep.
            _finish_inbound(session, inbound_id, meaning, detail)
            return Outcome(replies=turn.texts, inbound_id=inbound_id, kind=kind)
    elif turn.patient is None:
        if matches:
            meaning = f"Sent from a number that {len(matches)} patients share"
        elif caregivers:
            meaning = f"Sent from a number that {len(caregivers)} caregivers share"
        else:
            meaning = "Not sent from a patient's or a caregiver's number"
        audit.record(
            session,
            now=now,
            action="text.unknown_sender",
            actor_type="system",
            detail={
                "number": masked(number),
                "matches": len(matches) or len(caregivers),
                "text_message_id": inbound_id,
            },
        )
        _finish_inbound(session, inbound_id, meaning, detail)
        return Outcome(
            replies=[replies.unknown_sender(settings.signs)], inbound_id=inbound_id, kind=kind
        )
    elif stopped:
        meaning = "Received after this number texted STOP: not read, no reply sent"
    elif refused:
        assert turn.caregiver is not None and turn.patient is not None
        numbers = turn.numbers()
        assert numbers is not None
        turn.texts.append(
            replies.not_allowed(turn.patient.name, numbers, settings.signs, turn.language)
        )
        meaning = (
            f"From {turn.caregiver.label}, who may only view: not recorded; "
            "shown to the care team as it came"
        )
        detail = {"problem": "view_only", "read_as": reading.kind}
    elif reading.kind == PAIN:
        assert reading.score is not None
        detail = _pain(turn, reading.score)
        meaning = f"Pain score {reading.score} for {day_text(turn.today)}"  # type: ignore[union-attr]
    elif reading.kind == SIGNS:
        meaning, detail = _signs(turn, reading.numbers)
    elif reading.kind in (YES, NO):
        detail = _opioids(turn, reading.kind == YES)
        meaning = f"Opioid pain medicine today: {reading.kind}"
    else:
        assert reading.kind == UNPARSED
        _not_understood(turn, reading)
        meaning = "Not understood: shown to the care team as it came"
        detail = {"problem": reading.problem} if reading.problem else {}
    _finish_inbound(session, inbound_id, meaning, detail)
    _record_replies(turn, inbound_id)
    session.flush()
    return Outcome(replies=turn.texts, inbound_id=inbound_id, kind=kind)


def _finish_inbound(
    session: Session, inbound_id: int, meaning: str, detail: dict[str, Any]
) -> None:
    session.execute(
        update(TextMessage)
        .where(TextMessage.id == inbound_id)
        .values(meaning=meaning[:300], detail=detail)
        .execution_options(synchronize_session=False)
    )


__all__ = [
    "OPIOID_QUESTION",
    "PAIN_QUESTION",
    "Outcome",
    "TextingSettings",
    "match_sender",
    "opt_in",
    "opt_out",
    "receive",
]
