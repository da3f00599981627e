"""Benchmark harness: a real gunicorn server on loopback, wrk as the closed-loop client.

Every figure is reported as a ratio against a limit measured in the same run on the same
machine, because these machines are noisy. Load goes only to 127.0.0.1, and every run is
bounded by its duration.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.report import ratio

REPO = Path(__file__).resolve().parent.parent
# A fresh key per run: a key written here would be a published one, which the app refuses
# (tracker/core/secret_key.py).
BENCH_SECRET = secrets.token_urlsafe(48)
# gunicorn access-log line: method, path, status, request time in microseconds (%(D)s).
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"

# wrk prints this JSON line when the run ends (status = non-2xx/3xx responses).
_WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    errors: int
    status_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def free_port() -> int:
    """A free port below the kernel's ephemeral range (32768 up), so polling a server that is
    not listening yet can never connect to itself (TCP simultaneous open)."""
    rng = random.Random()
    while True:
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (make bench does this)")
    return path


def wrk(
    url: str, *, connections: int, seconds: float, threads: int = 1, lua: str = ""
) -> LoadResult:
    """A closed-loop load of ``connections`` keep-alive connections for ``seconds``."""
    assert url.startswith("http://127.0.0.1:"), "benchmarks only load the loopback address"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua + "\n" + _WRK_DONE)
    try:
        out = subprocess.run(
            [
                require_wrk(),
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    data = json.loads(out.strip().splitlines()[-1])
    secs = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return LoadResult(
        requests=data["requests"],
        seconds=round(secs, 3),
        rps=round(data["requests"] / secs, 1) if secs else 0.0,
        errors=errors,
        status_errors=data["status_errors"],
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


@dataclass(frozen=True)
class Round:
    """One round of an HTTP benchmark on one server: ``/livez`` (the limit), then the load."""

    bare: LoadResult
    load: LoadResult

    @property
    def ratio(self) -> float:
        return ratio(self.load.rps, self.bare.rps)


def load_rounds(
    base: str, path: str, *, rounds: int, connections: int, seconds: float, lua: str = ""
) -> list[Round]:
    """``rounds`` rounds of ``/livez`` then ``path`` (with the wrk script ``lua``)."""
    return [
        Round(
            bare=wrk(base + "/livez", connections=connections, seconds=seconds),
            load=wrk(base + path, connections=connections, seconds=seconds, lua=lua),
        )
        for _ in range(rounds)
    ]


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server not ready at {url} after {timeout}s")


@contextmanager
def gunicorn(
    database_url: str | None,
    *,
    workers: int = 4,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
    access_log: Path | None = None,
    app: str = "tracker.app.wsgi:app",
) -> Iterator[str]:
    """Serve ``app`` (the tracker unless told) on a free loopback port; yields the base URL.

    ``access_log`` writes one line per request, ``METHOD PATH STATUS MICROSECONDS``: the
    server-side view of a load (what was answered, and how long the app took).
    """
    port = free_port()
    env = {
        **os.environ,
        **({"TRACKER_DATABASE_URL": database_url} if database_url else {}),
        "TRACKER_SECRET_KEY": BENCH_SECRET,
        "TRACKER_BASE_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    if access_log is not None:
        command += ["--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT]
    process = subprocess.Popen([*command, app], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/livez", process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def access_log_lines(path: Path) -> list[tuple[str, str, int, int]]:
    """(method, path, status, microseconds) of every request in a gunicorn access log."""
    lines = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
            lines.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
    return lines


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


@dataclass
class PacedResult:
    rate: float  # requests per second asked for
    achieved: float  # responses per second received
    requests: int
    errors: int  # non-2xx/3xx responses and failed requests
    p50_ms: float  # from the scheduled start (so waiting behind a slow server counts)
    p95_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def paced(
    url: str,
    *,
    rate: float,
    seconds: float,
    headers: dict[str, str] | None = None,
    senders: int = 16,
) -> PacedResult:
    """An open-loop load: requests are *scheduled* at ``rate`` per second for ``seconds``,
    whatever the server's speed (wrk2's idea; wrk2 is not packaged for Debian). ``senders``
    keep-alive connections take the scheduled requests in turn; a late response delays no
    schedule, and its latency is measured from when it was due.
    """
    assert url.startswith("http://127.0.0.1:"), "benchmarks only load the loopback address"
    import http.client
    import queue
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    jobs: queue.Queue[float | None] = queue.Queue()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def sender() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while (due := jobs.get()) is not None:
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ok = False
            try:
                conn.request("GET", path, headers=headers or {})
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 400
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
            with lock:
                latencies.append(time.perf_counter() - due)
                errors += not ok
        conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.05
    total = max(1, int(rate * seconds))
    for n in range(total):
        jobs.put(start + n / rate)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return PacedResult(
        rate=rate,
        achieved=round(len(ms) / elapsed, 1) if elapsed > 0 else 0.0,
        requests=len(ms),
        errors=errors,
        p50_ms=round(percentile(ms, 50), 2),
        p95_ms=round(percentile(ms, 95), 2),
    )


def timed_tick_steps() -> tuple[list[tuple[str, Any]], dict[str, float]]:
    """The scheduler tick's steps (tracker/scheduler/tick.py), each wrapped to note its
    seconds in the returned dict, to show where a tick's time goes."""
    from tracker.scheduler.tick import TICK_STEPS

    step_seconds: dict[str, float] = {}

    def timed(step_name: str, step: Any) -> Any:
        def run_step(ctx: Any) -> Any:
            started = time.perf_counter()
            try:
                return step(ctx)
            finally:
                step_seconds[step_name] = round(time.perf_counter() - started, 4)

        return run_step

    return [(step_name, timed(step_name, step)) for step_name, step in TICK_STEPS], step_seconds


class Workers:
    """Worker processes (``python -m <module> worker <database url> <name>``) driven line by
    line: each line sent to a worker is answered with one line of JSON. Used as a context
    manager; on the way out each worker's input is closed (a worker waiting for a line then
    ends) and a worker that does not end is killed."""

    def __init__(self, module: str, database_url: str, names: list[str]) -> None:
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", module, "worker", database_url, name],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()

    def __len__(self) -> int:
        return len(self.processes)

    def ask_all(self, line: str) -> list[dict[str, Any]]:
        """Send ``line`` to every worker, then read their answers: they work on it at once."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(line + "\n")
            process.stdin.flush()
        return [self._answer(process) for process in self.processes]

    @staticmethod
    def _answer(process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"a worker process ended early (exit {process.wait()})")
        return json.loads(line)


@contextmanager
def sql_and_render_time(
    app: Any, engine: Any, render_clock: Callable[[], float] = time.perf_counter
) -> Iterator[dict[str, float]]:
    """Seconds spent in SQL statements (execute to the driver's return: psycopg has fetched
    the rows by then, SQLite steps through them later) and, by ``render_clock`` (e.g. CPU
    time), in rendering templates while the block runs: ``{"sql": ..., "render": ...}``."""
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    spent = {"sql": 0.0, "render": 0.0}
    render_started = 0.0

    def started(conn: Any, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def ended(conn: Any, *args: Any) -> None:
        spent["sql"] += time.perf_counter() - conn.info.pop("bench_started")

    def render_starts(*args: Any, **kwargs: Any) -> None:
        nonlocal render_started
        render_started = render_clock()

    def rendered(*args: Any, **kwargs: Any) -> None:
        spent["render"] += render_clock() - render_started

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    before_render_template.connect(render_starts, app)
    template_rendered.connect(rendered, app)
    try:
        yield spent
    finally:
        template_rendered.disconnect(rendered, app)
        before_render_template.disconnect(render_starts, app)
        event.remove(engine, "before_cursor_execute", started)
        event.remove(engine, "after_cursor_execute", ended)


def serve_ticks(
    app: Any,
    name: str,
    reply: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    other: Callable[[str], dict[str, Any] | None] = lambda line: None,
    **tick_options: Any,
) -> None:
    """The worker side of ``Workers``: tick ``app`` at each ISO instant read from stdin as
    one scheduler of the group (``bench-<name>``), answering each with one JSON line (the
    tick's seconds and step seconds, and what ``reply`` makes of the tick's summary);
    ``other`` may answer a line that is not an instant; "exit" ends it, the scheduler leaves
    the group and a last line gives the process's peak RSS."""
    from tracker.core.db import session_factory
    from tracker.scheduler.process import freeze_long_lived
    from tracker.scheduler.shards import ShardMember
    from tracker.scheduler.tick import run_tick

    steps, step_seconds = timed_tick_steps()
    member = ShardMember(worker=f"bench-{name}")
    now, ticks = None, 0
    for line in sys.stdin:
        if line.strip() == "exit":
            break
        answer = other(line)
        if answer is None:
            now = datetime.fromisoformat(line.strip())
            started = time.perf_counter()
            summary = run_tick(app, now, member=member, steps=steps, **tick_options)
            seconds = time.perf_counter() - started
            ticks += 1
            if ticks == 1:
                freeze_long_lived()  # as the scheduler does after its first tick
            answer = {
                "worker": member.worker,
                "seconds": round(seconds, 4),
                **reply(summary),
                "step_seconds": dict(step_seconds),
            }
        print(json.dumps(answer), flush=True)
    if now is not None:
        with app.app_context(), session_factory(app)() as session:
            member.leave(session, now)
    app.extensions["tracker.engine"].dispose()
    print(json.dumps({"peak_rss_kb": status_kb("VmHWM"), "ticks": ticks}), flush=True)


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc (VmRSS now, VmHWM its peak). Not
    ``ru_maxrss``: Linux carries that over ``exec`` from the parent, which is bigger."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
