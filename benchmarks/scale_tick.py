"""One scheduler tick in its own process, for the scale benchmark.

``python -m benchmarks.scale_tick DATABASE_URL NOW`` builds the app as ``tracker
scheduler`` does, runs one tick at NOW (plan, then deliver on the log channel) and prints
one JSON line: the tick's seconds and summary, the process's RSS before the tick and its
peak RSS (``ru_maxrss``) after it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

from tracker import create_app
from tracker.tick import run_tick


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc (VmRSS now, VmHWM its peak). Not
    ``ru_maxrss``: Linux carries that over ``exec`` from the parent, which is bigger."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


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
    # done) warms its caches and connections, as in production.
    run_tick(app, now - timedelta(minutes=1), worker="bench-scale")
    before = status_kb("VmRSS")
    started = time.perf_counter()
    summary = run_tick(app, now, worker="bench-scale")
    seconds = time.perf_counter() - started
    peak = status_kb("VmHWM")
    app.extensions["tracker.engine"].dispose()
    print(
        json.dumps(
            {"seconds": seconds, "summary": summary, "rss_before_kb": before, "peak_rss_kb": peak}
        )
    )


if __name__ == "__main__":
    main()
