"""Triage as a work queue in a real headless Chromium (CSRF on, as in production).

On the demo clinic: a row with nothing to say takes one line (measured with bounding
boxes at 1280 px), a coordinator acknowledges, assigns and logs a call from the rows
without leaving the filtered list, and every state of the list passes axe-core at 360 px
and 1280 px. The browser fixtures are in tests/browser.py.
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
from tracker.care.work_queue import demo_work_queue
from tracker.cli import demo
from tracker.core.models import Alert, Clinic, ContactLogEntry, Patient, User
from tracker.plans.warning_signs import load_signs, signs_path

pytestmark = pytest.mark.layout_sweep

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 800}
# A row with nothing to say (no alert, no contact) at 1280 px; before the work queue such a
# row was 87 px (name, procedure and phone on three lines): 9 rows on an 800 px screen.
QUIET_ROW_MAX_PX = 32


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def demo_clinic(app: Flask, session, templates) -> Clinic:
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    clinic, _ = demo.seed(session, templates, signs, now=NOW, grace_days=14)
    demo_work_queue(session, clinic, NOW)  # a no-op once the demo calls it itself
    session.commit()
    return clinic


def _sign_in(page: Any, base: str, email: str = demo.COORDINATOR_EMAIL) -> None:
    page.goto(f"{base}/coordinator/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _row(page: Any, name: str) -> Any:
    return page.locator("table.triage tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_a_row_with_nothing_to_say_takes_one_line(browser, live_server, demo_clinic):
    from playwright.sync_api import expect

    context, page = new_page(browser, viewport=DESK)
    try:
        _sign_in(page, live_server)
        expect(page.locator("h1")).to_contain_text("Triage")
        rows = page.locator("table.triage tbody tr")
        quiet = rows.filter(has_not=page.locator(".q-alert")).filter(
            has_not=page.locator(".last-contact")
        )
        heights = [box["height"] for box in (r.bounding_box() for r in quiet.all())]
        assert len(heights) >= 10
        assert max(heights) <= QUIET_ROW_MAX_PX, heights
        # About three times the patients per screen of the old 87 px rows (9 per 800 px).
        assert DESK["height"] // max(heights) >= 3 * (DESK["height"] // 87)
        # The list fits the screen's width: nothing to scroll sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= DESK["width"]
    finally:
        context.close()


def test_a_coordinator_works_the_queue_from_the_list(browser, live_server, demo_clinic, session):
    """Acknowledge, assign and log a call from the rows; the list keeps its filters."""
    from playwright.sync_api import expect

    context, page = new_page(browser, viewport=DESK)
    try:
        _sign_in(page, live_server)
        page.get_by_label("Only patients with alerts").check()
        page.get_by_role("button", name="Filter").click()
        filtered = re.compile(r"/coordinator/\?has_alerts=1")
        expect(page).to_have_url(filtered)

        # The demo's morning is under way: an owner and a call already logged.
        dmitri = _row(page, "Dmitri Vance")
        expect(dmitri).to_contain_text("Called · no answer · 2 h ago by Casey Coordinator")

        # Acknowledge Uma Patel's red flag from her row.
        uma = _row(page, "Uma Patel")
        uma.get_by_role("button", name=re.compile("^Acknowledge Red-flag symptom")).click()
        expect(page.get_by_text(re.compile(r"^Acknowledged: Warning signs"))).to_be_visible()
        expect(page).to_have_url(re.compile(r"/coordinator/\?has_alerts=1#patient-\d+$"))
        uma = _row(page, "Uma Patel")
        expect(uma).to_contain_text("Red-flag symptom (acknowledged)")
        expect(uma).to_contain_text("acknowledged by Casey Coordinator")

        # Take it: assign it to me.
        uma.get_by_label(re.compile("^Owner of Red-flag symptom")).select_option("me")
        uma.get_by_role("button", name=re.compile("^Assign Red-flag symptom")).click()
        expect(page.get_by_text(re.compile(r"Owner of .* \(Uma Patel\): you\."))).to_be_visible()
        expect(page).to_have_url(re.compile(r"\?has_alerts=1#patient-\d+$"))
        owner = _row(page, "Uma Patel").get_by_label(re.compile("^Owner of Red-flag symptom"))
        expect(owner).to_have_value("me")

        # Log the call from the row, without opening the patient.
        uma = _row(page, "Uma Patel")
        uma.get_by_text("Log call").click()
        uma.get_by_label("Spoke with the patient").check()
        uma.get_by_label("Note (optional)").fill("Going to the ER now; her son drives.")
        uma.get_by_role("button", name=re.compile("^Save contact")).click()
        expect(
            page.get_by_text("Contact logged for Uma Patel: Spoke with patient.")
        ).to_be_visible()
        expect(page).to_have_url(re.compile(r"\?has_alerts=1#patient-\d+$"))
        uma = _row(page, "Uma Patel")
        expect(uma).to_contain_text("Spoke with patient · just now by Casey Coordinator")
        expect(uma).to_contain_text("Going to the ER now")

        session.expire_all()
        patient = session.scalar(select(Patient).where(Patient.name == "Uma Patel"))
        alert = session.scalar(
            select(Alert).where(Alert.patient_id == patient.id, Alert.rule == "red_flag")
        )
        casey = session.scalar(select(User).where(User.email == demo.COORDINATOR_EMAIL))
        assert (alert.status, alert.acknowledged_by_id, alert.assigned_to_id) == (
            "acknowledged",
            casey.id,
            casey.id,
        )
        entry = session.scalars(
            select(ContactLogEntry).where(ContactLogEntry.patient_id == patient.id)
        ).one()
        assert (entry.outcome, entry.user_id, entry.alert_id) == ("spoke", casey.id, alert.id)

        # The "mine" filter now lists her.
        page.get_by_label("Alert owner").select_option("mine")
        page.get_by_role("button", name="Filter").click()
        expect(_row(page, "Uma Patel")).to_have_count(1)
        expect(_row(page, "Jonah Brandt")).to_have_count(0)
    finally:
        context.close()


def _queue_states(browser: Any, base: str, viewport: dict[str, int]) -> Iterator[tuple[str, Any]]:
    from playwright.sync_api import expect

    size = f"{viewport['width']} px"
    context, page = new_page(browser, viewport=viewport)
    try:
        _sign_in(page, base)
        expect(page.locator("h1")).to_contain_text("Triage")
        yield f"triage at {size}", page
        uma = _row(page, "Uma Patel")
        uma.get_by_text("Log call").click()
        expect(uma.get_by_role("button", name=re.compile("^Save contact"))).to_be_visible()
        yield f"triage with a contact form open at {size}", page
        # A refused contact (no outcome): the browser's own check is skipped to reach the server.
        uma.locator("form.contact-form").evaluate("form => form.noValidate = true")
        uma.get_by_role("button", name=re.compile("^Save contact")).click()
        expect(page.get_by_role("alert")).to_contain_text("The contact was not saved")
        yield f"triage with a refused contact at {size}", page
        page.goto(f"{base}/coordinator/?owner=mine")
        yield f"triage, my alerts, at {size}", page
        page.goto(f"{base}/coordinator/?owner=someone")
        yield f"triage with an owner filter error at {size}", page
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["360px", "1280px"])
def test_the_work_queue_passes_the_axe_audit(browser, live_server, demo_clinic, viewport):
    audited, failures = axe_failures(_queue_states(browser, live_server, viewport))
    assert not failures, "\n\n".join(failures)
    assert len(audited) == 5


def test_the_list_fits_a_phone_without_sideways_scrolling(browser, live_server, demo_clinic):
    from playwright.sync_api import expect

    context, page = new_page(browser, viewport=PHONE)
    try:
        _sign_in(page, live_server)
        expect(page.locator("h1")).to_contain_text("Triage")
        table = page.locator("table.triage").bounding_box()
        assert table["x"] + table["width"] <= PHONE["width"]
        uma = _row(page, "Uma Patel")
        uma.get_by_text("Log call").click()
        form = uma.locator("form.contact-form").bounding_box()
        assert form["x"] >= 0 and form["x"] + form["width"] <= PHONE["width"]
    finally:
        context.close()
