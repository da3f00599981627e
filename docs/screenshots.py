"""The docs' screenshots: a patient's Today page, the care team's triage list and patient page.

    .venv/bin/python docs/screenshots.py

Builds the demo data (``tracker.cli.demo.seed``, the same data ``make demo`` shows) in a
throwaway SQLite database, serves the app on 127.0.0.1 on a free port, and photographs three
pages with Debian's chromium driven by Playwright (as ``tests/browser.py`` does; no browser
download). Writes ``docs/images/patient-today.png`` (a phone, 390 px wide),
``docs/images/care-triage.png`` and ``docs/images/care-patient.png`` (a desktop, 1280 px
wide). Nothing outside the temporary folder and those three files is touched, so it can be
run again whenever the pages change.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.app import create_app  # noqa: E402
from tracker.cli import demo  # noqa: E402
from tracker.core import migrate  # noqa: E402
from tracker.core.db import session_factory, utcnow  # noqa: E402
from tracker.core.models import Patient  # noqa: E402
from tracker.plans.links import link_url, rotate_link  # noqa: E402
from tracker.plans.warning_signs import load_signs, signs_path  # noqa: E402

IMAGES = ROOT / "docs" / "images"
CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
# A demo patient a few days after the procedure: walking has started, the check-ins and
# restrictions are all on the page.
PATIENT = "Clara Jensen"
# The care team's patient page of a kyphoplasty patient whose pain is rising: the summary, an
# open alert, and the pain chart with the clinic's threshold and the expected-course band.
CARE_PATIENT = "Jonah Brandt"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
PHONE_CLIP = {"x": 0, "y": 0, "width": 390, "height": 1100}
DESKTOP = {"viewport": {"width": 1280, "height": 860}, "device_scale_factor": 1}
DESKTOP_TALL_CLIP = {"x": 0, "y": 0, "width": 1280, "height": 1400}
MAX_BYTES = 300_000


def build_app(database_url: str):
    migrate.upgrade(database_url)
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ENV": "development",  # served over plain HTTP on loopback, like the demo
            "SESSION_COOKIE_SECURE": False,
            "BASE_URL": "http://127.0.0.1",  # set to the real port once the server listens
        }
    )
    return app


def seed(app) -> tuple[str, int]:
    """The demo's clinic, accounts and patients; returns PATIENT's personal link and
    CARE_PATIENT's id."""
    now = utcnow()
    with app.app_context():
        session = session_factory(app)()
        signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
        demo.seed(
            session,
            app.extensions["tracker.templates"],
            signs,
            now=now,
            grace_days=app.config["LINK_GRACE_DAYS"],
        )
        patient = session.query(Patient).filter_by(name=PATIENT).one()
        token = rotate_link(
            session,
            patient,
            patient.plans[-1],
            now=now,
            grace_days=app.config["LINK_GRACE_DAYS"],
        )
        care_patient = session.query(Patient).filter_by(name=CARE_PATIENT).one().id
        session.commit()
        session.close()
    return link_url(app.config["BASE_URL"], token), care_patient


def shoot(base: str, patient_link: str, care_patient: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**PHONE)
            page = context.new_page()
            page.goto(patient_link)
            page.wait_for_url(f"{base}/me/")
            path = IMAGES / "patient-today.png"
            # The top of the page, a little more than one phone screen: the day, the pain
            # prompt and the day's check-ins (the whole page is several screens long).
            page.screenshot(path=str(path), full_page=True, clip=PHONE_CLIP)
            written.append(path)
            context.close()

            context = browser.new_context(**DESKTOP)
            page = context.new_page()
            page.goto(f"{base}/coordinator/login")
            page.get_by_label("Email").fill(demo.COORDINATOR_EMAIL)
            page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/coordinator/")
            path = IMAGES / "care-triage.png"
            page.screenshot(path=str(path))  # the first screen: the most urgent rows
            written.append(path)

            page.goto(f"{base}/coordinator/patients/{care_patient}")
            path = IMAGES / "care-patient.png"
            # The summary at the top, then the pain chart: what a nurse reads first.
            page.screenshot(path=str(path), full_page=True, clip=DESKTOP_TALL_CLIP)
            written.append(path)
            context.close()
        finally:
            browser.close()
    return written


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request lines
    with tempfile.TemporaryDirectory(prefix="tracker-screenshots-") as folder:
        app = build_app(f"sqlite:///{Path(folder) / 'demo.db'}")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = base
        link, care_patient = seed(app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            written = shoot(base, link, care_patient)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            app.extensions["tracker.engine"].dispose()
    too_big = False
    for path in written:
        size = path.stat().st_size
        print(f"{path.relative_to(ROOT)}: {size // 1024} KB")
        too_big = too_big or size > MAX_BYTES
    if too_big:
        print(f"a screenshot is over {MAX_BYTES // 1000} KB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
