"""``Cache-Control: no-store`` on every care team page and export, as on patient pages."""

from __future__ import annotations

from tests.hardening.flows.test_no_store import get_urls
from tracker.web.headers import CACHEABLE_ENDPOINTS


def test_every_coordinator_page_and_export_is_no_store(app, admin_client, enroll_patient):
    patient = enroll_patient()
    ids = {"patient_id": patient.patient.id, "filename": "site.css", "token": "x" * 43}
    urls = [pair for pair in get_urls(app, ids) if pair[0] != "patient_link.link_sign_in"]
    urls.append(("csv", "/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21"))
    urls.append(("bad-csv", "/coordinator/exports/pain.csv?start=nope&end=2026-11-21"))
    urls.append(("audit", "/coordinator/admin/audit?page=2"))
    statuses = {}
    for endpoint, url in urls:
        response = admin_client.get(url)
        statuses[url] = response.status_code
        cache = response.headers.get("Cache-Control", "")
        response.close()
        if endpoint in CACHEABLE_ENDPOINTS:
            assert "no-store" not in cache, url
        else:
            assert cache == "no-store", (url, response.status_code, cache)
    # The crawl really reached the care team's pages and both exports.
    assert statuses["/coordinator/"] == 200
    assert statuses[f"/coordinator/patients/{patient.patient.id}"] == 200
    assert statuses[f"/coordinator/patients/{patient.patient.id}/fhir.json"] == 200
    assert statuses["/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21"] == 200
    assert statuses["/coordinator/admin/audit?page=2"] == 200
