"""The plan card prints cleanly in a real headless Chromium: one sheet of A4 and of Letter,
only the card on paper (no navigation, no buttons), the key content visible in print, the
QR code on the care team's card, and no accessibility violations on screen (axe-core).

PDFs are rendered in memory (``page.pdf()`` without a path): nothing is written to disk.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.browser import axe_failures, new_page
from tests.conftest import NOW
from tests.coordinator.conftest import PASSWORD, password_hash
from tracker.core.models import AuditEvent, PatientLinkToken, User

_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF that Chromium wrote (its page objects are not compressed)."""
    assert pdf.startswith(b"%PDF-")
    return len(_PAGE.findall(pdf))


def _assert_prints_on_one_sheet(page) -> None:
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        assert pdf_pages(pdf) == 1, f"the card takes {pdf_pages(pdf)} pages on {paper}"


def _assert_print_shows_the_card(page, *, with_qr: bool) -> None:
    from playwright.sync_api import expect

    # Emulated print media is left on: call this after page.pdf() (Chromium's PDF does not
    # return while print media is emulated) and switch back to screen for what follows.
    page.emulate_media(media="print")
    # Only the card on paper: no navigation, footer, buttons or screen notes.
    for hidden in (".site-header", ".clinic-contact", ".no-print"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    card = page.locator("article.plan-card")
    expect(card).to_be_visible()
    for heading in (
        "Your recovery plan and warning signs",
        "Warning signs",
        "Your limits and when they end",
        "Your plan, day by day",
        "Visits",
    ):
        name = re.compile("^" + re.escape(heading))
        expect(card.get_by_role("heading", name=name)).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Call 911 now"))).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Call your care team today"))).to_be_visible()
    expect(card.locator(".card-numbers")).to_contain_text("555-0142")
    expect(card.locator(".card-numbers")).to_contain_text("555-0199")
    expect(card.get_by_role("row", name=re.compile(r"^No heavy lifting"))).to_be_visible()
    qr = card.get_by_role("img", name="QR code of your personal link")
    if with_qr:
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        # Big enough to scan from paper: at least about 2.5 cm (96 px per inch).
        assert box is not None and box["width"] >= 90 and box["height"] >= 90
    else:
        expect(qr).to_have_count(0)


def test_the_patients_card_prints_on_one_sheet(browser, live_server, enrolled, session, clinic):
    clinic.after_hours_phone = "555-0199"
    session.commit()
    context, page = new_page(browser)
    try:
        page.goto(f"{live_server}/p/{enrolled.link_token}")
        page.goto(f"{live_server}/me/progress")
        page.get_by_role("link", name="Your plan on one page, to print").click()
        assert page.url == f"{live_server}/me/card"
        _assert_prints_on_one_sheet(page)
        _assert_print_shows_the_card(page, with_qr=False)
        page.emulate_media(media="screen")
        audited, failures = axe_failures(iter([("patient plan card", page)]))
        assert audited and not failures, "\n\n".join(failures)
    finally:
        context.close()


def test_the_care_teams_card_carries_a_new_link_as_a_qr_code_and_prints_on_one_sheet(
    browser, live_server, enrolled, session, clinic
):
    from playwright.sync_api import expect

    clinic.after_hours_phone = "555-0199"
    user = User(
        clinic_id=clinic.id,
        email="nurse@example.org",
        name="Nurse Example",
        password_hash=password_hash(),
        role="coordinator",
        created_at=NOW,
    )
    session.add(user)
    session.commit()
    patient_id = enrolled.patient.id
    context, page = new_page(browser)
    try:
        page.goto(f"{live_server}/coordinator/login")
        page.get_by_label("Email").fill("nurse@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server}/coordinator/patients/{patient_id}")
        page.locator("#link summary").click()  # the section is folded until opened
        page.get_by_role("link", name="Plan card to print").click()
        expect(page).to_have_url(f"{live_server}/coordinator/patients/{patient_id}/card")
        expect(page.get_by_role("img", name="QR code of your personal link")).to_have_count(0)
        page.get_by_role("button", name=re.compile(r"^Issue a new link and put its QR")).click()
        expect(page.get_by_text("A new personal link was issued")).to_be_visible()
        _assert_prints_on_one_sheet(page)
        _assert_print_shows_the_card(page, with_qr=True)
        page.emulate_media(media="screen")
        audited, failures = axe_failures(iter([("care team plan card with QR", page)]))
        assert audited and not failures, "\n\n".join(failures)
    finally:
        context.close()
    # The old link stopped working; one new live link; the rotation is audited.
    session.expire_all()
    live = session.scalars(
        select(PatientLinkToken).where(
            PatientLinkToken.patient_id == patient_id, PatientLinkToken.revoked_at.is_(None)
        )
    ).all()
    assert len(live) == 1
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "patient.card_view" in actions and "link.rotate" in actions
