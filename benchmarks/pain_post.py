"""Target 1: the pain-log POST through gunicorn ÷ the bare ``/livez`` on the same server.

Every patient signs in with their personal link (``GET /p/<token>``), then opens the pain
page for its CSRF token, as a browser would. wrk then posts scores round-robin over all
the patients' cookies and tokens (the full CSRF check, form validation and a commit per
request). Afterwards the rows are counted: every 2xx/3xx must be a stored row, and the
server's access log must show no error.
"""

from __future__ import annotations

import http.client
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from benchmarks import seed
from benchmarks.harness import LoadResult, access_log_lines, gunicorn, percentile, wrk
from benchmarks.report import Figure, ratio
from tracker.db import make_engine
from tracker.models import PainEntry

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Size:
    patients: int
    seconds: int
    connections: int
    workers: int


SIZES = {
    "smoke": Size(patients=5, seconds=1, connections=2, workers=1),
    "quick": Size(patients=30, seconds=1, connections=8, workers=4),
    "full": Size(patients=1000, seconds=10, connections=16, workers=4),
}


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


def lua_script(credentials: list[tuple[str, str]]) -> str:
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
               "&context=" .. ((n % 2 == 0) and "rest" or "activity") .. "&note=benchmark"
  return wrk.format("POST", "/me/pain", {{
    ["Cookie"] = c[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}, body)
end
"""


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    seed.clinic(engine, 1, now)
    seed.patients(engine, seed.Cohort(first_id=1, count=size.patients), now, links=True)
    seed.finish(engine)
    log_dir = Path(tempfile.mkdtemp(prefix="tracker-bench-log-"))
    access_log = log_dir / "access.log"
    with gunicorn(database_url, workers=size.workers, access_log=access_log) as base:
        with ThreadPoolExecutor(4) as pool:
            credentials = list(pool.map(lambda i: sign_in(base, i), range(1, size.patients + 1)))
        bare = wrk(base + "/livez", connections=size.connections, seconds=size.seconds)
        with engine.connect() as conn:
            before = conn.scalar(select(func.count()).select_from(PainEntry))
        load = wrk(
            base + "/me/pain",
            connections=size.connections,
            seconds=size.seconds,
            lua=lua_script(credentials),
        )
    floor_bare, floor_post = framework_floor(size, credentials_for=size.patients)
    # The server has stopped: every request it took is in the log and committed or not.
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(PainEntry)) - before
    engine.dispose()
    posts = [line for line in access_log_lines(access_log) if line[:2] == ("POST", "/me/pain")]
    server_ok = sum(1 for _, _, status, _ in posts if 200 <= status < 400)
    server_ms = [micros / 1000 for *_, micros in posts]
    livez_ms = [m / 1000 for method, path, _, m in access_log_lines(access_log) if path == "/livez"]
    shutil.rmtree(log_dir, ignore_errors=True)
    server_errors = len(posts) - server_ok
    client_ok = load.requests - load.status_errors
    # wrk stops counting at its deadline, so up to one request per connection may have been
    # answered (and stored) after it stopped listening; the server's log has all of them.
    lossless = rows == server_ok and client_ok <= rows <= client_ok + size.connections
    clean = load.errors == 0 and load.status_errors == 0 and server_errors == 0
    floor_clean = floor_post.errors == 0 and floor_post.status_errors == 0
    return [
        Figure(
            benchmark="pain_post",
            backend=backend,
            name="pain POST req/s",
            value=load.rps,
            unit="req/s",
            limit_name="/livez req/s",
            limit=bare.rps,
            ratio=ratio(load.rps, bare.rps) if lossless and clean else 0.0,
            target=0.35,
            details={
                "patients": size.patients,
                "workers": size.workers,
                "connections": size.connections,
                "seconds": size.seconds,
                "load": load.as_dict(),
                "bare": bare.as_dict(),
                "rows": rows,
                "client_2xx_3xx": client_ok,
                "server_2xx_3xx": server_ok,
                "server_errors": server_errors,
                "server_ms_p50": percentile(server_ms, 50),
                "server_ms_p95": percentile(server_ms, 95),
                "livez_server_ms_p50": percentile(livez_ms, 50),
                "every_2xx_3xx_is_a_row": lossless,
                "zero_errors": clean,
                "framework_floor_post_rps": floor_post.rps,
                "pain_post_vs_floor_post": ratio(load.rps, floor_post.rps),
            },
        ),
        # No target: the best this stack allows such a POST (benchmarks/floor_app.py).
        Figure(
            benchmark="pain_post",
            backend=backend,
            name="floor: same POST, no app (no DB)",
            value=floor_post.rps,
            unit="req/s",
            limit_name="its /livez req/s",
            limit=floor_bare.rps,
            ratio=ratio(floor_post.rps, floor_bare.rps) if floor_clean else 0.0,
            details={"load": floor_post.as_dict(), "bare": floor_bare.as_dict()},
        ),
    ]


def framework_floor(size: Size, *, credentials_for: int) -> tuple[LoadResult, LoadResult]:
    """(/livez, POST) of ``floor_app`` under the same server settings and the same load as
    the tracker: what Flask, the signed cookie, CSRFProtect, the same form, a flash and a
    redirect cost without the application."""
    with gunicorn(None, workers=size.workers, app="benchmarks.floor_app:app") as base:
        with ThreadPoolExecutor(4) as pool:
            credentials = list(pool.map(lambda i: sign_in(base, i), range(1, credentials_for + 1)))
        bare = wrk(base + "/livez", connections=size.connections, seconds=size.seconds)
        post = wrk(
            base + "/me/pain",
            connections=size.connections,
            seconds=size.seconds,
            lua=lua_script(credentials),
        )
    return bare, post
