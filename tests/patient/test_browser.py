"""End to end in a real headless Chromium: a patient from the link to a red flag, an
accessibility audit of every patient page (axe-core), and a 360 px phone screen.

The browser fixtures live in ``tests/browser.py`` (Debian's chromium, no download).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.browser import axe_failures, new_page
from tests.conftest import NOW
from tests.patient.conftest import count
from tracker.alerts import rules as alerts
from tracker.core.models import Alert, CheckOff, PainEntry, SymptomReport


def test_a_patient_goes_from_the_link_to_a_red_flag_without_javascript(
    browser, live_server, enrolled, session
):
    from playwright.sync_api import expect

    context, page = new_page(
        browser, java_script_enabled=False, viewport={"width": 360, "height": 740}
    )
    try:
        response = page.goto(f"{live_server}/p/{enrolled.link_token}")
        assert response.status == 200
        expect(page).to_have_url(f"{live_server}/me/")
        expect(page.locator("h1")).to_have_text("Day 1 of your recovery")
        expect(page.get_by_text("No heavy lifting — 43 days left")).to_be_visible()
        prompt = page.get_by_text("You have not logged your pain score today.")
        expect(prompt).to_be_visible()

        # Check off today's task (day 1 is bed rest: the ice, no walk yet); the page says
        # so; undo and redo leave one check-off.
        task = "Ice on the needle site"
        page.get_by_role("button", name=f"Mark as done: {task}").click()
        expect(page.get_by_text(f"Done: {task}.")).to_be_visible()
        page.get_by_role("button", name=f"Not done yet — undo: {task}").click()
        expect(page.get_by_text(f"Marked as not done: {task}.")).to_be_visible()
        page.get_by_role("button", name=f"Mark as done: {task}").click()
        expect(page.get_by_text(f"Done: {task}.")).to_be_visible()
        assert count(session, CheckOff) == 1

        # Log pain: first a mistake (no score), then a real one.
        page.get_by_role("link", name="Log your pain now").click()
        expect(page).to_have_title("Log your pain — Recovery tracker")
        page.get_by_role("button", name="Save my pain score").click()
        expect(page.get_by_role("alert")).to_contain_text("Your pain score was not saved.")
        assert count(session, PainEntry) == 0
        page.get_by_label("7", exact=True).check()
        page.get_by_label("With activity").check()
        page.get_by_label("Anything you want your care team to know? (optional)").fill(
            "Sore after the walk"
        )
        page.get_by_role("button", name="Save my pain score").click()
        expect(page.get_by_text("Thank you. Your pain score of 7 is saved.")).to_be_visible()
        # 7 is severe: what to do now and whom to call, not only "saved".
        entry = session.scalar(select(PainEntry))
        expect(page).to_have_url(f"{live_server}/me/pain/{entry.id}/severe")
        expect(page.locator("main h1")).to_have_text("Your pain is severe")
        page.get_by_role("link", name="Back to today").click()
        expect(page).to_have_url(f"{live_server}/me/")
        expect(prompt).to_have_count(0)
        assert (entry.score, entry.context, entry.note) == (7, "activity", "Sore after the walk")

        # The warning-signs check, with a 911 red flag.
        page.get_by_role("link", name="Warning signs").first.click()
        expect(page).to_have_title("Warning signs check — Recovery tracker")
        for fieldset in page.locator("fieldset").all():
            legend = fieldset.locator("legend").inner_text()
            answer = "Yes" if legend == "Do you have chest pain right now?" else "No"
            fieldset.get_by_label(answer, exact=True).check()
        page.get_by_role("button", name="Send my answers").click()
        expect(page).to_have_title("Call 911 now — Recovery tracker")
        first_heading = page.locator("main h1").first
        expect(first_heading).to_have_text("Call 911 now")
        expect(first_heading).to_be_in_viewport()
        expect(page.get_by_role("link", name="Call 911").first).to_have_attribute("href", "tel:911")
        report = session.scalar(select(SymptomReport))
        assert report.severity == "call_911"
        raised = {(a.rule, a.urgency) for a in session.scalars(select(Alert))}
        # The 7 is severe pain; the 911 answer is a critical red flag.
        assert raised == {(alerts.RED_FLAG, "critical"), (alerts.SEVERE_PAIN, "high")}

        page.get_by_role("link", name="Progress").click()
        # Until the stylesheet is in, all three drawings of the chart (one per screen size)
        # are shown: wait for it, as a browser does before it first paints.
        page.wait_for_load_state("load")
        expect(
            page.get_by_role("img", name="Your highest pain score each day")
        ).to_be_visible()
    finally:
        context.close()


def _pages_to_audit(browser, live_server, enrolled):
    """Visit every patient page state once; yields (name, page) while each is showing."""
    from playwright.sync_api import expect

    context, page = new_page(browser)
    try:
        page.goto(f"{live_server}/p/not-a-real-token-{'x' * 30}")
        yield "link not working", page
        page.goto(f"{live_server}/me/")
        yield "signed out", page
        page.goto(f"{live_server}/p/{enrolled.link_token}")
        yield "today", page
        page.get_by_role("button", name="Mark as done: Ice on the needle site").click()
        expect(page.get_by_text("Done: Ice on the needle site.")).to_be_visible()
        yield "today, task done", page
        page.goto(f"{live_server}/me/pain")
        yield "pain log", page
        page.get_by_role("button", name="Save my pain score").click()
        expect(page.get_by_role("alert")).to_be_visible()
        yield "pain log with an error", page
        page.get_by_label("3", exact=True).check()
        page.get_by_role("button", name="Save my pain score").click()
        expect(page.get_by_text("Your pain score of 3 is saved.")).to_be_visible()
        page.goto(f"{live_server}/me/pain")
        yield "pain log with today's scores", page
        page.get_by_role("link", name=re.compile(r"^Fix a mistake")).first.click()
        expect(page.get_by_role("heading", name="Fix a pain score")).to_be_visible()
        yield "fix a pain score", page
        page.get_by_label("2", exact=True).check()
        page.get_by_role("button", name="Save the correction").click()
        expect(page.get_by_text("Corrected. Your pain score is now 2")).to_be_visible()
        page.goto(f"{live_server}/me/warning-signs")
        yield "warning signs", page
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("alert")).to_be_visible()
        yield "warning signs with errors", page
        for answer in ("No", "Yes"):
            page.goto(f"{live_server}/me/warning-signs")
            for fieldset in page.locator("fieldset").all():
                legend = fieldset.locator("legend").inner_text()
                yes = (answer == "Yes" and "fever" in legend) or (
                    answer == "Yes" and "short of breath" in legend
                )
                fieldset.get_by_label("Yes" if yes else "No", exact=True).check()
            page.get_by_role("button", name="Send my answers").click()
            expect(page).to_have_url(re.compile(r"/me/warning-signs/\d+$"))
            yield f"warning signs result ({answer})", page
        page.get_by_role("link", name=re.compile("Change my answers")).click()
        expect(page.get_by_role("heading", name="Change your answers")).to_be_visible()
        yield "change your answers", page
        page.goto(f"{live_server}/me/progress")
        yield "progress", page
    finally:
        context.close()


def test_every_patient_page_passes_the_axe_accessibility_audit(browser, live_server, enrolled):
    audited, failures = axe_failures(_pages_to_audit(browser, live_server, enrolled))
    assert not failures, "\n\n".join(failures)
    assert len(audited) == 14


def test_the_audit_does_find_violations(browser):
    # Guards the audit itself: a page with known problems must fail it.
    from axe_playwright_python.sync_playwright import Axe

    context, page = new_page(browser)
    try:
        page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
        ids = {v["id"] for v in Axe().run(page).response["violations"]}
        assert {"image-alt", "label", "html-has-lang"} <= ids
    finally:
        context.close()


def test_patient_pages_fit_a_360_px_phone_with_large_targets(
    browser, live_server, enroll_patient, session
):
    # Late in recovery with a long history: the widest the pages get.
    enrolled = enroll_patient(procedure_date="2026-10-12", name="Maximilian Wolfeschlegel")
    for n in range(41):
        day = date(2026, 10, 12) + timedelta(days=n)
        for score in (10, 7):
            session.add(
                PainEntry(plan_id=enrolled.plan.id, score=score, local_day=day, recorded_at=NOW)
            )
    session.add(
        SymptomReport(
            plan_id=enrolled.plan.id,
            local_day=date(2026, 11, 21),
            recorded_at=NOW,
            answers={"chest_pain": True, "fever": True},
            severity="call_911",
        )
    )
    session.commit()
    report_id = session.scalar(select(SymptomReport.id))
    context, page = new_page(browser, viewport={"width": 360, "height": 740}, device_scale_factor=2)
    try:
        page.goto(f"{live_server}/p/{enrolled.link_token}")
        for path in (
            "/me/",
            "/me/pain",
            "/me/warning-signs",
            "/me/progress",
            f"/me/warning-signs/{report_id}",
        ):
            page.goto(f"{live_server}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} scrolls sideways: {width}px wide"
            font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
            assert font >= 16, f"{path} body text is {font}px"
            targets = page.locator(
                "main button, main .button, .patient-nav a, footer button, "
                ".scale-option label, .choice label, main .fix-link"
            )
            assert targets.count() > 0
            for i in range(targets.count()):
                target = targets.nth(i)
                box = target.bounding_box()
                name = target.inner_text().strip()[:40]
                assert box["height"] >= 44 and box["width"] >= 44, (
                    f"{path}: {name!r} is {box['width']:.0f}x{box['height']:.0f}px"
                )
    finally:
        context.close()
