"""``Cache-Control: no-store`` on every response but static files and the liveness probe.

Crawls every GET route the app has (whatever blueprints are registered), signed in, with
real ids filled in, so a page added later is covered without editing this test.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import post_form
from tracker.core.models import PainEntry, SymptomReport
from tracker.web.headers import CACHEABLE_ENDPOINTS


def _ids(session, enrolled) -> dict[str, object]:
    report = SymptomReport(
        plan_id=enrolled.plan.id,
        local_day=date(2026, 11, 21),
        recorded_at=NOW,
        answers={},
        severity="none",
    )
    session.add(report)
    session.commit()
    return {
        "entry_id": session.scalar(select(PainEntry.id)),
        "report_id": report.id,
        "patient_id": enrolled.patient.id,
        "plan_id": enrolled.plan.id,
        "token": enrolled.link_token,
        "filename": "site.css",
    }


def get_urls(app, ids: dict[str, object]) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {arg: ids.get(arg, 1) for arg in rule.arguments}
        with app.test_request_context():
            urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return urls


def test_every_page_but_static_files_is_no_store(app, patient_client, session, enrolled):
    post_form(patient_client, "/me/pain", data={"score": "4", "note": "for the crawl"})
    urls = get_urls(app, _ids(session, enrolled))
    assert len(urls) >= 8
    seen = set()
    for endpoint, url in sorted(urls, key=lambda pair: pair[0] == "patient_link.link_sign_in"):
        response = patient_client.get(url)
        seen.add(response.status_code)
        cache = response.headers.get("Cache-Control", "")
        response.close()  # static files are streamed from an open file
        if endpoint in CACHEABLE_ENDPOINTS:
            assert "no-store" not in cache, url
        else:
            assert cache == "no-store", (url, response.status_code, cache)
    assert 200 in seen
    # Error pages, too.
    assert patient_client.get("/no-such-page").headers["Cache-Control"] == "no-store"
    assert patient_client.post("/me/pain", data={}).headers["Cache-Control"] == "no-store"
