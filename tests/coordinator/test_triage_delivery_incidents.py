"""The triage list shows reminder delivery incidents once, as a banner (not per patient)."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import NOW
from tracker.core.models import DeliveryIncident


def _incident(**fields) -> DeliveryIncident:
    values = {
        "kind": "channel_down",
        "key": "email",
        "channel": "email",
        "target": "smtp mail.example:25",
        "opened_at": NOW - timedelta(minutes=40),
        "confirmed_at": NOW - timedelta(minutes=40),
        "last_failure_at": NOW - timedelta(minutes=1),
        "failures": 12,
        "affected": 0,
        "last_error": "SMTP mail.example:25: ConnectionRefusedError",
        "detail": {},
    }
    values.update(fields)
    return DeliveryIncident(**values)


def test_the_triage_list_shows_an_open_outage_and_a_gap_of_this_clinic_only(
    coordinator_client, session, clinic, other_clinic
):
    session.add_all(
        [
            _incident(),
            _incident(
                kind="not_created",
                key="not_created",
                channel="scheduler",
                target="the reminder scheduler",
                closed_at=NOW - timedelta(hours=2),
                affected=5,
                detail={"clinics": {str(clinic.id): 3}, "days": ["2026-11-20"]},
            ),
            # Another clinic's own gateway, and a suspected outage: not shown.
            _incident(
                key=f"webhook:clinic-{other_clinic.id}",
                channel="webhook",
                clinic_id=other_clinic.id,
                target="https://sms.other.example/hook",
            ),
            _incident(key="webhook", channel="webhook", confirmed_at=None),
        ]
    )
    session.commit()

    page = coordinator_client.get("/coordinator/").get_data(as_text=True)
    assert page.count('class="flash flash-error delivery-incident"') == 2
    assert (
        "Email reminders cannot be delivered: smtp mail.example:25 has not answered for 40" in page
    )
    assert "3 daily reminders of 2026-11-20 were never sent" in page
    assert "sms.other.example" not in page and "Text message" not in page
