"""The care team's pages on a phone and a tablet, in a real headless Chromium (issue 20):
no page scrolls sideways at 360 px, the enrolment form's errors and the link handout work
end to end, and the pages changed here pass axe-core at 360 px and 1280 px.

The browser fixtures are in tests/browser.py; CSRF stays on, as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser import axe_failures, new_page
from tests.conftest import NOW, _empty_tables, make_test_app
from tracker.cli import demo
from tracker.core.models import Alert, Patient
from tracker.plans.warning_signs import load_signs, signs_path

pytestmark = pytest.mark.layout_sweep

PHONE = {"width": 360, "height": 740}
TABLET = {"width": 768, "height": 1024}
DESK = {"width": 1280, "height": 900}

# The elements sticking out past the right edge of the viewport, for the failure message.
WIDE_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  const sticksOut = (el) => el.getBoundingClientRect().right > width + 0.5;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!sticksOut(el) || (el.parentElement && sticksOut(el.parentElement))) continue;
    const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
    wide.push(name + ' ' + Math.round(el.getBoundingClientRect().right));
  }
  return wide.slice(0, 8);
}"""


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def demo_clinic(app: Flask, session, templates) -> None:
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    demo.seed(session, templates, signs, now=NOW, grace_days=14)


def _sign_in(page: Any, base: str, email: str = demo.ADMIN_EMAIL) -> None:
    page.goto(f"{base}/coordinator/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/coordinator/$"))


def _enrol_with_errors(page: Any, base: str) -> None:
    page.goto(f"{base}/coordinator/enrol")
    page.get_by_label("Full name").fill("")
    page.get_by_label("Levels treated").fill("Z9")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Enrol and create the personal link").click()
    page.get_by_role("alert").wait_for()


def _enrol(page: Any, base: str, name: str = "Robin Example") -> None:
    page.goto(f"{base}/coordinator/enrol")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Procedure", exact=True).select_option("vertebroplasty")
    page.get_by_label("Procedure date").fill("2026-11-20")
    page.get_by_label("Patient's time zone").select_option("America/Chicago")
    page.get_by_label("Email").fill("robin@example.org")
    page.get_by_role("button", name="Enrol and create the personal link").click()
    page.get_by_role("heading", name=f"Patient enrolled: {name}").wait_for()


def _print_handout(page: Any) -> None:
    page.get_by_role("button", name="Print a handout with this link").click()
    page.wait_for_url(re.compile(r"/link/handout$"))


def _care_pages(browser: Any, base: str, session, viewport: dict[str, int]):
    """Every care team page once, signed in as the demo admin; yields (name, page)."""
    context, page = new_page(browser, viewport=viewport)
    try:
        page.goto(f"{base}/coordinator/login")
        yield "sign-in", page
        _sign_in(page, base)
        yield "triage", page
        page.goto(f"{base}/coordinator/?has_alerts=1&procedure=kyphoplasty")
        yield "triage filtered", page
        flagged = session.scalar(select(Alert.patient_id).where(Alert.rule == "red_flag"))
        page.goto(f"{base}/coordinator/patients/{flagged}")
        yield "patient", page
        page.goto(f"{base}/coordinator/patients/{flagged}/card")
        yield "plan card", page
        _enrol_with_errors(page, base)
        yield "enrol with errors", page
        _enrol(page, base)
        yield "link issued", page
        _print_handout(page)
        yield "link handout", page
        page.goto(f"{base}/coordinator/exports")
        yield "exports", page
        page.goto(f"{base}/coordinator/admin/users")
        yield "accounts", page
        page.goto(f"{base}/coordinator/admin/clinic")
        yield "clinic settings", page
        page.goto(f"{base}/coordinator/admin/escalation")
        yield "escalation", page
        page.goto(f"{base}/coordinator/admin/content/")
        yield "content", page
        page.goto(f"{base}/coordinator/admin/content/kyphoplasty")
        yield "content sheet", page
        page.goto(f"{base}/coordinator/admin/audit")
        yield "audit log", page
        page.goto(f"{base}/coordinator/admin/audit?patient=uma&start=2026-11-01&end=2026-11-21")
        yield "audit log filtered", page
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_no_care_team_page_scrolls_sideways(browser, live_server, demo_clinic, session, viewport):
    wide = {}
    visited = []
    for name, page in _care_pages(browser, live_server, session, viewport):
        visited.append(name)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wide[name] = (overflow, page.evaluate(WIDE_ELEMENTS))
    assert len(visited) == 16
    assert not wide, "\n".join(f"{k}: {v}" for k, v in wide.items())


def _my_pages(browser: Any, base: str, viewport: dict[str, int]):
    """The pages this issue changed, in each of their states."""
    context, page = new_page(browser, viewport=viewport)
    try:
        _sign_in(page, base)
        page.goto(f"{base}/coordinator/enrol")
        yield "enrol", page
        _enrol_with_errors(page, base)
        yield "enrol with errors", page
        _enrol(page, base, name=f"Robin {viewport['width']}")
        yield "link issued", page
        _print_handout(page)
        yield "link handout", page
        page.goto(f"{base}/coordinator/admin/audit")
        yield "audit log", page
        page.goto(f"{base}/coordinator/admin/audit?patient=uma&start=2026-11-22&end=2026-11-21")
        yield "audit log with an error", page
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["360px", "1280px"])
def test_the_changed_pages_pass_axe(browser, live_server, demo_clinic, viewport):
    audited, failures = axe_failures(_my_pages(browser, live_server, viewport))
    assert len(audited) == 6
    assert not failures, "\n\n".join(failures)


def test_enrolment_errors_then_the_handout_in_the_browser(
    browser, live_server, demo_clinic, session
):
    from playwright.sync_api import expect

    context, page = new_page(browser, viewport=PHONE)
    try:
        _sign_in(page, live_server, demo.COORDINATOR_EMAIL)
        _enrol_with_errors(page, live_server)
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Nothing has been saved.")
        expect(summary).to_contain_text("Please correct these 5 fields")
        # Each error is announced with its field (aria-describedby), and typed values stay.
        expect(page.get_by_label("Full name")).to_have_accessible_description(
            "Enter the patient's full name."
        )
        expect(page.get_by_label("Levels treated")).to_have_value("Z9")
        expect(page.get_by_label("Levels treated")).to_have_accessible_description(
            re.compile(r"^Optional\. For example T12.* \"Z9\" is not a spinal level\.")
        )
        expect(page.get_by_label("Procedure", exact=True)).to_have_accessible_description(
            "Choose the procedure: kyphoplasty or vertebroplasty."
        )
        assert page.get_by_label("Patient's time zone").input_value() == "America/New_York"
        # The summary links to the field.
        summary.get_by_role("link", name=re.compile("^Email:")).click()
        expect(page.get_by_label("Email")).to_be_focused()
        assert session.scalar(select(Patient).where(Patient.name == "")) is None

        _enrol(page, live_server)
        expect(page.locator("h1")).to_have_text("Patient enrolled: Robin Example")
        qr = page.get_by_role("img", name="QR code of Robin Example's personal link")
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        assert box["width"] >= 150 and box["x"] + box["width"] <= PHONE["width"]
        link = page.locator(".link-box code").inner_text()
        assert (
            re.fullmatch(rf"{re.escape(live_server)}/p/[A-Za-z0-9_-]{{43}}", link) or "/p/" in link
        )

        page.get_by_role("button", name="Print a handout with this link").click()
        expect(page.locator("h1").last).to_have_text("Your recovery page")
        handout_qr = page.get_by_role("img", name="QR code of Robin Example's personal link")
        expect(handout_qr).to_be_visible()
        expect(page.locator(".link-handout .link-box code")).to_have_text(link)

        # On paper: only the handout (no navigation, no buttons), on one page.
        page.emulate_media(media="print")
        expect(page.locator(".team-nav")).to_be_hidden()
        expect(page.get_by_role("button", name=re.compile("^Send by email"))).to_be_hidden()
        expect(handout_qr).to_be_visible()
        pdf = page.pdf(format="Letter")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
        pdf = page.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    finally:
        context.close()


def test_the_favicon_is_an_svg_and_every_page_names_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    page = client.get("/coordinator/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    static = client.get("/static/favicon.svg")
    assert static.status_code == 200 and static.mimetype == "image/svg+xml"
    static.close()
