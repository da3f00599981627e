"""The 0-10 pain scale on a phone, in a real headless Chromium (issue 20): on a 360 x 640
screen the eleven answers fill two rows with no hole, each a full touch target, and Save
shows without scrolling; on a desk screen they are one row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import axe_failures, new_page
from tracker.core.models import PainEntry

pytestmark = pytest.mark.layout_sweep

SCALE = ".scale-options"
OPTION_LABELS = ".scale-option label"


def _open_pain_page(browser: Any, live_server: str, enrolled, viewport: dict[str, int]):
    context, page = new_page(browser, viewport=viewport)
    page.goto(f"{live_server}/p/{enrolled.link_token}")
    page.goto(f"{live_server}/me/pain")
    return context, page


def _rows(page: Any) -> list[list[tuple[str, dict[str, float]]]]:
    """The scale's answers by row (top to bottom), each (number, bounding box)."""
    rows: dict[int, list[tuple[str, dict[str, float]]]] = {}
    for label in page.locator(OPTION_LABELS).all():
        box = label.bounding_box()
        number = label.locator(".num").inner_text()
        rows.setdefault(round(box["y"]), []).append((number, box))
    return [sorted(rows[y], key=lambda item: item[1]["x"]) for y in sorted(rows)]


def test_on_a_phone_the_scale_fills_two_rows_and_save_is_on_the_first_screen(
    browser, live_server, enrolled, session
):
    viewport = {"width": 360, "height": 640}
    context, page = _open_pain_page(browser, live_server, enrolled, viewport)
    try:
        rows = _rows(page)
        assert [[n for n, _ in row] for row in rows] == [
            ["0", "1", "2", "3", "4", "5"],
            ["6", "7", "8", "9", "10"],
        ]
        area = page.locator(SCALE).bounding_box()
        for row in rows:
            # No hole: each row runs from the scale's left edge to its right edge.
            assert abs(row[0][1]["x"] - area["x"]) <= 1
            assert abs(row[-1][1]["x"] + row[-1][1]["width"] - (area["x"] + area["width"])) <= 1
            # One height per row; every answer a full touch target (44 x 44 px or more).
            assert len({round(box["height"]) for _, box in row}) == 1
            assert all(box["width"] >= 44 and box["height"] >= 44 for _, box in row)
        assert page.evaluate("window.scrollY") == 0
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        save = page.get_by_role("button", name="Save my pain score")
        box = save.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
        # The words at the ends of the scale are still read out with their numbers.
        page.get_by_label("10 Worst pain you can imagine").check()
        page.get_by_label("With activity").check()
        save.click()
        page.get_by_text("Thank you. Your pain score of 10 is saved.").wait_for()
        assert session.scalar(select(PainEntry.score)) == 10
    finally:
        context.close()


def test_on_a_desk_screen_the_scale_is_one_row(browser, live_server, enrolled):
    context, page = _open_pain_page(browser, live_server, enrolled, {"width": 1280, "height": 800})
    try:
        rows = _rows(page)
        assert [[n for n, _ in row] for row in rows] == [[str(n) for n in range(11)]]
        area = page.locator(SCALE).bounding_box()
        assert abs(rows[0][-1][1]["x"] + rows[0][-1][1]["width"] - (area["x"] + area["width"])) <= 1
        page.get_by_label("0 No pain").wait_for()  # the end words show beside their numbers
        assert page.locator(".scale-option .anchor").first.is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_pain_page_passes_axe(browser, live_server, enrolled, width):
    def pages():
        context, page = _open_pain_page(
            browser, live_server, enrolled, {"width": width, "height": 640}
        )
        try:
            yield "log your pain", page
            page.get_by_role("button", name="Save my pain score").click()
            page.get_by_role("alert").wait_for()
            yield "log your pain with an error", page
        finally:
            context.close()

    audited, failures = axe_failures(pages())
    assert len(audited) == 2
    assert not failures, "\n\n".join(failures)
