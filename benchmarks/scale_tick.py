"""One scheduler tick in its own process, for the scale benchmark.

``python -m benchmarks.scale_tick DATABASE_URL NOW`` builds the app as ``tracker
scheduler`` does, runs one tick at NOW (plan, then deliver on the log channel) and prints
one JSON line: the tick's seconds and summary, the process's RSS before the tick and its
peak RSS (``ru_maxrss``) after it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime

from tracker import create_app
from tracker.tick import run_tick


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
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
    before = rss_kb()
    started = time.perf_counter()
    summary = run_tick(app, now, worker="bench-scale")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    app.extensions["tracker.engine"].dispose()
    print(
        json.dumps(
            {"seconds": seconds, "summary": summary, "rss_before_kb": before, "peak_rss_kb": peak}
        )
    )


if __name__ == "__main__":
    main()
