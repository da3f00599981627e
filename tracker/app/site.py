"""Pages that belong to no one area: the landing page, the health check and the icon; and
the language each page is written in (Flask-Babel's locale)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask_babel import Babel, get_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import DEFAULT_LANGUAGE, TRANSLATIONS_DIR, language_or_default
from tracker.core.models import LANGUAGES, DeliveryIncident, SchedulerHeartbeat

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


# --- the language of a page ------------------------------------------------------------------

# The care team's blueprints (tracker/care), filled in once all blueprints are registered.
_ENGLISH_ONLY = "tracker.english_only_blueprints"


def page_language() -> str:
    """Flask-Babel's locale selector. The care team's pages are in the clinic's language
    (English), whatever the browser asks for. A signed-in patient's (or caregiver's) pages are
    in their chosen language (``g.language``, set by the session check,
    tracker/patient/session.py). Pages before sign-in (a link that does not work, signed
    out) follow the browser's Accept-Language among the languages the product speaks."""
    if request.blueprint in current_app.extensions.get(_ENGLISH_ONLY, ()):
        return DEFAULT_LANGUAGE
    chosen = getattr(g, "language", None)
    if chosen in LANGUAGES:
        return chosen
    return language_or_default(request.accept_languages.best_match(LANGUAGES))


def current_language() -> str:
    """The language of the page being written (``page_language``, or English outside a
    request): what the patient pages pass to time_format and templates show in ``lang``."""
    locale = get_locale()
    return language_or_default(locale.language if locale is not None else None)


def init_babel(app: Flask) -> None:
    """Flask-Babel on the one catalogue (tracker/core/languages.py). Called after every
    blueprint is registered: the care team's are the English-only ones."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.extensions[_ENGLISH_ONLY] = frozenset(
        name for name, blueprint in app.blueprints.items()
        if blueprint.import_name.startswith("tracker.care.")
    )
    Babel(app, locale_selector=page_language)
    app.add_template_global(current_language, "current_language")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
