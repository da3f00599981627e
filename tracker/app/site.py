"""Pages that belong to no one area: the landing page, the health check and the icon."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.models import DeliveryIncident, SchedulerHeartbeat

bp = Blueprint("site", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@cache
def _icon(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.svg").read_bytes()


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where browsers look for it by default: the SVG that every page also
    names with <link rel="icon"> (static/favicon.svg), so there is no 404 in any log."""
    return Response(_icon(current_app.static_folder or ""), mimetype="image/svg+xml")


@bp.get("/livez")
def livez() -> tuple[str, int, dict[str, str]]:
    """Liveness without touching the database; also the benchmarks' bare endpoint."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Database reachability and the scheduler's last tick; 503 when either is unhealthy."""
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        last_tick = session.scalar(select(func.max(SchedulerHeartbeat.last_tick_at)))
        outages = session.execute(
            select(DeliveryIncident.channel, DeliveryIncident.target, DeliveryIncident.opened_at)
            .where(
                DeliveryIncident.kind == "channel_down",
                DeliveryIncident.confirmed_at.is_not(None),
                DeliveryIncident.closed_at.is_(None),
            )
            .order_by(DeliveryIncident.opened_at)
        ).all()
    except DBAPIError as exc:
        session.rollback()
        error = type(exc.orig or exc).__name__
        return {"status": "unhealthy", "database": "unreachable", "error": error}, 503
    scheduler: dict[str, Any] = {"last_tick_at": last_tick.isoformat() if last_tick else None}
    if last_tick is None:
        scheduler["status"] = "never"
    else:
        age = (request_now() - last_tick).total_seconds()
        scheduler["age_seconds"] = round(age)
        fresh = age <= current_app.config["SCHEDULER_STALE_SECONDS"]
        scheduler["status"] = "ok" if fresh else "stale"
    healthy = scheduler["status"] == "ok"
    # A delivery channel that is down is reported, not made a 503: the web and the
    # scheduler are fine and keep retrying; a load balancer must not take them away.
    delivery = {
        "status": "incident" if outages else "ok",
        "channels_down": [
            {"channel": o.channel, "target": o.target, "since": o.opened_at.isoformat()}
            for o in outages
        ],
    }
    body = {
        "status": "ok" if healthy else "unhealthy",
        "database": "ok",
        "scheduler": scheduler,
        "delivery": delivery,
    }
    return body, 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
