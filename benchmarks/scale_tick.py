"""One scheduler tick in its own process, for the scale benchmark.

``python -m benchmarks.scale_tick DATABASE_URL NOW`` builds the app as ``tracker
scheduler`` does, runs the ticks of five minutes from NOW (alerts, plan, deliver on the
log channel) and prints one JSON line: the median tick's seconds and summary, every
tick's seconds, the process's RSS before the ticks and its peak RSS (VmHWM) after them.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

from benchmarks.harness import status_kb
from benchmarks.report import median_by
from tracker.app import create_app
from tracker.scheduler.process import freeze_long_lived
from tracker.scheduler.tick import run_tick

TICKS = 5


def main() -> None:
    url, now_text = sys.argv[1], sys.argv[2]
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
            "BASE_URL": "http://127.0.0.1:5000",
            "REMINDER_CHANNEL": "log",
        },
        serving=False,
    )
    now = datetime.fromisoformat(now_text)
    # A running scheduler ticks every minute: the tick a minute earlier (all of it already
    # done) warms its caches and connections, as in production, and after it the scheduler
    # takes what the process keeps for good out of the garbage collector's reach.
    run_tick(app, now - timedelta(minutes=1), worker="bench-scale")
    freeze_long_lived()
    before = status_kb("VmRSS")
    # Five steady-state minutes in a row; the median is reported (one tick of a small
    # database takes a tenth of a second, where the machine's noise alone is ±30 %).
    runs = []
    for minute in range(TICKS):
        started = time.perf_counter()
        summary = run_tick(app, now + timedelta(minutes=minute), worker="bench-scale")
        runs.append((time.perf_counter() - started, summary))
    peak = status_kb("VmHWM")
    seconds, summary = median_by(runs, lambda run: run[0])
    app.extensions["tracker.engine"].dispose()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "all_seconds": [round(run[0], 4) for run in runs],
                "summary": summary,
                "rss_before_kb": before,
                "peak_rss_kb": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
