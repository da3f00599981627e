"""Error pages: plain, kind, and never a stack trace. A lost database gives a 503."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def N_(text: str) -> str:  # gettext's name for "extract now, translate later"
    """Marks ``text`` for the catalogue; ``error_page`` translates it for the page."""
    return text


# The page is in the reader's language (a patient's Spanish, the care team's English); the
# JSON answer stays in English for the programs that read it.
MESSAGES = {
    400: (N_("Something in the form was not right"), N_("Please go back and try again.")),
    403: (N_("Not allowed"), N_("You do not have access to this page.")),
    404: (N_("Page not found"), N_("This page does not exist, or you do not have access to it.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    413: (N_("Too much data"), N_("What you sent is too large. Please shorten it and try again.")),
    429: (N_("Too many attempts"), N_("Please wait a few minutes and try again.")),
    500: (
        N_("Something went wrong"),
        N_("Please try again in a moment. If it keeps happening, call your clinic."),
    ),
    503: (
        N_("Temporarily unavailable"),
        N_(
            "The service cannot reach its database right now. "
            "Please try again in a few minutes. If you feel unwell, call your care team."
        ),
    ),
}


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except DBAPIError:
            session.invalidate()


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    title, text = MESSAGES.get(status, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "detail": detail or text}, status  # type: ignore[return-value]
    words = gettext(detail or text)
    return render_template("error.html", status=status, title=gettext(title), text=words), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return error_page(
            400,
            N_(
                "This form has expired or was not sent from this site. "
                "Please reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        if exc.code is None or exc.code < 400:
            return exc  # type: ignore[return-value]
        return error_page(exc.code)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def database_unreachable(exc: OperationalError | PoolTimeoutError) -> tuple[str, int]:
        # The pool re-checks connections (pre-ping), so service resumes by itself when the
        # database returns; nothing to restart. A silent database gets here too, within
        # the bounds of tracker/core/db.py DatabaseTimeouts (docs/operations.md), and so does a
        # request that waited that long for a free pooled connection.
        orig = getattr(exc, "orig", None)
        log.warning("database unreachable: %s", type(orig or exc).__name__)
        _rollback()
        return error_page(503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return error_page(500)
