"""`tracker demo` as a real process: serves pages, runs one scheduler, and stops it on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.reminders.conftest import free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_it_serves_and_stops_its_scheduler_and_fake_gateway_on_sigterm(tmp_path):
    port = free_port(count=2)  # the fake SMS gateway takes the next port
    env = {**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "tracker", "demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    schedulers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline, "demo did not start serving"
            assert demo.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        # The fake SMS gateway's page, where a demo user reads and answers the texts.
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (
                    f"the fake SMS gateway did not start:\n{log.read_text()}"
                )
                time.sleep(0.5)
        schedulers = _children(demo.pid)
        assert len(schedulers) == 2, schedulers  # the scheduler and the fake gateway

        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in schedulers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in schedulers), "a child outlived the demo"
    finally:
        for pid in schedulers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if demo.poll() is None:
            demo.kill()
            demo.wait()
