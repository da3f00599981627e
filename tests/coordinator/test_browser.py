"""The care team's pages in a real headless Chromium, with CSRF on as in production.

A coordinator signs in through the form, works the demo's triage list (the red flag first),
acknowledges and resolves an alert, enrols a patient; an admin opens the admin pages. Every
page state on the way is audited with axe-core. The browser fixtures are in tests/browser.py.
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


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    # CSRF stays on here (the rest of this folder turns it off to post forms directly).
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def demo_clinic(app: Flask, session, templates) -> None:
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    demo.seed(session, templates, signs, now=NOW, grace_days=14)


def _sign_in(page: Any, base: str, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(f"{base}/coordinator/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_coordinator_works_an_alert_and_enrols_a_patient_in_the_browser(
    browser, live_server, demo_clinic, session
):
    from playwright.sync_api import expect

    context, page = new_page(browser)
    try:
        _sign_in(page, live_server, demo.COORDINATOR_EMAIL, "not the password")
        expect(page.get_by_role("alert")).to_contain_text("do not match an active account")

        _sign_in(page, live_server, demo.COORDINATOR_EMAIL)
        expect(page.locator("h1")).to_have_text(f"Triage: {demo.CLINIC_NAME}")
        first = page.locator("table.triage tbody tr").first
        # The red flag with a 911 answer (newly weak legs after a fever) is the most urgent row.
        expect(first.locator("th a")).to_have_text("Uma Patel")
        expect(first).to_contain_text("Red-flag symptom")
        expect(first).to_contain_text("earlier: fever")

        first.locator("th a").click()
        expect(page.locator("h1")).to_have_text("Uma Patel")
        red_flag = page.locator("#alerts article").filter(has_text="Red-flag symptom")
        red_flag.get_by_label("Note (needed to resolve)").fill("Calling the patient now")
        red_flag.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_text("Alert acknowledged: Warning signs")).to_be_visible()
        expect(red_flag).to_contain_text("acknowledged by")
        expect(red_flag).to_contain_text("Calling the patient now")
        # One form per alert: the same note box, now for the resolution.
        red_flag.get_by_label("Note (needed to resolve)").fill("Called; seen in clinic today")
        red_flag.get_by_role("button", name="Resolve").click()
        expect(page.get_by_text("Alert resolved: Warning signs")).to_be_visible()
        expect(red_flag).to_have_count(0)
        resolved = session.scalars(select(Alert).where(Alert.status == "resolved")).all()
        assert [(a.rule, a.resolution_note) for a in resolved] == [
            ("red_flag", "Called; seen in clinic today")
        ]

        page.get_by_role("link", name="Enrol a patient").click()
        page.get_by_role("button", name="Enrol and create the personal link").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing has been saved.")
        page.get_by_label("Full name").fill("Robin Example")
        page.get_by_label("Procedure", exact=True).select_option("vertebroplasty")
        page.get_by_label("Procedure date").fill("2026-11-20")
        page.get_by_label("Patient's time zone").select_option("America/Chicago")
        page.get_by_label("Daily reminder time").fill("09:30")
        page.get_by_role("button", name="Enrol and create the personal link").click()
        expect(page.locator("h1")).to_contain_text("Robin Example")
        link = page.get_by_text(re.compile(r"/p/[A-Za-z0-9_-]{20,}")).first
        expect(link).to_be_visible()
        assert session.scalar(select(Patient).where(Patient.name == "Robin Example"))

        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{live_server}/coordinator/")
        expect(page.locator("h1")).to_have_text("Care team sign-in")
    finally:
        context.close()


def _care_team_pages(browser: Any, base: str, session) -> Iterator[tuple[str, Any]]:
    """Every care team page state once; yields (name, page) while each is showing."""
    from playwright.sync_api import expect

    context, page = new_page(browser)
    try:
        page.goto(f"{base}/coordinator/login")
        yield "sign-in", page
        _sign_in(page, base, demo.ADMIN_EMAIL, "wrong password")
        expect(page.get_by_role("alert")).to_be_visible()
        yield "sign-in with an error", page
        _sign_in(page, base, demo.ADMIN_EMAIL)
        expect(page.locator("h1")).to_contain_text("Triage")
        yield "triage", page
        page.goto(f"{base}/coordinator/?min_day=soon")
        yield "triage with a filter error", page
        page.goto(f"{base}/coordinator/?has_alerts=1&procedure=vertebroplasty")
        yield "triage filtered", page
        flagged = session.scalar(select(Alert.patient_id).where(Alert.rule == "red_flag"))
        page.goto(f"{base}/coordinator/patients/{flagged}")
        yield "patient with alerts", page
        page.locator("#alerts").get_by_role("button", name="Acknowledge").first.click()
        expect(page.get_by_text("Alert acknowledged:")).to_be_visible()
        yield "patient after acknowledging", page
        page.goto(f"{base}/coordinator/enrol")
        yield "enrol", page
        page.get_by_role("button", name="Enrol and create the personal link").click()
        expect(page.get_by_role("alert")).to_be_visible()
        yield "enrol with errors", page
        page.goto(f"{base}/coordinator/patients/{flagged}")
        page.locator("#link summary").click()  # the section is folded until opened
        page.get_by_role("button", name=re.compile("Issue a new link")).click()
        expect(page.get_by_text(re.compile(r"/p/"))).not_to_have_count(0)
        yield "link issued", page
        page.goto(f"{base}/coordinator/exports")
        yield "exports", page
        page.goto(f"{base}/coordinator/admin/users")
        yield "accounts", page
        page.goto(f"{base}/coordinator/admin/clinic")
        yield "clinic settings", page
        page.goto(f"{base}/coordinator/admin/audit")
        yield "audit log", page
    finally:
        context.close()


def test_every_care_team_page_passes_the_axe_accessibility_audit(
    browser, live_server, demo_clinic, session
):
    audited, failures = axe_failures(_care_team_pages(browser, live_server, session))
    assert not failures, "\n\n".join(failures)
    assert len(audited) == 14
