"""On-call paging: who is paged when, over real SMTP and webhook receivers, escalation,
acknowledgement, retries and dead letters, races between schedulers, and the audit trail."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import event, select

from tests.conftest import NOW
from tests.escalation.conftest import (
    ANA_EMAIL,
    BEN_PHONE,
    CLOSING,
    ESCALATE,
    IN_HOURS,
    OUT_OF_HOURS,
    PAGING,
    add_contact,
    alert_row,
    audit_rows,
    event_kinds,
    only,
    page_tick,
    pages,
)
from tracker.alerts.rules import SEVERE_PAIN, WORSENING, acknowledge, mark_due, resolve
from tracker.core.db import session_factory
from tracker.core.models import Alert, AlertEvent, Page, SymptomReport, User
from tracker.escalation.paging import (
    PageCounts,
    _due_escalations,
    _load_page,
    compose_page,
    deliver_pages,
    escalate,
    page_if_needed,
    paging_states,
    patient_page_link,
    record_page_outcome,
    run_escalation,
)
from tracker.reminders.channels import Channels, DeliveryError
from tracker.reminders.delivery import DeliverySettings, claim
from tracker.reminders.sms_text import sms_segments
from tracker.scheduler.tick import TICK_STEPS, run_tick

DELAY = timedelta(minutes=15)  # the clinic's default escalation delay


def _user(session, clinic) -> User:
    user = User(
        clinic_id=clinic.id,
        email="coordinator@example.org",
        name="Casey Coordinator",
        password_hash="x",
        created_at=NOW,
    )
    session.add(user)
    session.commit()
    return user


def test_it_pages_the_first_contact_by_email_at_once_out_of_hours(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server
):
    enrolled = enroll_patient(name="Pat Example", phone="555-0199")
    alert_id = raise_urgent(enrolled.plan)

    assert page_if_needed(session, alert_id, OUT_OF_HOURS) is True
    # The caller's own copy of the alert (a web request's) shows the page too.
    assert session.get(Alert, alert_id).escalation_level == 1
    session.commit()
    alert = alert_row(app, alert_id)
    assert (alert.escalation_level, alert.next_escalation_at) == (1, OUT_OF_HOURS + DELAY)
    page = only(pages(app))
    key = f"page-{alert_id}-0-1"
    assert (page.step, page.contact_id, page.channel, page.address, page.status) == (
        1,
        on_call[0].id,
        "email",
        ANA_EMAIL,
        "pending",
    )
    assert page.idempotency_key == key
    # Asked again (another request, the tick): still paging, nothing queued twice.
    assert page_if_needed(session, alert_id, OUT_OF_HOURS) is True
    session.commit()
    assert len(pages(app)) == 1
    assert event_kinds(app, alert_id)[-1] == "page_queued"

    summary = page_tick(paging_app, OUT_OF_HOURS)
    assert (summary["pages_queued"], summary["pages_sent"]) == (0, 1)

    email = only(smtp_server.handler.messages)
    assert email["To"] == ANA_EMAIL
    assert email["Message-ID"] == f"<{key}@localhost>"
    assert email["X-Idempotency-Key"] == key
    assert email["Subject"] == "URGENT: Red flag for Pat Example"
    body = email.get_body(("plain",)).get_content()
    link = f"http://localhost/coordinator/patients/{enrolled.patient.id}"
    for fact in ("Pat Example", "555-0199", "fever", "Test Spine Clinic", link):
        assert fact in body
    assert "Raised Nov 23, 10:40 PM EST." in body  # when it was raised, in the clinic's time

    page = only(pages(app))
    assert (page.status, page.sent_at, page.attempts) == ("sent", OUT_OF_HOURS, 1)
    assert event_kinds(app, alert_id)[-2:] == ["page_queued", "page_sent"]
    # Everything the page said is in the audit log, attributed to the system.
    sent = only(audit_rows(app, "alert.page_sent"))
    assert sent.actor_type == "system" and sent.patient_id == enrolled.patient.id
    assert sent.detail["text"].splitlines() == body.strip().splitlines()
    assert sent.detail["subject"] == email["Subject"]
    assert (sent.detail["contact"], sent.detail["channel"], sent.detail["address"]) == (
        "Nurse Ana",
        "email",
        ANA_EMAIL,
    )
    assert only(audit_rows(app, "alert.page_queued")).detail["idempotency_key"] == key

    state = paging_states(session, [alert_id])[alert_id]
    assert (state.contact_name, state.channel, state.status) == ("Nurse Ana", "email", "sent")
    assert (state.sent_at, state.exhausted, state.someone_paged) == (OUT_OF_HOURS, False, True)
    # Nothing more is due before the delay.
    assert page_tick(paging_app, OUT_OF_HOURS + timedelta(minutes=5))["pages_sent"] == 0
    assert len(smtp_server.handler.messages) == 1


def test_it_does_not_page_in_office_hours_but_pages_when_the_office_closes(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server
):
    alert_id = raise_urgent(enroll_patient().plan, now=IN_HOURS)
    assert page_if_needed(session, alert_id, IN_HOURS) is False
    session.commit()
    assert page_tick(paging_app, IN_HOURS)["pages_queued"] == 0
    assert page_tick(paging_app, CLOSING - timedelta(seconds=1))["pages_queued"] == 0
    assert pages(app) == [] and alert_row(app, alert_id).escalation_level == 0

    # Still unacknowledged when the office closes: the on-call contact is paged.
    summary = page_tick(paging_app, CLOSING)
    assert (summary["pages_queued"], summary["pages_sent"]) == (1, 1)
    assert only(smtp_server.handler.messages)["To"] == ANA_EMAIL
    assert page_tick(paging_app, CLOSING + timedelta(minutes=1))["pages_queued"] == 0


def test_it_pages_high_alerts_only_when_the_clinic_chooses_and_never_normal_ones(
    app, session, clinic, on_call, enroll_patient, raise_urgent
):
    plan = enroll_patient().plan
    high = raise_urgent(plan, rule=SEVERE_PAIN, urgency="high", summary="Pain 8/10 on day 4")
    normal = raise_urgent(plan, rule=WORSENING, urgency="normal", summary="Pain rising")
    critical = enroll_patient(name="Sam Critical")
    critical_id = raise_urgent(critical.plan, urgency="critical", summary="Chest pain")

    assert page_if_needed(session, high, OUT_OF_HOURS) is False
    assert page_if_needed(session, normal, OUT_OF_HOURS) is False
    assert page_if_needed(session, critical_id, OUT_OF_HOURS) is True
    session.commit()
    assert [p.alert_id for p in pages(app)] == [critical_id]
    assert run_escalation(session, OUT_OF_HOURS).queued == 0

    clinic.page_high_alerts = True
    session.commit()
    assert page_if_needed(session, normal, OUT_OF_HOURS) is False
    # The tick pages it (as it would an alert its own rules raised).
    assert run_escalation(session, OUT_OF_HOURS).queued == 1
    assert page_if_needed(session, high, OUT_OF_HOURS) is True
    assert sorted(p.alert_id for p in pages(app)) == sorted([critical_id, high])


def test_it_pages_nobody_without_an_on_call_list(
    app, session, clinic, enroll_patient, raise_urgent
):
    alert_id = raise_urgent(enroll_patient().plan)
    assert page_if_needed(session, alert_id, OUT_OF_HOURS) is False
    assert run_escalation(session, OUT_OF_HOURS).queued == 0
    assert pages(app) == [] and paging_states(session, [alert_id]) == {}


def test_it_escalates_to_the_second_contact_exactly_at_the_delay(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server, webhook
):
    enrolled = enroll_patient(name="Pat Example", phone="555-0199")
    alert_id = raise_urgent(enrolled.plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    assert page_tick(paging_app, OUT_OF_HOURS)["pages_sent"] == 1

    one_second_early = page_tick(paging_app, OUT_OF_HOURS + DELAY - timedelta(seconds=1))
    assert one_second_early["pages_escalated"] == 0 and webhook.received == []

    summary = page_tick(paging_app, OUT_OF_HOURS + DELAY)
    assert (summary["pages_escalated"], summary["pages_sent"]) == (1, 1)
    key = f"page-{alert_id}-0-2"
    sms = only(webhook.received)
    assert sms["to"] == {"name": "Dr Ben", "phone": BEN_PHONE, "email": None}
    assert (sms["kind"], sms["idempotency_key"]) == ("page", key)
    assert webhook.headers[0]["Idempotency-Key"] == key
    # At most two segments, with what the patient is told for a 911 sign (SPEC section 6).
    encoding, segments = sms_segments(sms["sms"])
    assert encoding == "GSM-7" and segments <= 2
    assert "Pat Example" in sms["sms"] and "555-0199" in sms["sms"]
    assert sms["sms"].endswith("new leg weakness, the patient should call 911 now.")
    assert sms["link"].endswith(f"/coordinator/patients/{enrolled.patient.id}")
    assert "fever" in sms["text"]

    alert = alert_row(app, alert_id)
    assert (alert.escalation_level, alert.next_escalation_at) == (2, OUT_OF_HOURS + 2 * DELAY)
    assert [(p.step, p.contact_id, p.status) for p in pages(app)] == [
        (1, on_call[0].id, "sent"),
        (2, on_call[1].id, "sent"),
    ]
    with session_factory(app)() as fresh:
        queued = fresh.scalars(
            select(AlertEvent).where(AlertEvent.kind == "page_queued").order_by(AlertEvent.id)
        ).all()
    assert "not acknowledged within 15 minutes" in queued[-1].summary
    state = paging_states(session, [alert_id])[alert_id]
    assert (state.step, state.contact_name, state.status) == (2, "Dr Ben", "sent")


def test_it_goes_round_the_list_three_times_then_stops_and_says_so(
    app, session, clinic, on_call, enroll_patient, raise_urgent
):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    for k in range(1, 6):
        assert page_tick(app, OUT_OF_HOURS + k * DELAY, steps=ESCALATE)["pages_escalated"] == 1
    ana, ben = (c.id for c in on_call)
    assert [p.contact_id for p in pages(app)] == [ana, ben, ana, ben, ana, ben]

    summary = page_tick(app, OUT_OF_HOURS + 6 * DELAY, steps=ESCALATE)
    assert (summary["pages_escalated"], summary["escalations_exhausted"]) == (0, 1)
    alert = alert_row(app, alert_id)
    assert (alert.status, alert.escalation_level, alert.next_escalation_at) == ("open", 6, None)
    assert event_kinds(app, alert_id)[-1] == "escalation_exhausted"
    assert paging_states(session, [alert_id])[alert_id].exhausted
    assert only(audit_rows(app, "alert.escalation_exhausted")).detail["pages"] == 6

    later = page_tick(app, OUT_OF_HOURS + 7 * DELAY, steps=ESCALATE)
    assert (later["pages_escalated"], later["escalations_exhausted"]) == (0, 0)
    assert len(pages(app)) == 6


def test_it_keeps_escalating_after_the_office_opens_until_acknowledged(
    app, session, clinic, on_call, enroll_patient, raise_urgent
):
    opens = IN_HOURS.replace(hour=13)  # Monday 08:00 in New York
    raised = opens - timedelta(minutes=10)
    alert_id = raise_urgent(enroll_patient().plan, now=raised)
    assert page_if_needed(session, alert_id, raised) is True
    session.commit()
    # The office is open when the delay runs out: the next contact is paged all the same.
    assert page_tick(app, raised + DELAY, steps=ESCALATE)["pages_escalated"] == 1
    assert opens < raised + DELAY
    assert len(pages(app)) == 2


def test_it_stops_paging_when_acknowledged_and_cancels_a_page_not_yet_sent(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server
):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    user = _user(session, clinic)
    alert = session.get(Alert, alert_id)
    assert acknowledge(
        session, alert, user_id=user.id, note="Calling her", now=OUT_OF_HOURS + timedelta(minutes=1)
    )
    session.commit()
    assert page_if_needed(session, alert_id, OUT_OF_HOURS) is False

    summary = page_tick(paging_app, OUT_OF_HOURS + timedelta(minutes=2))
    assert (summary["pages_cancelled"], summary["pages_sent"]) == (1, 0)
    assert smtp_server.handler.messages == []
    page = only(pages(app))
    assert (page.status, page.last_error) == ("dead", "cancelled: alert acknowledged/resolved")
    assert event_kinds(app, alert_id)[-2:] == ["acknowledged", "page_cancelled"]
    assert paging_states(session, [alert_id])[alert_id].status == "cancelled"
    assert not paging_states(session, [alert_id])[alert_id].someone_paged

    after = page_tick(paging_app, OUT_OF_HOURS + 2 * DELAY)
    assert (after["pages_escalated"], after["pages_queued"], after["pages_sent"]) == (0, 0, 0)
    assert len(pages(app)) == 1


def test_it_stops_paging_when_resolved(app, session, clinic, on_call, enroll_patient, raise_urgent):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    user = _user(session, clinic)
    assert resolve(
        session, session.get(Alert, alert_id), user_id=user.id, note="Seen in ER", now=OUT_OF_HOURS
    )
    session.commit()
    assert page_tick(app, OUT_OF_HOURS + DELAY, steps=ESCALATE)["pages_escalated"] == 0
    assert len(pages(app)) == 1


def test_it_retries_then_dead_letters_a_page_and_pages_the_next_contact_at_once(
    app,
    session,
    clinic,
    enroll_patient,
    raise_urgent,
    reminder_app,
    smtp_server,
    webhook,
):
    ben = add_contact(
        session, clinic, name="Dr Ben", channel="webhook", address=BEN_PHONE, position=1
    )
    ana = add_contact(
        session, clinic, name="Nurse Ana", channel="email", address=ANA_EMAIL, position=2
    )
    hook = reminder_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        WEBHOOK_URL=webhook.url,
        REMINDER_MAX_ATTEMPTS=3,
    )
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    webhook.statuses = [500, 503, 502]

    assert page_tick(hook, OUT_OF_HOURS)["pages_retried"] == 1
    first = only(pages(app))
    assert (first.status, first.attempts, first.next_attempt_at) == (
        "pending",
        1,
        OUT_OF_HOURS + timedelta(seconds=60),
    )
    assert paging_states(session, [alert_id])[alert_id].status == "queued"
    assert page_tick(hook, OUT_OF_HOURS + timedelta(seconds=59))["pages_retried"] == 0
    assert page_tick(hook, OUT_OF_HOURS + timedelta(seconds=60))["pages_retried"] == 1

    at = OUT_OF_HOURS + timedelta(seconds=180)
    summary = page_tick(hook, at)
    # The third failure is the last: the care team sees it and Ana is paged in this tick.
    assert (summary["pages_dead"], summary["pages_sent"]) == (1, 1)
    assert webhook.keys() == [f"page-{alert_id}-0-1"] * 3
    assert only(smtp_server.handler.messages)["To"] == ANA_EMAIL
    dead, second = pages(app)
    assert (dead.status, dead.attempts) == ("dead", 3) and "HTTP 502" in dead.last_error
    assert (second.step, second.contact_id, second.status) == (2, ana.id, "sent")
    assert dead.contact_id == ben.id
    kinds = event_kinds(app, alert_id)
    assert kinds[-3:] == ["page_failed", "page_queued", "page_sent"]
    alert = alert_row(app, alert_id)
    assert (alert.status, alert.escalation_level, alert.next_escalation_at) == (
        "open",
        2,
        at + DELAY,
    )
    failed = only(audit_rows(app, "alert.page_failed"))
    assert "HTTP 502" in failed.detail["error"] and "Pat Example" in failed.detail["text"]
    with session_factory(app)() as fresh:
        event_row = fresh.scalars(select(AlertEvent).where(AlertEvent.kind == "page_failed")).one()
    assert "Could not page Dr Ben" in event_row.summary


def test_a_permanent_failure_of_the_last_contact_ends_the_escalation(
    app, session, clinic, enroll_patient, raise_urgent, reminder_app, webhook
):
    add_contact(session, clinic, name="Dr Ben", channel="webhook", address=BEN_PHONE, position=1)
    hook = reminder_app(WEBHOOK_URL=webhook.url)
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    webhook.statuses = [400, 400, 400]
    # Dr Ben three times (one contact: three passes), each dead at once (HTTP 400).
    summary = page_tick(hook, OUT_OF_HOURS)
    assert (summary["pages_dead"], summary["pages_sent"]) == (3, 0)
    assert [p.status for p in pages(app)] == ["dead"] * 3
    assert event_kinds(app, alert_id)[-1] == "escalation_exhausted"
    state = paging_states(session, [alert_id])[alert_id]
    assert (state.status, state.exhausted, state.someone_paged) == ("failed", True, False)
    assert page_if_needed(session, alert_id, OUT_OF_HOURS) is False


def test_it_never_queues_one_step_twice_from_a_stale_read(
    app, session, clinic, on_call, enroll_patient, raise_urgent
):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    due_at = OUT_OF_HOURS + DELAY
    factory = session_factory(app)
    with factory() as first, factory() as second:
        # Both scheduler processes read the alert as due...
        [stale] = _due_escalations(first, due_at)
        first.commit()
        assert stale.escalation_level == 1
        # ...the second pages the next contact and commits first...
        assert run_escalation(second, due_at).escalated == 1
        # ...and the first, acting on what it read, pages nobody.
        assert escalate(first, stale, due_at) is None
        first.commit()
    assert [(p.step, p.contact_id) for p in pages(app)] == [(1, on_call[0].id), (2, on_call[1].id)]
    assert event_kinds(app, alert_id).count("page_queued") == 2
    assert alert_row(app, alert_id).escalation_level == 2
    assert alert_row(app, alert_id).next_escalation_at == due_at + DELAY


def test_a_late_outcome_after_the_lease_was_lost_records_nothing(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server
):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    settings = DeliverySettings.from_config(paging_app.config)
    factory = session_factory(app)
    with factory() as slow, factory() as other:
        [page_id] = claim(slow, now=OUT_OF_HOURS, worker="slow", settings=settings, model=Page)
        # Leased: another process takes nothing meanwhile.
        assert claim(other, now=OUT_OF_HOURS, worker="other", settings=settings, model=Page) == []
        row = _load_page(slow, page_id)
        link = patient_page_link(paging_app)(row[2].id)
        message = compose_page(*row, link, now=OUT_OF_HOURS)
        slow.commit()

        # The lease lapses; another process sends the page and records it.
        later = OUT_OF_HOURS + timedelta(seconds=settings.lease_seconds + 1)
        with paging_app.app_context():
            counts = deliver_pages(
                other,
                now=later,
                channels=Channels.from_config(paging_app.config),
                settings=settings,
                link_for=patient_page_link(paging_app),
                worker="other",
            )
        assert counts.sent == 1

        # The first process's outcome, success or failure, arrives too late.
        for error in (None, DeliveryError("HTTP 400", permanent=True)):
            late = PageCounts()
            record_page_outcome(
                slow, row, message, error, now=later, worker="slow", settings=settings, counts=late
            )
            assert late.lost_lease == 1 and late.sent == late.dead == 0
    page = only(pages(app))
    assert (page.status, page.attempts, page.sent_at) == ("sent", 1, later)
    assert event_kinds(app, alert_id).count("page_sent") == 1
    assert "page_failed" not in event_kinds(app, alert_id)
    assert len(audit_rows(app, "alert.page_sent")) == 1
    assert alert_row(app, alert_id).escalation_level == 1  # nobody else was paged


def test_it_reports_the_paging_state_of_many_alerts_in_one_query(
    app, session, clinic, on_call, enroll_patient, raise_urgent
):
    ids = [raise_urgent(enroll_patient(name=f"Patient {n}").plan) for n in range(3)]
    high = enroll_patient(name="Patient 3").plan
    ids.append(raise_urgent(high, rule=SEVERE_PAIN, urgency="high", summary="Pain 7/10"))
    for alert_id in ids[:3]:
        page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    page_tick(app, OUT_OF_HOURS + DELAY, steps=ESCALATE)  # the three paged ones escalate

    statements: list[str] = []
    engine = app.extensions["tracker.engine"]

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_factory(app)() as fresh:
            states = paging_states(fresh, ids)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 2
    assert set(states) == set(ids[:3])  # the fourth is not pageable
    for alert_id in ids[:3]:
        state = states[alert_id]
        assert (state.step, state.contact_name, state.status) == (2, "Dr Ben", "queued")
        assert state.created_at == OUT_OF_HOURS + DELAY and state.sent_at is None
        assert state.next_escalation_at == OUT_OF_HOURS + 2 * DELAY and not state.exhausted
    assert paging_states(session, []) == {}


def test_a_new_round_pages_again_and_cancels_what_is_left_of_the_old_one(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server
):
    alert_id = raise_urgent(enroll_patient().plan)
    page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    # Newer, worse evidence re-opens the alert: alerts.py bumps the round (as done here).
    alert = session.get(Alert, alert_id)
    alert.page_round, alert.escalation_level, alert.summary = 1, 0, "Chest pain"
    alert.next_escalation_at = None
    session.commit()

    summary = page_tick(paging_app, OUT_OF_HOURS + timedelta(minutes=1))
    assert (summary["pages_queued"], summary["pages_cancelled"], summary["pages_sent"]) == (
        1,
        1,
        1,
    )
    old, new = pages(app)
    assert (old.round, old.status) == (0, "dead") and old.last_error.startswith("cancelled:")
    assert (new.round, new.step, new.status) == (1, 1, "sent")
    assert "Chest pain" in only(smtp_server.handler.messages).get_body(("plain",)).get_content()
    assert paging_states(session, [alert_id])[alert_id].round == 1


def test_the_tick_pages_an_alert_its_own_rules_raised_before_any_reminder(
    app, session, clinic, on_call, enroll_patient, paging_app, smtp_server
):
    assert [name for name, _ in TICK_STEPS][:4] == ["alerts", "escalate", "page", "plan"]
    plan = enroll_patient(name="Pat Example").plan
    # A red flag recorded without the request raising the alert (the tick's rules will).
    session.add(
        SymptomReport(
            plan_id=plan.id,
            local_day=date(2026, 11, 23),
            recorded_at=OUT_OF_HOURS - timedelta(minutes=1),
            answers={"fever": True},
            severity="call_team",
        )
    )
    mark_due(session, plan.id, OUT_OF_HOURS - timedelta(minutes=1))
    session.commit()

    summary = run_tick(paging_app, OUT_OF_HOURS, worker="test-worker")
    assert (summary["alerts_raised"], summary["pages_queued"], summary["pages_sent"]) == (1, 1, 1)
    email = only(smtp_server.handler.messages)
    assert email["To"] == ANA_EMAIL and "Pat Example" in email["Subject"]


def test_two_schedulers_at_once_page_each_contact_once(
    app, session, clinic, on_call, enroll_patient, raise_urgent, paging_app, smtp_server, webhook
):
    ids = [raise_urgent(enroll_patient(name=f"Patient {n}").plan) for n in range(8)]
    for alert_id in ids:
        page_if_needed(session, alert_id, OUT_OF_HOURS)
    session.commit()
    due = OUT_OF_HOURS + DELAY
    start = threading.Barrier(2)
    results: list[dict] = []

    def scheduler(worker: str) -> None:
        start.wait(timeout=10)
        results.append(run_tick(paging_app, due, worker=worker, steps=PAGING))

    threads = [threading.Thread(target=scheduler, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2 and not any(k.endswith("_failed") for r in results for k in r)
    assert sum(r["pages_escalated"] for r in results) == 8
    # Both pages of each alert (Ana's by email, Ben's by text), each exactly once.
    assert sum(r["pages_sent"] for r in results) == 16
    assert Counter(webhook.keys()) == Counter({f"page-{i}-0-2": 1 for i in ids})
    emails = Counter(m["X-Idempotency-Key"] for m in smtp_server.handler.messages)
    assert emails == Counter({f"page-{i}-0-1": 1 for i in ids})
    for alert_id in ids:
        kinds = event_kinds(app, alert_id)
        assert (kinds.count("page_queued"), kinds.count("page_sent")) == (2, 2)


def test_it_pages_a_log_contact_into_the_log(
    app, session, clinic, enroll_patient, raise_urgent, caplog
):
    add_contact(session, clinic, name="On-call desk", channel="log", address="desk", position=1)
    alert_id = raise_urgent(enroll_patient(name="Pat Example").plan)
    caplog.set_level("INFO", logger="tracker.reminders")
    assert page_tick(app, OUT_OF_HOURS)["pages_sent"] == 1
    assert f"page page-{alert_id}-0-1 to On-call desk" in caplog.text
    assert "URGENT: Red flag for Pat Example" in caplog.text
