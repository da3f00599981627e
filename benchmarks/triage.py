"""Target 2: the coordinator's triage page ÷ its floor, "same page, its data kept".

One clinic of 500 active patients in a database of 10,000 patients and 1,000,000 pain
scores (full size), with open alerts. A coordinator signs in (CSRF, argon2) and wrk loads
the triage page (page 1: alerts first, each row with its pain sparkline and adherence).

The limit is ``benchmarks/triage_floor.py``: the tracker with one more route that does the
view's request work (sign-in check, clinic, audit row committed, the same template) but
computes the page's data once and keeps it. It is served at the same time as the tracker,
on the same database with the same settings, and each round loads the tracker (``/livez``,
then the page), then the floor (the same), so each round's ratio compares two loads a few
seconds apart. The full size measures three rounds and reports the round with the median
ratio (every round's ratio is in the details); target ≥ 0.6 on both databases. The page
itself keeps nothing: every view reads what was written up to that moment.

Also reported:
- SQL statements per page, counted in-process (SQLAlchemy's ``before_cursor_execute``) for
  the 500-patient clinic and for a 50-patient clinic: the same number means the page does
  not issue a query per patient;
- the server-side p95 (gunicorn's access log, ``%(D)s``: from request read to response
  written) under an open-loop load paced at half the measured maximum rate;
- where a page's time goes, in process (``in_process_ms``): its CPU, the time in its SQL
  statements, the CPU of rendering its template, and the CPU of ``/livez``.
"""

from __future__ import annotations

import http.client
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import event

from benchmarks import bulk, seed
from benchmarks.harness import (
    BENCH_SECRET,
    Round,
    access_log_lines,
    gunicorn,
    load_rounds,
    paced,
    percentile,
    sql_and_render_time,
)
from benchmarks.report import Figure, median_by, ratio
from tracker.app import create_app
from tracker.core.db import make_engine

PASSWORD = seed.PASSWORD
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Size:
    clinic_patients: int  # the measured clinic
    other_clinics: int  # more clinics of the same size make up the database
    small_clinic: int  # patients of the clinic used to show the query count is constant
    pain_per_patient: int
    seconds: int
    connections: int
    workers: int
    rounds: int  # of /livez then the page; the round with the median ratio is reported


SIZES = {
    "smoke": Size(20, 1, 5, 4, 1, 2, 1, 1),
    "quick": Size(100, 2, 20, 20, 1, 8, 2, 1),
    # 500 + 19 x 500 = 10,000 patients (the small clinic adds 50); x 100 = 1,000,000 scores.
    "full": Size(500, 19, 50, 100, 4, 16, 4, 3),
}


def _seed(engine, size: Size, now: datetime) -> tuple[str, str]:
    """Clinics, patients, pain scores, alerts and two coordinators; returns their emails."""
    clinics = [(1, size.clinic_patients)]
    clinics += [(2 + n, size.clinic_patients) for n in range(size.other_clinics)]
    small_id = len(clinics) + 1
    clinics.append((small_id, size.small_clinic))
    today = now.date()
    first = 1
    for clinic_id, patients in clinics:
        seed.clinic(engine, clinic_id, now)
        seed.patients(
            engine,
            seed.Cohort(
                first_id=first,
                count=patients,
                clinic_id=clinic_id,
                procedure_date=lambda i: today - timedelta(days=1 + i % 41),
            ),
            now,
        )
        first += patients
    total = first - 1
    seed.pain_entries(engine, range(1, total + 1), size.pain_per_patient, now)
    # About one patient in eight of each clinic has an unresolved alert.
    rules = (("severe_pain", "high"), ("red_flag", "urgent"), ("missed_checkin", "normal"))
    bulk.load(
        engine,
        "alert",
        (
            "id", "clinic_id", "patient_id", "plan_id", "rule", "urgency", "status", "summary",
            "detail", "raised_at",
        ),
        (
            (
                n, clinic_id, i, i, rules[i % 3][0], rules[i % 3][1],
                "open" if i % 2 else "acknowledged", "Benchmark alert", "{}",
                now - timedelta(hours=i % 48),
            )
            for n, (i, clinic_id) in enumerate(_patient_clinics(clinics), start=1)
            if i % 8 == 0
        ),
    )  # fmt: skip
    emails = ("coordinator@bench.example", "small@bench.example")
    seed.coordinators(engine, [(1, 1, emails[0]), (2, small_id, emails[1])], now)
    seed.finish(engine)
    bulk.finish(engine, ("alert", "user_account"))
    return emails


def _patient_clinics(clinics: list[tuple[int, int]]):
    first = 1
    for clinic_id, patients in clinics:
        for i in range(first, first + patients):
            yield i, clinic_id
        first += patients


def _cookie(response: http.client.HTTPResponse) -> str | None:
    header = response.getheader("Set-Cookie")
    return header.split(";", 1)[0] if header else None


def sign_in(base: str, email: str) -> str:
    """Sign in through the login form like a browser; returns the session cookie."""
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        conn.request("GET", "/coordinator/login")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = _cookie(response)
        token = _CSRF.search(html)
        if response.status != 200 or cookie is None or token is None:
            raise RuntimeError(f"login page: HTTP {response.status}")
        body = urlencode({"csrf_token": token.group(1), "email": email, "password": PASSWORD})
        conn.request(
            "POST",
            "/coordinator/login",
            body=body,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        cookie = _cookie(response)
        if response.status != 302 or cookie is None:
            raise RuntimeError(f"sign-in: HTTP {response.status}")
        return cookie
    finally:
        conn.close()


def count_queries(
    database_url: str, email: str, *, costs: bool = False
) -> tuple[int, int, dict[str, float]]:
    """(SQL statements, HTTP status, costs) of the triage page, in-process, signed in as
    ``email``. ``costs``: milliseconds per request over 20 requests: CPU of the page,
    time in its SQL statements (the database's work as the app waits for it), and CPU of
    ``/livez`` for comparison; they say where a page's time goes."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": BENCH_SECRET,
            "BASE_URL": "http://127.0.0.1:5000",
            "ENV": "development",
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    response = client.post("/coordinator/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"in-process sign-in: HTTP {response.status_code}")
    client.get("/coordinator/")  # warm: first-use loads (templates, metadata) are not per page
    statements: list[str] = []
    engine = app.extensions["tracker.engine"]

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    status = client.get("/coordinator/").status_code
    event.remove(engine, "before_cursor_execute", count)
    measured = _in_process_costs(app, client, engine) if costs and status == 200 else {}
    engine.dispose()
    return len(statements), status, measured


def _in_process_costs(app, client, engine, requests: int = 20) -> dict[str, float]:
    def cpu_ms(path: str) -> float:
        started_cpu = time.process_time()
        for _ in range(requests):
            client.get(path)
        return round((time.process_time() - started_cpu) * 1000 / requests, 2)

    cpu_ms("/livez")  # warm
    livez = cpu_ms("/livez")
    with sql_and_render_time(app, engine, render_clock=time.process_time) as spent:
        page = cpu_ms("/coordinator/")
    return {
        "page_cpu_ms": page,
        "page_sql_ms": round(spent["sql"] * 1000 / requests, 2),
        "page_render_cpu_ms": round(spent["render"] * 1000 / requests, 2),
        "livez_cpu_ms": livez,
    }


def _clean(rounds: list[Round]) -> bool:
    return all(r.load.errors == 0 and r.load.status_errors == 0 for r in rounds)


TARGET = 0.6


def load_page(
    base: str, path: str, cookie: str, size: Size, *, rounds: int | None = None
) -> list[Round]:
    """``rounds`` (``size.rounds``) rounds of /livez then ``path``, signed in with ``cookie``."""
    return load_rounds(
        base,
        path,
        rounds=size.rounds if rounds is None else rounds,
        connections=size.connections,
        seconds=size.seconds,
        lua=f'wrk.headers["Cookie"] = "{cookie}"\n',
    )


def floor_server(database_url: str, size: Size, *, access_log: Path):  # type: ignore[no-untyped-def]
    """``benchmarks/triage_floor.py`` (the triage view with the page's data computed once)
    on the same database and server settings as the real page; yields its base URL."""
    return gunicorn(
        database_url,
        workers=size.workers,
        access_log=access_log,
        app="benchmarks.triage_floor:app",
    )


@dataclass(frozen=True)
class Pair:
    """One round of the real page, then one of its floor."""

    page: Round
    floor: Round

    @property
    def ratio(self) -> float:
        return ratio(self.page.load.rps, self.floor.load.rps)


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    email, small_email = _seed(engine, size, now)
    engine.dispose()
    queries, status, costs = count_queries(database_url, email, costs=True)
    small_queries, small_status, _ = count_queries(database_url, small_email)
    if (status, small_status) != (200, 200):
        raise RuntimeError(f"triage page answered {status} / {small_status}")

    log_dir = Path(tempfile.mkdtemp(prefix="tracker-bench-log-"))
    access_log = log_dir / "access.log"
    with (
        gunicorn(database_url, workers=size.workers, access_log=access_log) as base,
        floor_server(database_url, size, access_log=log_dir / "floor.log") as floor_base,
    ):
        cookie, floor_cookie = sign_in(base, email), sign_in(floor_base, email)
        pairs = []
        for _ in range(size.rounds):
            (page_round,) = load_page(base, "/coordinator/", cookie, size, rounds=1)
            (floor_round,) = load_page(floor_base, "/floor/triage", floor_cookie, size, rounds=1)
            pairs.append(Pair(page=page_round, floor=floor_round))
        # The round whose ratio is the median (single loads differ by a fifth and more).
        pair = median_by(pairs, lambda p: p.ratio)
        bare, load = pair.page.bare, pair.page.load
        logged_before = len(access_log_lines(access_log))
        half = paced(
            base + "/coordinator/",
            rate=max(1.0, load.rps / 2),
            seconds=size.seconds,
            headers={"Cookie": cookie},
        )
    lines = access_log_lines(access_log)[logged_before:]
    rounds = [p.page for p in pairs]
    floor = [p.floor for p in pairs]
    shutil.rmtree(log_dir, ignore_errors=True)
    server_ms = [micros / 1000 for method, path, _, micros in lines if path == "/coordinator/"]
    server_p95 = percentile(server_ms, 95)
    clean = half.errors == 0 and _clean(rounds)
    floor_median = pair.floor
    details = {
        "clinic_patients": size.clinic_patients,
        "database_patients": size.clinic_patients * (1 + size.other_clinics) + size.small_clinic,
        "pain_entries": (size.clinic_patients * (1 + size.other_clinics) + size.small_clinic)
        * size.pain_per_patient,
        "workers": size.workers,
        "connections": size.connections,
        "rounds": size.rounds,
        "ratio_of_each_round": [p.ratio for p in pairs],
        "page_vs_livez": ratio(load.rps, bare.rps),
        "page_vs_livez_of_each_round": [r.ratio for r in rounds],
        "load": load.as_dict(),
        "bare": bare.as_dict(),
        "paced_half_max": half.as_dict(),
        "server_ms_p50_at_half_max": percentile(server_ms, 50),
        "queries_per_page": queries,
        "queries_per_page_small_clinic": small_queries,
        "in_process_ms": costs,
        "zero_errors": clean,
        "floor_load": floor_median.load.as_dict(),
    }
    return [
        Figure(
            benchmark="triage",
            backend=backend,
            name="triage page req/s",
            value=load.rps,
            unit="req/s",
            limit_name="floor page req/s",
            limit=floor_median.load.rps,
            ratio=pair.ratio if clean and _clean(floor) else 0.0,
            target=TARGET,
            details=details,
        ),
        # No target: the best this page allows on this stack (benchmarks/triage_floor.py).
        Figure(
            benchmark="triage",
            backend=backend,
            name="floor: same page, its data kept",
            value=floor_median.load.rps,
            unit="req/s",
            limit_name="its /livez req/s",
            limit=floor_median.bare.rps,
            ratio=floor_median.ratio if _clean(floor) else 0.0,
            details={
                "ratio_of_each_round": [r.ratio for r in floor],
                "load": floor_median.load.as_dict(),
                "bare": floor_median.bare.as_dict(),
            },
        ),
        Figure(
            benchmark="triage",
            backend=backend,
            name=f"SQL statements per page ({size.clinic_patients} vs {size.small_clinic} pts)",
            value=queries,
            unit="stmts",
            limit_name=f"{size.small_clinic}-patient clinic",
            limit=small_queries,
            ratio=ratio(queries, small_queries),
            target=1.0,
            higher_is_better=False,
            details={"large": queries, "small": small_queries},
        ),
        Figure(
            benchmark="triage",
            backend=backend,
            name=f"server p95 at half max ({half.rate:.0f} req/s)",
            value=server_p95,
            unit="ms",
            limit_name="200 ms",
            limit=200.0,
            ratio=ratio(server_p95, 200.0),
            target=1.0,
            higher_is_better=False,
            details={"paced": half.as_dict(), "server_ms_p50": percentile(server_ms, 50)},
        ),
    ]
