"""The escalation settings page in a real headless Chromium, with the axe audit: as shown,
with errors, and after adding to the on-call list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser import axe_failures, new_page
from tests.conftest import NOW, _empty_tables, make_test_app
from tracker.cli import demo
from tracker.plans.warning_signs import load_signs, signs_path


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    # CSRF stays on: the forms are sent as a browser sends them.
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def demo_clinic(app: Flask, session, templates) -> None:
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    demo.seed(session, templates, signs, now=NOW, grace_days=14)


def _escalation_pages(browser: Any, base: str) -> Iterator[tuple[str, Any]]:
    from playwright.sync_api import expect

    context, page = new_page(browser)
    try:
        page.goto(f"{base}/coordinator/login")
        page.get_by_label("Email").fill(demo.ADMIN_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/coordinator/admin/clinic")
        page.get_by_role("link", name="escalation and on-call settings").click()
        expect(page.locator("h1")).to_contain_text("Escalation and on-call")
        yield "escalation settings", page
        page.get_by_label("Page the next contact after (minutes)").fill("0")
        page.get_by_role("button", name="Save escalation settings").click()
        expect(page.get_by_text("Enter a value from 1 to 240.")).to_be_visible()
        yield "escalation settings with an error", page
        page.get_by_label("Name (a person or a role").fill("Night nurse")
        page.get_by_label("How to reach them").select_option("webhook")
        page.get_by_label("Email address, mobile number or log label").fill("(555) 201-0142")
        page.get_by_role("button", name="Add to the on-call list").click()
        expect(page.get_by_text("Night nurse is now on the on-call list.")).to_be_visible()
        expect(page.get_by_role("cell", name="+15552010142")).to_be_visible()
        yield "on-call list with a contact", page
    finally:
        context.close()


def test_the_escalation_page_passes_the_axe_accessibility_audit(browser, live_server, demo_clinic):
    audited, failures = axe_failures(_escalation_pages(browser, live_server))
    assert len(audited) == 3
    assert not failures, "\n\n".join(failures)
