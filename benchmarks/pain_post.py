"""Target 1: the pain-log POST through gunicorn ÷ its floor, "floor + one durable INSERT".

Every patient signs in with their personal link (``GET /p/<token>``), then opens the pain
page for its CSRF token, as a browser would. wrk then posts scores round-robin over all
the patients' cookies and tokens (the full CSRF check, form validation and a commit per
request). Afterwards the rows are counted: every 2xx/3xx must be a stored row, and the
server's access log must show no error.

The limit is ``benchmarks/floor_app.py`` with a database: the same POST's request work
(signed cookie, CSRF, the same form, a flash, a redirect) plus one durable INSERT of the
score, and nothing else. It is served at the same time as the tracker, with the same
settings, and both are loaded in turn in each round (``/livez``, the POST, on the tracker;
then on the floor), so each round's ratio compares two loads a few seconds apart on the
same machine. The round with the median ratio is reported (``Size.rounds``); target ≥ 0.85
on both databases. The floor stores its scores with the note "floor", so each server's rows
are counted apart.

Also reported: the POST ÷ the same server's ``/livez``, and the floor with no database at
all (the request work alone), loaded the same way after the others.
"""

from __future__ import annotations

import http.client
import re
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from benchmarks import harness, seed
from benchmarks.harness import Round, access_log_lines, gunicorn, percentile
from benchmarks.report import Figure, median_by, ratio
from tracker.core.db import make_engine
from tracker.core.models import PainEntry

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Size:
    patients: int
    seconds: int  # of each load (wrk counts whole seconds)
    connections: int
    workers: int
    # Each round loads /livez, then the POST, on the same server; the round with the median
    # ratio is reported and every round's ratio kept (single loads of this machine differ
    # by a fifth and more within minutes, so one pair of loads can say little).
    rounds: int


SIZES = {
    "smoke": Size(patients=5, seconds=1, connections=2, workers=1, rounds=1),
    "quick": Size(patients=30, seconds=1, connections=8, workers=2, rounds=1),
    "full": Size(patients=1000, seconds=4, connections=16, workers=4, rounds=3),
}


TARGET = 0.85
NOTE, FLOOR_NOTE = "benchmark", "floor"


def load_rounds(
    base: str,
    credentials: list[tuple[str, str]],
    size: Size,
    *,
    rounds: int | None = None,
    note: str = NOTE,
) -> list[Round]:
    """``rounds`` (``size.rounds``) rounds of /livez then the POST, each for ``size.seconds``."""
    return harness.load_rounds(
        base,
        "/me/pain",
        rounds=size.rounds if rounds is None else rounds,
        connections=size.connections,
        seconds=size.seconds,
        lua=lua_script(credentials, note=note),
    )


def median_round(rounds: list[Round]) -> Round:
    return median_by(rounds, lambda r: r.ratio)


@dataclass(frozen=True)
class Pair:
    """One round of the tracker then its floor, loaded one after the other."""

    tracker: Round
    floor: Round

    @property
    def ratio(self) -> float:
        return ratio(self.tracker.load.rps, self.floor.load.rps)


def _answered(rounds: list[Round]) -> tuple[int, bool]:
    """(POSTs answered 2xx/3xx as the client saw them, whether every load was clean)."""
    ok = sum(r.load.requests - r.load.status_errors for r in rounds)
    clean = all(r.load.errors == 0 and r.load.status_errors == 0 for r in rounds)
    return ok, clean


def _cookie(response: http.client.HTTPResponse) -> str | None:
    header = response.getheader("Set-Cookie")
    return header.split(";", 1)[0] if header else None


def sign_in(base: str, patient_id: int) -> tuple[str, str]:
    """Open the personal link and the pain page like a browser; returns (cookie, csrf)."""
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        conn.request("GET", f"/p/{seed.link_token(patient_id)}")
        response = conn.getresponse()
        response.read()
        cookie = _cookie(response)
        if response.status != 302 or cookie is None:
            raise RuntimeError(f"sign-in of patient {patient_id}: HTTP {response.status}")
        conn.request("GET", "/me/pain", headers={"Cookie": cookie})
        response = conn.getresponse()
        html = response.read().decode()
        cookie = _cookie(response) or cookie
        match = _CSRF.search(html)
        if response.status != 200 or match is None:
            raise RuntimeError(f"pain page of patient {patient_id}: HTTP {response.status}")
        return cookie, match.group(1)
    finally:
        conn.close()


def lua_script(credentials: list[tuple[str, str]], *, note: str = NOTE) -> str:
    """Each request takes the next patient's cookie and token, and a score from 0 to 10."""
    rows = ",\n".join(f'  {{"{cookie}", "{token}"}}' for cookie, token in credentials)
    return f"""
local creds = {{
{rows}
}}
local n = 0
request = function()
  n = n + 1
  local c = creds[(n % #creds) + 1]
  local body = "csrf_token=" .. c[2] .. "&score=" .. (n % 11) ..
               "&context=" .. ((n % 2 == 0) and "rest" or "activity") .. "&note={note}"
  return wrk.format("POST", "/me/pain", {{
    ["Cookie"] = c[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}, body)
end
"""


def _count_rows(engine, note: str = NOTE) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(PainEntry.note == note))


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    seed.clinic(engine, 1, now)
    seed.patients(engine, seed.Cohort(first_id=1, count=size.patients), now, links=True)
    seed.finish(engine)
    log_dir = Path(tempfile.mkdtemp(prefix="tracker-bench-log-"))
    access_log = log_dir / "access.log"
    with (
        gunicorn(database_url, workers=size.workers, access_log=access_log) as base,
        floor_server(
            size, database_url=database_url, access_log=log_dir / "floor-insert.log"
        ) as floor_base,
    ):
        credentials = sign_in_all(base, size.patients)
        floor_credentials = sign_in_all(floor_base, size.patients)
        pairs = []
        for _ in range(size.rounds):
            (tracker,) = load_rounds(base, credentials, size, rounds=1)
            (floor_round,) = load_rounds(
                floor_base, floor_credentials, size, rounds=1, note=FLOOR_NOTE
            )
            pairs.append(Pair(tracker=tracker, floor=floor_round))
    # The servers have stopped: every request they took is in their logs, committed or not.
    rows, floor_write_rows = _count_rows(engine), _count_rows(engine, FLOOR_NOTE)
    lines = access_log_lines(access_log)
    floor = framework_floor(size, database_url=None, access_log=log_dir / "floor.log")
    shutil.rmtree(log_dir, ignore_errors=True)
    engine.dispose()

    rounds = [pair.tracker for pair in pairs]
    floor_write = [pair.floor for pair in pairs]
    posts = [line for line in lines if line[:2] == ("POST", "/me/pain")]
    server_ok = sum(1 for _, _, status, _ in posts if 200 <= status < 400)
    server_ms = [micros / 1000 for *_, micros in posts]
    livez_ms = [micros / 1000 for _, path, _, micros in lines if path == "/livez"]
    server_errors = len(posts) - server_ok
    client_ok, client_clean = _answered(rounds)
    # wrk stops counting at its deadline, so up to one request per connection and load may
    # have been answered (and stored) after it stopped listening; the server's log has all.
    slack = size.connections * size.rounds
    lossless = rows == server_ok and client_ok <= rows <= client_ok + slack
    clean = client_clean and server_errors == 0
    floor_ok, floor_clean = _answered(floor)
    write_ok, write_clean = _answered(floor_write)
    write_stored = write_ok <= floor_write_rows <= write_ok + slack
    pair = median_by(pairs, lambda p: p.ratio)
    median, write_median = pair.tracker, pair.floor
    valid = lossless and clean and write_clean and write_stored
    return [
        Figure(
            benchmark="pain_post",
            backend=backend,
            name="pain POST req/s",
            value=median.load.rps,
            unit="req/s",
            limit_name="floor + one durable INSERT req/s",
            limit=write_median.load.rps,
            ratio=pair.ratio if valid else 0.0,
            target=TARGET,
            details={
                "patients": size.patients,
                "workers": size.workers,
                "connections": size.connections,
                "seconds": size.seconds,
                "rounds": size.rounds,
                "ratio_of_each_round": [p.ratio for p in pairs],
                "load": median.load.as_dict(),
                "bare": median.bare.as_dict(),
                "floor_with_insert_load": write_median.load.as_dict(),
                "rows": rows,
                "client_2xx_3xx": client_ok,
                "server_2xx_3xx": server_ok,
                "server_errors": server_errors,
                "server_ms_p50": percentile(server_ms, 50),
                "server_ms_p95": percentile(server_ms, 95),
                "livez_server_ms_p50": percentile(livez_ms, 50),
                "every_2xx_3xx_is_a_row": lossless,
                "zero_errors": clean,
                "post_vs_livez": median.ratio,
                "post_vs_livez_of_each_round": [r.ratio for r in rounds],
            },
        ),
        # No targets: the best this stack allows such a POST (benchmarks/floor_app.py).
        _floor_figure(backend, "floor: same POST, no app (no DB)", floor, floor_clean and floor_ok),
        _floor_figure(
            backend,
            "floor + one durable INSERT (no app)",
            floor_write,
            write_clean and write_stored,
            rows=floor_write_rows,
            client_2xx_3xx=write_ok,
            every_2xx_3xx_is_a_row=write_stored,
        ),
    ]


def _floor_figure(
    backend: str, name: str, rounds: list[Round], valid: bool, **details: object
) -> Figure:
    median = median_round(rounds)
    return Figure(
        benchmark="pain_post",
        backend=backend,
        name=name,
        value=median.load.rps,
        unit="req/s",
        limit_name="its /livez req/s",
        limit=median.bare.rps,
        ratio=median.ratio if valid else 0.0,
        details={
            "ratio_of_each_round": [r.ratio for r in rounds],
            "load": median.load.as_dict(),
            "bare": median.bare.as_dict(),
            **details,
        },
    )


def sign_in_all(base: str, patients: int) -> list[tuple[str, str]]:
    """(cookie, CSRF token) of patients 1..``patients``, signed in four at a time."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: sign_in(base, i), range(1, patients + 1)))


@contextmanager
def floor_server(size: Size, *, database_url: str | None, access_log: Path) -> Iterator[str]:
    """``floor_app`` under the same server settings as the tracker (an access log too):
    what Flask, the signed cookie, CSRFProtect, the same form, a flash and a redirect cost
    without the application; with ``database_url``, also one durable INSERT per POST into
    that database. Yields its base URL."""
    extra = {"FLOOR_DATABASE_URL": database_url} if database_url else None
    with gunicorn(
        None,
        workers=size.workers,
        extra_env=extra,
        access_log=access_log,
        app="benchmarks.floor_app:app",
    ) as base:
        yield base


def framework_floor(size: Size, *, database_url: str | None, access_log: Path) -> list[Round]:
    """Rounds of ``floor_server`` loaded as the tracker is."""
    with floor_server(size, database_url=database_url, access_log=access_log) as base:
        return load_rounds(base, sign_in_all(base, size.patients), size, note=FLOOR_NOTE)
