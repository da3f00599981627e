"""The opioid question in a real headless Chromium: a 360 px phone, one tap for an answer (a
plain form POST), large targets, and no axe-core violations before or after answering."""

from __future__ import annotations

from tests.browser import axe_failures, new_page
from tests.patient.conftest import count
from tracker.core.models import OpioidCheck


def test_one_tap_answers_the_question_on_a_phone(
    browser, live_server, enrolled, session
):
    from playwright.sync_api import expect

    context, page = new_page(
        # JavaScript on only for axe-core: the page has none, and the answer is a plain form POST.
        browser, java_script_enabled=True, viewport={"width": 360, "height": 740}
    )
    try:
        page.goto(f"{live_server}/p/{enrolled.link_token}")
        expect(page).to_have_url(f"{live_server}/me/")
        question = page.get_by_role("group", name="Are you taking opioid pain medicine today?")
        expect(question).to_be_visible()
        yes = page.get_by_role("button", name="Yes, I am taking it")
        no = page.get_by_role("button", name="No, I am not")
        for button in (yes, no):
            box = button.bounding_box()
            assert box is not None and box["height"] >= 48 and box["width"] >= 200, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        audited, failures = axe_failures([("today, not answered", page)])

        yes.click()
        expect(page.get_by_text("You said yes today.")).to_be_visible()
        expect(
            page.get_by_text("No driving on opioid pain medicine — you said you take opioid")
        ).to_be_visible()
        expect(page.get_by_role("button", name="Yes, I am taking it")).to_have_attribute(
            "aria-pressed", "true"
        )
        audited2, failures2 = axe_failures([("today, answered", page)])

        page.get_by_role("button", name="No, I am not").click()
        expect(page.get_by_text("You said no today.")).to_be_visible()
        assert count(session, OpioidCheck) == 2
        assert audited + audited2 == ["today, not answered", "today, answered"]
        assert failures + failures2 == [], "\n\n".join(failures + failures2)
    finally:
        context.close()
