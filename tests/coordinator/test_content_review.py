"""Admin content pages: the review sheet, "approve this version" (audited, exact version
and text only), approval state; coordinators are refused."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import select

from tracker.core.models import AuditEvent, ContentApproval
from tracker.plans.content_review import review_sheet


def _form(f, plan="kyphoplasty", **extra):
    data = {
        "plan": plan,
        "content_id": f.content_id,
        "version": str(f.version),
        "digest": f.digest,
        "note": "Read by Dr Example",
    }
    data.update(extra)
    return data


def test_the_sheet_shows_every_sentence_and_flags(admin_client, app):
    files = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")
    index = admin_client.get("/coordinator/admin/content/")
    assert index.status_code == 200
    response = admin_client.get("/coordinator/admin/content/kyphoplasty")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for f in files:
        assert f.path in html and f"version {f.version}" in html
    assert "Not approved" in html
    if any(f.flagged for f in files):
        assert "To confirm:" in html
    assert admin_client.get("/coordinator/admin/content/nope").status_code == 404


def test_approving_records_who_which_version_and_is_audited(admin_client, app, session, admin):
    f = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")[0]
    response = admin_client.post("/coordinator/admin/content/approve", data=_form(f))
    assert response.status_code == 302
    row = session.scalar(select(ContentApproval))
    assert (row.template_id, row.version, row.approved_by_id, row.content_digest) == (
        f.content_id,
        f.version,
        admin.id,
        f.digest,
    )
    assert row.note == "Read by Dr Example"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "content.approve"))
    assert event.detail["version"] == f.version
    page = admin_client.get("/coordinator/admin/content/kyphoplasty").get_data(as_text=True)
    assert "Approved" in page
    # Twice is refused; so is a version or text other than the one shown.
    again = admin_client.post("/coordinator/admin/content/approve", data=_form(f))
    assert again.status_code == 409


def test_a_version_other_than_the_one_shown_is_refused(admin_client, app, session):
    f = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")[1]
    for change in ({"version": str(f.version + 1)}, {"digest": "0" * 64}):
        response = admin_client.post("/coordinator/admin/content/approve", data=_form(f, **change))
        assert response.status_code == 409
    assert session.scalar(select(ContentApproval)) is None


def test_coordinators_cannot_see_or_approve(coordinator_client, app):
    f = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")[0]
    assert coordinator_client.get("/coordinator/admin/content/").status_code in (403, 404)
    response = coordinator_client.post("/coordinator/admin/content/approve", data=_form(f))
    assert response.status_code in (403, 404)


def test_the_sheet_lists_each_translation_with_its_own_review_state(admin_client, app):
    files = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")
    translations = [t for f in files for t in f.translations]
    assert translations, "the kyphoplasty plan and its checks carry Spanish translations"
    html = admin_client.get("/coordinator/admin/content/kyphoplasty").get_data(as_text=True)
    assert "Translations of this file" in html
    assert "Español" in html
    # Nobody has confirmed them yet: each says so, beside the English it came from.
    unreviewed = [t for t in translations if t.needs_review]
    assert unreviewed and "needs review" in html.lower()
    first = unreviewed[0]
    assert escape(first.translated) in html and escape(first.english) in html
