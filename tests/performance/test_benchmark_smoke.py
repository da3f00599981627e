"""The benchmark suite itself runs (one benchmark at a tiny size; `make bench` runs them all)."""

from __future__ import annotations

import json
import smtplib

import pytest

from benchmarks.__main__ import main
from benchmarks.delivery import receiver


def test_it_runs_a_benchmark_and_writes_its_report(backend, tmp_path, capsys) -> None:
    # The planning benchmark empties the outbox between rounds on each database its own way.
    from tests.conftest import _require_postgres

    if backend == "postgresql":
        _require_postgres()
    report = tmp_path / "report.json"

    status = main(
        ["--size", "smoke", "--only", "planning", "--backends", backend, "--json", str(report)]
    )

    figures = json.loads(report.read_text())["figures"]
    assert status == 0
    assert [f["name"] for f in figures] == ["plan step rows/s", "second run (already planned)"]
    assert {f["backend"] for f in figures} == {backend}
    assert all(f["ratio"] > 0 and f["limit"] > 0 for f in figures)
    assert "plan step rows/s" in capsys.readouterr().out


def test_the_delivery_benchmark_counts_every_message_its_receivers_took(tmp_path) -> None:
    report = tmp_path / "report.json"

    status = main(
        ["--size", "smoke", "--only", "delivery", "--backends", "sqlite", "--json", str(report)]
    )

    rates = [f for f in json.loads(report.read_text())["figures"] if f["name"].endswith("/s")]
    assert status == 0 and len(rates) == 2
    assert all(f["details"]["received"] == f["details"]["sent"] == 20 for f in rates)
    assert all(len(f["details"]["ratio_of_each_round"]) == 1 for f in rates)
    assert all(f["details"]["receiver_connections"] == 1 for f in rates)


def test_the_scale_benchmark_ticks_each_size_in_several_processes_on_new_minutes(
    tmp_path,
) -> None:
    from datetime import timedelta

    from benchmarks.scale import NOW

    report = tmp_path / "report.json"

    status = main(
        ["--size", "smoke", "--only", "scale", "--backends", "sqlite", "--json", str(report)]
    )

    speed, memory = json.loads(report.read_text())["figures"]
    ticks = speed["details"]["ticks"]
    assert status == 0 and [t["patients"] for t in ticks] == [100, 200]
    for tick in ticks:
        each = tick["seconds_of_each_process"]
        assert len(each) == 2 and tick["seconds"] == sorted(each)[len(each) // 2]
        # The second process ticks the five minutes after the first's, not the same ones
        # again (those were already planned and sent: it would have had nothing to do).
        assert tick["first_minute_of_each_process"] == [
            NOW.isoformat(),
            (NOW + timedelta(minutes=5)).isoformat(),
        ]
        assert [len(seconds) for seconds in tick["all_seconds"]] == [5, 5]
    assert memory["value"] == ticks[-1]["peak_rss_mb"] > 0
    # Only growth counts: the largest size against the cheapest of the smaller ones.
    assert speed["value"] == ticks[-1]["us_per_patient"]
    assert speed["limit"] == min(t["us_per_patient"] for t in ticks[:-1])
    assert speed["ratio"] == round(speed["value"] / speed["limit"], 3)


def test_the_scale_sizes_reach_a_million_patients_on_postgresql_only() -> None:
    from benchmarks.scale import SIZES

    full = SIZES["full"]
    assert full.on("postgresql")[-1] == 1_000_000
    assert full.on("sqlite")[-1] == 300_000
    assert full.on("sqlite") == full.on("postgresql")[:-1]
    assert all(len(size.on("sqlite")) >= 2 for size in SIZES.values())


@pytest.mark.postgres_only
def test_patients_copied_by_the_server_are_the_ones_the_driver_would_have_sent(backend) -> None:
    # seed.patients(..., period=...) sends one period of patients and has PostgreSQL copy
    # them: the rows must be exactly those of sending every patient.
    from sqlalchemy import text

    from benchmarks import seed
    from benchmarks.databases import throwaway_database
    from benchmarks.scale import NOW, PERIOD, spread_time
    from tests.conftest import _require_postgres
    from tracker.core.db import make_engine

    _require_postgres()
    tables = []
    for period in (None, PERIOD):
        with throwaway_database("postgresql") as url:
            engine = make_engine(url)
            seed.clinic(engine, 1, NOW)
            # A second cohort starting mid-period, as the scale benchmark's sizes do.
            for first, count in ((1, 1000), (1001, 2 * PERIOD + 77)):
                cohort = seed.Cohort(first_id=first, count=count, reminder_time=spread_time)
                seed.patients(engine, cohort, NOW, period=period)
            with engine.connect() as conn:
                tables.append(
                    [
                        conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
                        for table in ("patient", "care_plan")
                    ]
                )
            engine.dispose()
    sent, copied = tables
    assert len(copied[1]) == 1000 + 2 * PERIOD + 77
    assert copied == sent


@pytest.mark.postgres_only
def test_the_scale_out_benchmark_shares_each_tick_among_its_scheduler_processes(
    backend, tmp_path
) -> None:
    # 1, 2 and 3 scheduler processes tick the same minutes together (3,200 patients): each
    # group does every plan once per tick between them, and the figures compare the groups
    # with one scheduler. (How evenly they share is up to timing: tests/scheduler checks the
    # sharing itself.) PostgreSQL only: SQLite serves one scheduler.
    from benchmarks.scale_out import GROUPS, SIZES, TICKS
    from tests.conftest import _require_postgres
    from tracker.scheduler.shards import SHARD_COUNT

    _require_postgres()
    report = tmp_path / "report.json"

    both = "sqlite,postgresql"
    status = main(
        ["--size", "smoke", "--only", "scale_out", "--backends", both, "--json", str(report)]
    )

    figures = {f["name"]: f for f in json.loads(report.read_text())["figures"]}
    assert {f["backend"] for f in figures.values()} == {"postgresql"}  # not run on SQLite
    patients = SIZES["smoke"].patients
    label = f"({patients:,} pts)"
    assert status == 0
    assert set(figures) == {
        f"plans read+evaluated, 2 schedulers {label}",
        f"plans read+evaluated, 3 schedulers {label}",
        f"tick wall time, 2 schedulers {label}",
        f"tick wall time, 3 schedulers {label}",
        f"rows read by SELECTs, 2 schedulers {label}",
        f"rows read by SELECTs, 3 schedulers {label}",
        "floor: a tick's CPU work in 2 processes",
        "floor: a tick's CPU work in 3 processes",
        f"peak RSS per scheduler process {label}",
    }
    groups = figures[f"tick wall time, 2 schedulers {label}"]["details"]["groups"]
    assert [group["schedulers"] for group in groups.values()] == list(GROUPS)
    for group in groups.values():
        assert len(group["ticks"]) == TICKS and len(group["peak_rss_mb"]) == group["schedulers"]
        for tick in group["ticks"]:
            schedulers = tick["schedulers"]
            assert len(schedulers) == group["schedulers"]
            assert not any(s["failed"] for s in schedulers)
            # Every plan read once by the group, every shard of both steps done once.
            assert sum(s["plans_read"] for s in schedulers) == tick["work"] == patients
            assert sum(s["shards"] for s in schedulers) == 2 * SHARD_COUNT
            assert tick["seconds"] == max(s["seconds"] for s in schedulers) > 0
    work = figures[f"plans read+evaluated, 2 schedulers {label}"]
    assert work["value"] == work["limit"] == patients and work["met"]
    wall = figures[f"tick wall time, 3 schedulers {label}"]
    assert wall["target"] is None and wall["ratio"] > 0
    assert 0 < figures[f"peak RSS per scheduler process {label}"]["value"] < 250
    # The floor: the same pure-Python work in 1, then 2 and 3 processes at once.
    floor = figures["floor: a tick's CPU work in 2 processes"]
    assert floor["value"] > 0 and floor["limit"] > 0 and floor["target"] is None
    assert {group["floor_iterations"] for group in groups.values()} == {
        groups["1"]["floor_iterations"]
    }


@pytest.mark.postgres_only
def test_the_morning_peak_benchmark_sends_every_reminder_with_1_and_2_schedulers(
    backend, tmp_path
) -> None:
    # Every patient's reminder due at once, sent to a loopback webhook receiver by one
    # scheduler process, then (all due again) by two; PostgreSQL only.
    from benchmarks.morning_peak import GROUPS, RATE_TARGET, SIZES
    from tests.conftest import _require_postgres

    _require_postgres()
    report = tmp_path / "report.json"
    reminders = SIZES["smoke"].reminders

    both = "sqlite,postgresql"
    status = main(
        ["--size", "smoke", "--only", "morning_peak", "--backends", both, "--json", str(report)]
    )

    figures = {f["name"]: f for f in json.loads(report.read_text())["figures"]}
    label = f"({reminders:,} due at once)"
    assert status == 0
    assert {f["backend"] for f in figures.values()} == {"postgresql"}  # not run on SQLite
    assert set(figures) == {
        f"reminders/s, 1 scheduler {label}",
        f"reminders/s, 2 schedulers {label}",
        "due→sent p95, 1 scheduler",
        "due→sent p95, 2 schedulers",
    }
    one, two = (
        figures[f"reminders/s, 1 scheduler {label}"],
        figures[f"reminders/s, 2 schedulers {label}"],
    )
    assert one["target"] is None and one["value"] > 0
    assert two["limit"] == one["value"] and two["target"] == RATE_TARGET
    assert two["ratio"] == round(two["value"] / one["value"], 3)
    details = two["details"]
    assert details["received"] == reminders * len(GROUPS)
    for count, group in details["groups"].items():
        assert group["schedulers"] == int(count)
        assert len(group["sent_by_each"]) == int(count) and sum(group["sent_by_each"]) == reminders
        assert 0 < group["due_to_sent_p50_s"] <= group["due_to_sent_p95_s"]
        assert all(0 < mb < 250 for mb in group["peak_rss_mb"])
    assert (
        figures["due→sent p95, 2 schedulers"]["value"]
        == details["groups"]["2"]["due_to_sent_p95_s"]
    )


def test_the_clinic_report_benchmark_checks_the_report_and_its_fixed_statements(
    backend, tmp_path
) -> None:
    # The clinic report of 30 patients (and of 6, for the statement count) on each database:
    # the benchmark fails when the report does not add up to what it seeded.
    from benchmarks.clinic_report import SIZES
    from tests.conftest import _require_postgres
    from tracker.outcomes.clinic_report import STATEMENTS

    if backend == "postgresql":
        _require_postgres()
    report = tmp_path / "report.json"

    status = main(
        ["--size", "smoke", "--only", "clinic_report", "--backends", backend, "--json", str(report)]
    )

    build, page, in_db, statements = json.loads(report.read_text())["figures"]
    size = SIZES["smoke"]
    assert status == 0
    assert build["name"] == f"report build ({size.patients} pts)"
    assert build["value"] > 0 and build["limit"] > 0 and build["ratio"] > 0
    details = build["details"]
    assert details["report"]["enrolled"] == size.patients
    # The floor fetched at least the rows the report counted: its plans and plan-days.
    counted = details["report"]
    assert counted["pain_plan_days"] > 0
    assert details["rows_fetched_by_its_statements"] >= size.patients + counted["pain_plan_days"]
    assert page["value"] > 0 and page["details"]["page_render_ms"] > 0
    assert in_db["value"] > 0
    assert statements["name"] == f"SQL statements per report page ({size.patients} vs 6 pts)"
    assert statements["value"] == statements["limit"] and statements["met"]
    assert statements["details"]["build_report_large"] == STATEMENTS
    assert statements["details"]["build_report_small"] == STATEMENTS


def test_the_clinic_report_benchmark_refuses_a_report_that_leaves_rows_out() -> None:
    from collections import Counter
    from datetime import date

    from benchmarks.clinic_report import Expected
    from tracker.outcomes.clinic_report import ClinicReport, Spread

    seeded = Expected(
        enrolled=2,
        pain_plan_days=3,
        scored_answers=1,
        alerts=Counter(severe_pain=1),
        reminders=Counter(sent=4, dead=1),
        opt_outs=1,
    )
    report = ClinicReport(1, date(2026, 8, 1), date(2026, 12, 1), date(2026, 12, 1), enrolled=2)
    report.pain_by_day = {0: Spread.of([5.0, 6.0]), 1: Spread.of([4.0])}
    report.scores = {("daily_life", 0): Spread.of([40.0])}
    report.alerts_by_kind = {"severe_pain": 1}
    report.reminders_delivered, report.reminders_failed, report.opt_outs = 4, 1, 1
    assert seeded.mismatches(report) == []

    report.pain_by_day = {0: Spread.of([5.0, 6.0])}  # a plan-day left out
    report.reminders_failed = 0
    assert seeded.mismatches(report) == [
        "pain plan-days: report 2 != seeded 3",
        "reminders sent/dead/pending: report (4, 0, 0) != seeded (4, 1, 0)",
    ]


def test_the_smtp_receiver_takes_whole_messages() -> None:
    bodies = [
        b"Subject: one\r\n\r\nHello\r\n",
        b"Subject: two\r\n\r\n.a line starting with a dot\r\n..\r\n.\r\nend\r\n",
        b"Subject: three\r\n\r\n" + b"x" * 70_000 + b"\r\n",
    ]
    with receiver("smtp") as (port, stats), smtplib.SMTP("127.0.0.1", port) as smtp:
        for body in bodies:
            smtp.sendmail("clinic@example.org", ["pat@example.org"], body)
        smtp.rset()
        assert smtp.noop()[0] == 250
    assert stats == {"messages": 3, "bytes": sum(map(len, bodies)), "connections": 1}


def test_the_framework_floor_checks_csrf_and_the_form_as_the_tracker_does(monkeypatch) -> None:
    # benchmarks/floor_app.py bounds target 1 only if it does the POST's request work.
    import importlib
    import re

    monkeypatch.setenv("TRACKER_SECRET_KEY", "floor-test-secret-key-0123456789-0123456789")
    floor = importlib.reload(importlib.import_module("benchmarks.floor_app"))
    client = floor.app.test_client()
    assert client.get("/p/any-token").status_code == 302
    page = client.get("/me/pain").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    assert client.post("/me/pain", data={"score": "7"}).status_code == 400
    assert client.post("/me/pain", data={"csrf_token": token, "score": "11"}).status_code == 400
    saved = client.post("/me/pain", data={"csrf_token": token, "score": "7", "context": "rest"})
    assert saved.status_code == 302
    with client.session_transaction() as session:
        assert session["_flashes"] == [("success", "Thank you. Your pain score of 7 is saved.")]


def _require_wrk() -> None:
    import shutil

    import pytest

    from tests.conftest import IN_CI

    if shutil.which("wrk") is None:
        message = "the HTTP benchmarks need wrk (apt-get install wrk; make test installs it)"
        if IN_CI:
            pytest.fail(f"{message} (CI requires it)", pytrace=False)
        pytest.skip(message)


def test_the_http_benchmarks_run_through_gunicorn_and_wrk(tmp_path) -> None:
    # The pain POST (with its two framework floors) and the triage page, at a tiny size on
    # SQLite: gunicorn starts, every patient and the coordinator sign in, wrk loads, and
    # every answered POST is a stored row.
    _require_wrk()
    report = tmp_path / "report.json"

    only, db = "pain_post,triage", "sqlite"
    status = main(["--size", "smoke", "--only", only, "--backends", db, "--json", str(report)])

    figures = {f["name"]: f for f in json.loads(report.read_text())["figures"]}
    assert status == 0
    post = figures["pain POST req/s"]
    assert post["details"]["every_2xx_3xx_is_a_row"] and post["details"]["zero_errors"]
    assert post["details"]["rows"] > 0 and post["ratio"] > 0
    assert len(post["details"]["ratio_of_each_round"]) == 1
    assert figures["floor: same POST, no app (no DB)"]["ratio"] > 0
    # The second floor stores each score it answers, as the tracker must; it is the POST's
    # limit, loaded in the same round.
    with_insert = figures["floor + one durable INSERT (no app)"]
    assert with_insert["ratio"] > 0 and with_insert["details"]["rows"] > 0
    assert with_insert["details"]["every_2xx_3xx_is_a_row"]
    assert post["limit"] == with_insert["value"] and post["target"] == 0.85
    assert post["ratio"] == round(post["value"] / post["limit"], 3)
    page, floor = figures["triage page req/s"], figures["floor: same page, its data kept"]
    assert page["ratio"] > 0 and page["target"] == 0.6
    assert page["limit"] == floor["value"] > 0
    assert page["ratio"] == round(page["value"] / page["limit"], 3)
    costs = figures["triage page req/s"]["details"]["in_process_ms"]
    assert costs["page_sql_ms"] > 0 and 0 < costs["page_render_cpu_ms"] < costs["page_cpu_ms"]
    statements = figures["SQL statements per page (20 vs 5 pts)"]
    assert statements["value"] == statements["limit"]


def test_the_triage_floor_does_the_views_request_work_and_serves_the_same_page(
    tmp_path, monkeypatch
) -> None:
    # benchmarks/triage_floor.py bounds target 2 only if all it skips is the page's data:
    # the sign-in is checked, every view is audited, and the same page is rendered.
    import importlib
    import re
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from benchmarks import triage
    from benchmarks.harness import BENCH_SECRET
    from tracker.app import create_app
    from tracker.core import migrate
    from tracker.core.db import make_engine
    from tracker.core.models import AuditEvent

    url = f"sqlite:///{tmp_path}/floor.db"
    migrate.upgrade(url)
    engine = make_engine(url)
    email, _ = triage._seed(engine, triage.SIZES["smoke"], datetime.now(UTC))
    for name, value in {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SECRET_KEY": BENCH_SECRET,
        "TRACKER_BASE_URL": "http://127.0.0.1:5000",
    }.items():
        monkeypatch.setenv(name, value)
    floor = importlib.reload(importlib.import_module("benchmarks.triage_floor")).app
    real = create_app()

    def signed_in(app, path: str):
        client = app.test_client()
        assert client.get(path).status_code == 302  # signed out: to the login page
        page = client.get("/coordinator/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        form = {"csrf_token": token.group(1), "email": email, "password": triage.PASSWORD}
        assert client.post("/coordinator/login", data=form).status_code == 302
        return client

    def views() -> int:
        with engine.connect() as conn:
            query = select(func.count()).where(AuditEvent.action == "triage.view")
            return conn.scalar(query.select_from(AuditEvent))

    def without_tokens(html: str) -> str:
        return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]+"', "", html)

    real_page = signed_in(real, "/coordinator/").get("/coordinator/")
    expected = without_tokens(real_page.get_data(as_text=True))
    client, before = signed_in(floor, "/floor/triage"), views()
    pages = [client.get("/floor/triage") for _ in range(2)]

    assert [p.status_code for p in pages] == [200, 200]
    assert all(without_tokens(p.get_data(as_text=True)) == expected for p in pages)
    assert "Benchmark alert" in expected
    assert views() == before + 2
    engine.dispose()
