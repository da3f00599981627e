"""In a real headless Chromium on a 360 px phone, with the axe audit: a paused patient's
Today page, the after-hours warning-signs result and the severe-pain guidance (SPEC
section 6: the number that answers now, and an honest word about who knows). JavaScript
is on only because the axe audit runs in the page: the pages themselves use none."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe_failures, new_page

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2}


@pytest.fixture
def after_hours(session, clinic):
    clinic.after_hours_phone = "555-0199"
    session.commit()
    return clinic


def fits_a_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways: {width}px wide"
    for link in page.locator("main a.phone, main .button").all():
        box = link.bounding_box()
        assert box["height"] >= 44, f"{link.inner_text()!r} is {box['height']:.0f}px high"


def test_a_paused_patient_sees_it_plainly_on_today_with_both_numbers(
    browser, live_server, enrolled, after_hours, session
):
    from playwright.sync_api import expect

    enrolled.plan.status = "paused"
    session.commit()

    def visit():
        context, page = new_page(browser, **PHONE)
        try:
            page.goto(f"{live_server}/p/{enrolled.link_token}")
            expect(page).to_have_url(f"{live_server}/me/")
            note = page.locator("#plan-status")
            expect(note).to_contain_text("Your recovery plan is paused.")
            expect(note).to_be_in_viewport()
            expect(note.get_by_role("link", name="555-0199")).to_have_attribute(
                "href", "tel:5550199"
            )
            expect(note.get_by_role("link", name="555-0142")).to_have_attribute(
                "href", "tel:5550142"
            )
            expect(page.get_by_role("button", name=re.compile("Mark as done"))).to_have_count(0)
            expect(page.get_by_text("Nothing to do: your plan is paused.")).to_be_visible()
            fits_a_phone(page)
            yield "today, plan paused", page
            # The checks still work while paused.
            page.get_by_role("link", name="Pain").click()
            expect(page.locator("#plan-status")).to_be_visible()
            page.get_by_label("3", exact=True).check()
            page.get_by_role("button", name="Save my pain score").click()
            expect(page.get_by_text("Your pain score of 3 is saved.")).to_be_visible()
        finally:
            context.close()

    audited, failures = axe_failures(visit())
    assert audited == ["today, plan paused"]
    assert not failures, "\n\n".join(failures)


def test_after_hours_the_result_gives_the_after_hours_number_and_an_honest_notice(
    browser, live_server, enrolled, after_hours
):
    from playwright.sync_api import expect

    def visit():
        context, page = new_page(browser, **PHONE)
        try:
            page.goto(f"{live_server}/p/{enrolled.link_token}")
            page.goto(f"{live_server}/me/warning-signs")
            for fieldset in page.locator("fieldset").all():
                legend = fieldset.locator("legend").inner_text()
                fieldset.get_by_label("Yes" if "fever" in legend else "No", exact=True).check()
            page.get_by_role("button", name="Send my answers").click()
            expect(page).to_have_url(re.compile(r"/me/warning-signs/\d+$"))
            heading = page.locator("main h1").first
            expect(heading).to_have_text("Call your care team today")
            call = page.get_by_role("link", name="Call 555-0199")
            expect(call).to_have_attribute("href", "tel:5550199")
            expect(call).to_be_in_viewport()
            expect(page.get_by_text("Our office is closed now.").first).to_be_visible()
            expect(page.locator("#who-knows")).to_have_text(
                "Our office is closed. Your care team will see this when they open on Monday "
                "at 8:00 am. If you need help before then, call our after-hours number: "
                "555-0199."
            )
            expect(page.get_by_text("has been told")).to_have_count(0)
            fits_a_phone(page)
            yield "warning signs result, after hours", page
            page.goto(f"{live_server}/me/pain")
            page.get_by_label("9", exact=True).check()
            page.get_by_role("button", name="Save my pain score").click()
            expect(page).to_have_url(re.compile(r"/me/pain/\d+/severe$"))
            expect(page.locator("main h1").first).to_have_text("Your pain is severe")
            expect(page.get_by_role("link", name="Call 555-0199")).to_be_visible()
            fits_a_phone(page)
            yield "severe pain guidance, after hours", page
        finally:
            context.close()

    audited, failures = axe_failures(visit())
    assert len(audited) == 2
    assert not failures, "\n\n".join(failures)
