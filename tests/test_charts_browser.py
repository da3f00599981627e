"""The two pain charts in a real headless Chromium: the patient's progress page and the care
team's patient page, at a 360 px phone and a 1280 px desk screen.

What is measured: one drawing shows at a time and fills its container; its smallest type
renders at 14 px or more; the legend, the threshold label and the table are on the page; the
care team's chart has the expected course after kyphoplasty shaded behind its lines (a legend
entry and two table columns), the patient's has none of it; axe finds nothing in the chart
(the whole progress page; the chart's section of the care team's page, whose other sections
tests/coordinator/test_browser.py audits). The browser fixtures are in tests/browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.browser import axe_failures, new_page
from tests.conftest import NOW, _empty_tables, make_test_app
from tracker.care.passwords import hash_password
from tracker.core.models import PainEntry, User

pytestmark = pytest.mark.layout_sweep

PASSWORD = "correct horse battery staple"
PROCEDURE = date(2026, 11, 1)  # today (2026-11-21 in New York) is day 20
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}

# For each drawing the page shows: its size, its width and its container's, and the smallest
# type on it in CSS pixels (its font size in SVG units times the drawing's scale).
SHOWN_DRAWINGS = """() => [...document.querySelectorAll('svg.pain-chart')]
  .filter(svg => svg.getBoundingClientRect().width > 0)
  .map(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll('text')]
      .map(t => parseFloat(getComputedStyle(t).fontSize));
    return {
      size: svg.dataset.size,
      width: svg.getBoundingClientRect().width,
      frame: svg.parentElement.getBoundingClientRect().width,
      smallest_px: Math.min(...sizes) * scale,
    };
  })"""


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def patient(enroll_patient, session):
    enrolled = enroll_patient(procedure_date=PROCEDURE.isoformat(), name="Chart Reader")
    for n in range(21):
        if n in (5, 6, 12):  # days without a score: gaps in the line
            continue
        score = max(9 - n // 3, 2)
        session.add(
            PainEntry(
                plan_id=enrolled.plan.id,
                score=score,
                local_day=PROCEDURE + timedelta(days=n),
                recorded_at=NOW,
            )
        )
    session.commit()
    return enrolled


def _check_drawing(page: Any, expected_size: str) -> None:
    (drawing,) = page.evaluate(SHOWN_DRAWINGS)  # exactly one drawing shows
    assert drawing["size"] == expected_size, drawing
    assert drawing["width"] == pytest.approx(drawing["frame"], abs=1), drawing  # full width
    assert drawing["smallest_px"] >= 14, drawing


def _audit(page: Any, name: str, context: str | None = None) -> list[str]:
    if context is None:
        return axe_failures(iter([(name, page)]))[1]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [f"{name}:\n{results.generate_report()}"] if results.violations_count else []


def test_the_patients_chart_reads_on_a_phone_and_a_desk(browser, live_server, patient):
    from playwright.sync_api import expect

    failures = []
    for viewport, size in ((PHONE, "small"), (DESK, "medium")):
        context, page = new_page(browser, viewport=viewport)
        try:
            page.goto(f"{live_server}/p/{patient.link_token}")
            page.goto(f"{live_server}/me/progress")
            _check_drawing(page, size)
            # 5 on day 14, 3 today (day 20): the whole last week.
            expect(
                page.get_by_text("Your pain has gone down from 5 to 3 over the last week.")
            ).to_be_visible()
            legend = page.locator(".chart-legend li")
            expect(legend).to_have_text(["Your highest pain score each day", "Today (day 20)"])
            expect(page.get_by_role("img", name="Your highest pain score each day")).to_have_count(
                1
            )
            expect(page.get_by_role("table")).to_contain_text("Day 20")
            # The expected course is the care team's only.
            expect(page.locator("polygon")).to_have_count(0)
            assert "expected" not in page.locator("main").inner_text().lower()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"the page scrolls sideways: {width}px"
            failures += _audit(page, f"progress at {viewport['width']} px")
        finally:
            context.close()
    assert not failures, "\n\n".join(failures)


def test_the_care_teams_chart_reads_on_a_desk_and_a_phone(browser, live_server, patient, session):
    from playwright.sync_api import expect

    session.add(
        User(
            clinic_id=patient.patient.clinic_id,
            email="nurse@example.org",
            name="Casey Nurse",
            password_hash=hash_password(PASSWORD),
            role="coordinator",
            created_at=NOW,
        )
    )
    session.commit()
    failures = []
    for viewport, size in ((DESK, "large"), (PHONE, "small")):
        context, page = new_page(browser, viewport=viewport)
        try:
            page.goto(f"{live_server}/coordinator/login")
            page.get_by_label("Email").fill("nurse@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("h1")).to_contain_text("Triage")
            page.goto(f"{live_server}/coordinator/patients/{patient.patient.id}")
            _check_drawing(page, size)
            chart = page.locator("#pain")
            expect(chart.locator(".chart-legend")).to_contain_text(
                "Severe pain threshold of the clinic: 7 or more"
            )
            expect(chart.locator(".chart-legend")).to_contain_text("Today (day 20)")
            threshold = chart.locator(f'svg[data-size="{size}"] .threshold-label')
            expect(threshold).to_have_text("Severe: 7+")
            expect(threshold).to_be_visible()
            # The expected course after kyphoplasty, shaded behind the lines and explained.
            band = chart.locator(f'svg[data-size="{size}"] polygon.range')
            expect(band).to_be_visible()
            assert band.evaluate("p => p.previousElementSibling.tagName") == "title"
            fill = band.evaluate("p => getComputedStyle(p).fill")
            assert fill not in ("none", "rgb(0, 0, 0)"), fill  # site.css shades it lightly
            expect(chart.locator(".chart-legend")).to_contain_text(
                "Expected range after kyphoplasty"
            )
            expect(chart.locator(".chart-summary")).to_contain_text(
                "Shaded: Expected range after kyphoplasty"
            )
            chart.get_by_text("Pain scores as a table").click()
            expect(chart.get_by_role("table")).to_be_visible()
            expect(chart.get_by_role("columnheader", name="Expected low")).to_be_visible()
            expect(chart.get_by_role("columnheader", name="Expected high")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"the open table scrolls sideways: {width}px"
            failures += _audit(page, f"care team chart at {viewport['width']} px", "#pain")
        finally:
            context.close()
    assert not failures, "\n\n".join(failures)
