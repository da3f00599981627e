"""/healthz reports a delivery channel that is down without failing the health check."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import NOW
from tracker.core.models import DeliveryIncident, SchedulerHeartbeat


def _incident(**fields) -> DeliveryIncident:
    values = {
        "kind": "channel_down",
        "key": "email",
        "channel": "email",
        "target": "smtp 127.0.0.1:2525",
        "opened_at": NOW - timedelta(minutes=20),
        "confirmed_at": NOW - timedelta(minutes=20),
        "last_failure_at": NOW - timedelta(minutes=1),
        "failures": 3,
        "affected": 0,
        "detail": {},
    }
    values.update(fields)
    return DeliveryIncident(**values)


def test_it_reports_an_open_outage_and_stays_healthy(app, session):
    app.config["FIXED_NOW"] = NOW
    session.add(SchedulerHeartbeat(name="scheduler-1", last_tick_at=NOW, last_summary={}))
    # Closed and merely suspected incidents are not reported.
    session.add(_incident(closed_at=NOW - timedelta(minutes=2), key="old"))
    session.add(_incident(confirmed_at=None, key="suspected", channel="webhook"))
    session.commit()
    quiet = app.test_client().get("/healthz")
    assert quiet.status_code == 200
    assert quiet.get_json()["delivery"] == {"status": "ok", "channels_down": []}

    session.add(_incident())
    session.commit()
    body = app.test_client().get("/healthz")
    assert body.status_code == 200 and body.get_json()["status"] == "ok"
    assert body.get_json()["delivery"] == {
        "status": "incident",
        "channels_down": [
            {
                "channel": "email",
                "target": "smtp 127.0.0.1:2525",
                "since": (NOW - timedelta(minutes=20)).isoformat(),
            }
        ],
    }
