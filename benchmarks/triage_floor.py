"""The floor of target 2: the triage page with its data for free.

The tracker's own app (``create_app()``, every request hook, the rate limiter, the
security headers) with one more route, ``/floor/triage``. It does everything the real
triage view does per request but read and compute the page: the coordinator's sign-in is
checked against the database (Flask-Login's user loader), the clinic is read, the view is
audited and committed durably, and the same template is rendered with the same context.
The page itself (``tracker.care.triage.triage_page``: its plans, pain days, sparklines,
adherence and alerts) is computed once per worker, per clinic and filters, and then kept.

Loaded the same way as the real page on the same database, its rate ÷ the same server's
``/livez`` is the best ratio the triage page can reach on the machine of the run, however
fast its queries and its Python became: an upper bound for target 2, measured rather than
assumed.

Not part of the product: nothing imports it but gunicorn in the triage benchmark and its
smoke test. The kept pages are never refreshed, which only a benchmark may allow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.care.auth import coordinator_required
from tracker.care.triage import TriageFilters, TriagePage, triage_page
from tracker.care.views import show_triage
from tracker.core.models import Clinic

app = create_app()
_KEPT: dict[tuple[int, TriageFilters], TriagePage] = {}


def kept_page(
    session: Session, clinic: Clinic, filters: TriageFilters, now: datetime, *, page_size: int
) -> TriagePage:
    """``triage_page``, computed once per clinic and filters, then kept."""
    key = (clinic.id, filters)
    if key not in _KEPT:
        _KEPT[key] = triage_page(session, clinic, filters, now, page_size=page_size)
    return _KEPT[key]


@app.get("/floor/triage")
@coordinator_required
def floor_triage() -> Any:
    """``coordinator.triage`` with the page computed on the first request only."""
    return show_triage(kept_page)
