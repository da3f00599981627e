"""The floor of target 2: the triage page with its data for free.

The tracker's own app (``create_app()``, every request hook, the rate limiter, the
security headers) with one more route, ``/floor/triage``. It does everything the real
triage view does per request but read and compute the page: the coordinator's sign-in is
checked against the database (Flask-Login's user loader), the clinic is read, the view is
audited and committed durably, and the same template is rendered with the same context.
The page itself (``tracker.triage.triage_page``: its plans, pain days, sparklines,
adherence and alerts) is computed once per worker, per clinic and filters, and then kept.

Loaded the same way as the real page on the same database, its rate ÷ the same server's
``/livez`` is the best ratio the triage page can reach on the machine of the run, however
fast its queries and its Python became: an upper bound for target 2, measured rather than
assumed.

Not part of the product: nothing imports it but gunicorn in the triage benchmark and its
smoke test. The kept pages are never refreshed, which only a benchmark may allow.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from tracker import create_app
from tracker.clock import request_now
from tracker.coordinator_auth import coordinator_required, record
from tracker.coordinator_views import clinic
from tracker.db import get_session
from tracker.models import PROCEDURES
from tracker.triage import TriageFilters, TriagePage, parse_filters, triage_page

app = create_app()
_KEPT: dict[tuple[int, TriageFilters], TriagePage] = {}


@app.get("/floor/triage")
@coordinator_required
def floor_triage() -> Any:
    """``coordinator.triage`` with the page computed on the first request only."""
    now = request_now()
    filters, errors = parse_filters(request.args)
    the_clinic = clinic()
    key = (the_clinic.id, filters)
    page = _KEPT.get(key)
    if page is None:
        page = _KEPT[key] = triage_page(
            get_session(),
            the_clinic,
            filters,
            now,
            page_size=current_app.config.get("TRIAGE_PAGE_SIZE", 25),
        )
    record(
        "triage.view",
        page=page.page,
        filters=filters.query_args(page=None),
        patient_ids=[row.patient.id for row in page.rows],
    )
    get_session().commit()
    return (
        render_template(
            "coordinator/triage.html",
            page=page,
            filters=filters,
            errors=errors,
            procedures=PROCEDURES,
            clinic=the_clinic,
        ),
        400 if errors else 200,
    )
