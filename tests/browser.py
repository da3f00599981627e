"""A real headless Chromium for end-to-end tests, shared by the patient and care team suites.

Debian's ``chromium`` is driven by Playwright with its executable path set: no browser
download. Outside CI the tests skip when it is missing; in CI they fail loudly. Loaded as a
plugin by ``tests/conftest.py``, so the ``browser`` and ``live_server`` fixtures are
available everywhere (``live_server`` serves whichever ``app`` fixture the test uses).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as exc:
        problems.append(f"{exc.name} is not installed (pip install -e '.[test]')")
    if problems:
        message = "browser tests need " + "; ".join(problems)
        if IN_CI:
            pytest.fail(f"{message} (CI requires the browser tests)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by a real HTTP server on 127.0.0.1 and a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def new_page(browser, **context_options: Any):
    """A fresh browser context (no cookies) and its page; close the context when done."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def axe_failures(pages: Iterator[tuple[str, Any]]) -> tuple[list[str], list[str]]:
    """Run axe-core on each (name, page) while it shows; returns (audited, failure reports)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    audited, failures = [], []
    for name, page in pages:
        results = axe.run(page)
        audited.append(name)
        if results.violations_count:
            failures.append(f"{name} ({page.url}):\n{results.generate_report()}")
    return audited, failures
