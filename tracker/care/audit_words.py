"""The audit log in words: each stored event (an action code and its detail) as the sentence
an admin reads, "Casey viewed Jo Sample's record".

Pure functions over loaded rows: the audit page (admin.audit_log) loads the people and
alerts an event names, in a fixed number of queries per page, and passes their names in.
An action code with no sentence here (a new one) still reads as words, built from the code
itself, and the raw code and detail stay one click away on the page.

A caregiver acts under their own name (SPEC section 6, "Caregivers"): "Ana Ruiz (Jo
Sample's daughter) corrected a pain score"; their names come in one more query, made only
when the page's events name a caregiver (``caregiver_ids_named``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tracker.care.contact_log import OUTCOME_SUMMARIES
from tracker.core.models import AuditEvent

# An alert by its rule, as a sentence names it: "the red-flag alert".
ALERT_WORDS = {
    "red_flag": "red-flag",
    "severe_pain": "severe-pain",
    "worsening": "worsening-pain",
    "not_improving": "not-improving",
    "missed_checkin": "no-check-in",
    "undeliverable": "undelivered-reminder",
}
CHANNEL_WORDS = {"email": "email", "webhook": "text message", "log": "the log"}
PLAN_STATUS_WORDS = {"paused": "paused", "active": "resumed", "ended": "ended"}


@dataclass(frozen=True)
class Names:
    """Who and what the events of one page name, loaded by the page: by id."""

    users: dict[int, str] = field(default_factory=dict)
    patients: dict[int, str] = field(default_factory=dict)
    alert_rules: dict[int, str] = field(default_factory=dict)
    # Caregiver id -> (name, relation): "Ana Ruiz", "daughter".
    caregivers: dict[int, tuple[str, str]] = field(default_factory=dict)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ids_named(events: Iterable[AuditEvent]) -> tuple[set[int], set[int], set[int]]:
    """(user ids, patient ids, alert ids) that ``events`` name, to load their names."""
    users: set[int] = set()
    patients: set[int] = set()
    alerts: set[int] = set()
    for e in events:
        detail = e.detail or {}
        if e.actor_user_id:
            users.add(e.actor_user_id)
        for key in ("user_id", "to_user_id"):
            if _int(detail.get(key)):
                users.add(detail[key])
        for patient_id in (e.patient_id, e.actor_patient_id):
            if patient_id:
                patients.add(patient_id)
        if _int(detail.get("alert_id")):
            alerts.add(detail["alert_id"])
    return users, patients, alerts


def caregiver_ids_named(events: Iterable[AuditEvent]) -> set[int]:
    """The caregivers ``events`` name (as the actor, or in the detail), to load their names."""
    ids: set[int] = set()
    for e in events:
        if e.actor_caregiver_id:
            ids.add(e.actor_caregiver_id)
        if _int((e.detail or {}).get("caregiver_id")):
            ids.add(e.detail["caregiver_id"])
    return ids


def caregiver_label(caregiver_id: int | None, names: Names) -> str:
    """ "Ana Ruiz (daughter)", or "a caregiver" when the name is not loaded."""
    known = names.caregivers.get(caregiver_id or 0)
    return f"{known[0]} ({known[1]})" if known else "a caregiver"


def actor(event: AuditEvent, names: Names) -> str:
    if event.actor_type == "caregiver":
        known = names.caregivers.get(event.actor_caregiver_id or 0)
        if known is None:
            return "A caregiver"
        patient = names.patients.get(event.patient_id or 0)
        whose = f"{_possessive(patient)} " if patient else "caregiver, "
        return f"{known[0]} ({whose}{known[1]})"
    if event.actor_type == "user":
        return names.users.get(event.actor_user_id or 0, "A former user")
    if event.actor_type == "patient":
        return names.patients.get(event.actor_patient_id or 0, "A patient")
    if event.action.startswith("user."):
        return "An operator"  # the tracker command (e.g. user set-password)
    return "The system"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


class _Say:
    """The pieces a sentence is made of, for one event."""

    def __init__(self, event: AuditEvent, names: Names) -> None:
        self.event = event
        self.names = names
        self.detail: dict[str, Any] = event.detail or {}
        self.who = actor(event, names)

    @property
    def patient(self) -> str:
        return self.names.patients.get(self.event.patient_id or 0, "a patient")

    @property
    def patients(self) -> str:
        return _possessive(self.patient)

    @property
    def alert(self) -> str:
        rule = self.names.alert_rules.get(_int(self.detail.get("alert_id")) or 0)
        words = ALERT_WORDS.get(rule or "")
        return f"the {words} alert" if words else "an alert"

    @property
    def channel(self) -> str:
        return CHANNEL_WORDS.get(str(self.detail.get("channel")), "a channel")

    @property
    def user(self) -> str:
        return self.names.users.get(_int(self.detail.get("user_id")) or 0, "an account")

    @property
    def caregiver(self) -> str:
        """The caregiver the event is about: "Ana Ruiz (daughter)"."""
        return caregiver_label(_int(self.detail.get("caregiver_id")), self.names)

    @property
    def by_caregiver(self) -> bool:
        return self.event.actor_type == "caregiver"

    def text(self, key: str, default: str = "") -> str:
        value = self.detail.get(key)
        return str(value) if value not in (None, "") else default


def _triage(s: _Say) -> str:
    page = _int(s.detail.get("page")) or 1
    listed = len(s.detail.get("patient_ids") or [])
    filtered = " (filtered)" if s.detail.get("filters") else ""
    where = f", page {page}" if page > 1 else ""
    return f"{s.who} viewed the triage list{filtered}{where}: {listed} patients listed"


def _plan_status(s: _Say) -> str:
    change = (s.detail.get("change") or {}).get("status") or {}
    done = PLAN_STATUS_WORDS.get(change.get("to"), "changed the status of")
    return f"{s.who} {done} {s.patients} plan"


def _settings(what: str) -> Callable[[_Say], str]:
    def say(s: _Say) -> str:
        changed = sorted((s.detail.get("changes") or {}).keys())
        listed = ", ".join(key.replace("_", " ") for key in changed)
        return f"{s.who} changed the {what}" + (f": {listed}" if listed else "")

    return say


def _link_send(s: _Say) -> str:
    return f"{s.who} sent {s.patients} personal link by {s.channel} to {s.text('to', 'them')}"


def _link_send_failed(s: _Say) -> str:
    return (
        f"{s.who} tried to send {s.patients} personal link by {s.channel}, but it could not be sent"
    )


def _alert_assign(s: _Say) -> str:
    to = _int(s.detail.get("to_user_id"))
    if to is None:
        return f"{s.who} left {s.alert} for {s.patient} with no owner"
    if s.event.actor_type == "user" and to == s.event.actor_user_id:
        return f"{s.who} took {s.alert} for {s.patient}"
    name = s.names.users.get(to, "a former user")
    return f"{s.who} gave {s.alert} for {s.patient} to {name}"


def _contact_log(s: _Say) -> str:
    summary = OUTCOME_SUMMARIES.get(s.text("outcome"), "a contact")
    if _int(s.detail.get("caregiver_id")):
        return (
            f"{s.who} logged a contact with {s.caregiver}, {s.patients} caregiver: "
            f"{summary.lower()}"
        )
    return f"{s.who} logged a contact with {s.patient}: {summary.lower()}"


SCOPE_WORDS = {"view": "view only", "act": "view and record"}


def _caregiver_added(s: _Say) -> str:
    if s.event.actor_type == "patient":
        return f"{s.who} added {s.caregiver} as a caregiver"
    consent = " (the patient's consent recorded)" if s.detail.get("consent") == "recorded" else ""
    return f"{s.who} added {s.caregiver} as {s.patients} caregiver{consent}"


def _caregiver_scope(s: _Say) -> str:
    to = SCOPE_WORDS.get(s.text("to"), "something else")
    return f"{s.who} changed what {s.caregiver}, {s.patients} caregiver, may do: {to}"


def _language(s: _Say) -> str:
    names = {"en": "English", "es": "Spanish"}
    to = names.get(s.text("to"), "another language")
    return f"{s.who} changed {s.patients} language to {to}"


def _page(template: str) -> Callable[[_Say], str]:
    def say(s: _Say) -> str:
        return template.format(
            contact=s.text("contact", "the on-call contact"),
            channel=s.channel,
            alert=s.alert,
            patient=s.patient,
        )

    return say


SENTENCES: dict[str, Callable[[_Say], str]] = {
    # Care team, about patients
    "triage.view": _triage,
    "patient.view": lambda s: f"{s.who} viewed {s.patients} record",
    "patient.card_view": lambda s: f"{s.who} opened {s.patients} plan card",
    "patient.enrol": lambda s: f"{s.who} enrolled {s.patient}",
    "alert.acknowledge": lambda s: f"{s.who} acknowledged {s.alert} for {s.patient}",
    "alert.resolve": lambda s: f"{s.who} resolved {s.alert} for {s.patient}",
    "alert.assign": _alert_assign,
    "contact.log": _contact_log,
    "plan.set_appointment": lambda s: f"{s.who} set the date of a visit in {s.patients} plan",
    "plan.set_restriction": lambda s: f"{s.who} changed when a limit ends in {s.patients} plan",
    "plan.status": _plan_status,
    "link.rotate": lambda s: (
        f"{s.who} issued a new personal link for {s.patient}"
        + (" on the plan card" if s.detail.get("via") == "plan_card" else "")
    ),
    "link.revoke": lambda s: f"{s.who} turned off {s.patients} personal link",
    "link.handout": lambda s: f"{s.who} printed a handout of {s.patients} personal link",
    "link.send": _link_send,
    "link.send_failed": _link_send_failed,
    "export.pain_csv": lambda s: (
        f"{s.who} exported the pain scores of all patients from {s.text('start', '?')} "
        f"to {s.text('end', '?')}"
    ),
    "export.fhir": lambda s: f"{s.who} exported {s.patients} record (FHIR)",
    # Patients, on their own pages
    "patient.link_sign_in": lambda s: f"{s.who} opened their personal link",
    "patient.pain_corrected": lambda s: f"{s.who} corrected a pain score",
    "patient.symptom_report_corrected": lambda s: f"{s.who} corrected a warning-signs check",
    "patient.opioid_check_changed": lambda s: (
        f"{s.who} changed {'the' if s.by_caregiver else 'their'} answer about opioid pain medicine"
    ),
    # Caregivers (tracker/plans/caregivers.py), and the patient's language
    "caregiver.added": _caregiver_added,
    "caregiver.removed": lambda s: f"{s.who} removed {s.caregiver} as {s.patients} caregiver",
    "caregiver.scope_changed": _caregiver_scope,
    "caregiver.link_issued": lambda s: (
        f"{s.who} issued a new personal link for {s.caregiver}, {s.patients} caregiver"
    ),
    "patient.language": _language,
    # On-call paging (the system)
    "alert.page_queued": _page(
        "The system started paging {contact} by {channel} about {alert} for {patient}"
    ),
    "alert.page_sent": _page("The system paged {contact} by {channel} about {alert} for {patient}"),
    "alert.page_failed": _page(
        "A page to {contact} by {channel} about {alert} for {patient} could not be sent"
    ),
    "alert.page_cancelled": _page(
        "The system called off a page to {contact} about {alert} for {patient}"
    ),
    "alert.escalation_exhausted": lambda s: (
        f"Nobody acknowledged the pages about {s.alert} for {s.patient}; paging stopped"
    ),
    # Accounts and settings
    "user.sign_in": lambda s: f"{s.who} signed in",
    "user.create": lambda s: (
        f"{s.who} created a {s.text('role', 'new')} account for {s.text('email', 'someone')}"
    ),
    "user.create_refused": lambda s: (
        f"{s.who} could not create an account for {s.text('email', 'an address')}: "
        "the address cannot be used"
    ),
    "user.activate": lambda s: f"{s.who} turned on the account of {s.user}",
    "user.deactivate": lambda s: f"{s.who} turned off the account of {s.user}",
    "user.password_set": lambda s: f"{s.who} set a new password for {s.user}",
    "clinic.update": _settings("clinic settings"),
    "clinic.escalation_update": _settings("escalation settings"),
    "on_call.add": lambda s: f"{s.who} added {s.text('name', 'someone')} to the on-call list",
    "on_call.deactivate": lambda s: (
        f"{s.who} took {s.text('name', 'someone')} off the on-call list"
    ),
    "on_call.move": lambda s: (
        f"{s.who} moved an on-call contact {s.text('direction', 'in the list')}"
    ),
    "content.approve": lambda s: (
        f"{s.who} approved {s.text('content_id', 'clinical content')}, "
        f"version {s.text('version', '?')}"
    ),
}


def _fallback(s: _Say) -> str:
    """A code with no sentence yet: "Casey: contact log (about Jo Sample)"."""
    words = s.event.action.replace(".", " ").replace("_", " ")
    about = f" (about {s.patient})" if s.event.patient_id else ""
    return f"{s.who}: {words}{about}"


def sentence(event: AuditEvent, names: Names) -> str:
    """``event`` as a sentence, ending with a full stop."""
    say = _Say(event, names)
    try:
        text = SENTENCES.get(event.action, _fallback)(say)
    except (AttributeError, TypeError, ValueError):  # a detail of an unexpected shape
        text = _fallback(say)
    return text[:1].upper() + text[1:] + "."
