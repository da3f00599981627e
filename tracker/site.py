"""Pages that belong to no one area: the landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from sqlalchemy import text

from tracker.db import get_session

bp = Blueprint("site", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> tuple[dict, int]:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:
        return {"database": "unreachable", "error": type(exc).__name__}, 503
    return {"database": "ok"}, 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
