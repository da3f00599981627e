"""Run the benchmarks: ``python -m benchmarks [--size quick|full] [--backends ...] [--only ...]``.

``make bench`` runs the quick size (all benchmarks, SQLite and PostgreSQL, within a
minute); ``make bench BENCH_SIZE=full`` shows scale. Each benchmark gets its own
throwaway database. The table goes to stdout, the JSON report to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    clinic_report,
    delivery,
    morning_peak,
    pain_post,
    planning,
    scale,
    scale_out,
    triage,
)
from benchmarks.databases import BACKENDS, postgres_problem, throwaway_database
from benchmarks.harness import require_wrk
from benchmarks.report import Figure

BENCHMARKS = {
    "pain_post": pain_post.run,
    "triage": triage.run,
    "planning": planning.run,
    "delivery": delivery.run,
    "scale": scale.run,
    "scale_out": scale_out.run,
    "morning_peak": morning_peak.run,
    "clinic_report": clinic_report.run,
}
# Several scheduler processes sharing ticks, or delivering at once, are a PostgreSQL set-up:
# SQLite serves one process (docs/reminders.md, "Several schedulers").
POSTGRESQL_ONLY = {"scale_out", "morning_peak"}
RESULTS = Path(__file__).resolve().parent / "results"


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def table(figures: list[Figure]) -> str:
    header = ("benchmark", "db", "figure", "value", "limit", "ratio", "target", "met")
    rows = [header]
    for f in figures:
        target = "-" if f.target is None else ("≥ " if f.higher_is_better else "≤ ") + str(f.target)
        rows.append(
            (
                f.benchmark,
                f.backend,
                f.name,
                f"{_fmt(f.value)} {f.unit}",
                f"{_fmt(f.limit)} ({f.limit_name})" if f.limit_name else "-",
                _fmt(f.ratio),
                target,
                {True: "yes", False: "NO", None: "-"}[f.met],
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=("smoke", "quick", "full"), default="quick")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--json", type=Path, help="report path (default benchmarks/results/)")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    backends = [b for b in args.backends.split(",") if b]
    unknown = [n for n in names if n not in BENCHMARKS] + [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown benchmark or backend: {', '.join(unknown)}")
    if "pain_post" in names or "triage" in names:
        require_wrk()
    if "postgresql" in backends and (problem := postgres_problem()):
        parser.error(f"PostgreSQL is unreachable ({problem}); use --backends sqlite")

    started = time.monotonic()
    figures: list[Figure] = []
    for backend in backends:
        for name in names:
            if backend != "postgresql" and name in POSTGRESQL_ONLY:
                print(f"  {name}: PostgreSQL only, not run on {backend}", file=sys.stderr)
                continue
            t0 = time.monotonic()
            with throwaway_database(backend) as url:
                produced = BENCHMARKS[name](url, backend, args.size)
            for figure in produced:
                figure.details["benchmark_seconds"] = round(time.monotonic() - t0, 2)
            figures += produced
            print(f"  {name} on {backend}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    elapsed = time.monotonic() - started

    print(table(figures))
    print(f"\n{args.size} run, {elapsed:.0f} s; {os.cpu_count()} CPUs shared with other work")
    report = {
        "size": args.size,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "figures": [f.as_dict() for f in figures],
    }
    path = args.json or RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.size}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"report: {path}")
    missed = [f for f in figures if f.met is False]
    return 1 if missed and args.size == "full" else 0


if __name__ == "__main__":
    sys.exit(main())
