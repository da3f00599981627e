"""Keep secrets out of logs: personal-link tokens appear in request paths."""

from __future__ import annotations

import logging
import re

_LINK = re.compile(r"/p/[A-Za-z0-9_\-]{8,}")
REDACTED = "/p/[redacted]"


def redact(text: str) -> str:
    return _LINK.sub(REDACTED, text)


class RedactLinks(logging.Filter):
    """Rewrites a record's message so no personal-link token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Loggers that print request lines: the development server's and gunicorn's access log.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


# SQLAlchemy logs result rows (pain notes, names) at DEBUG and statements at INFO whenever its
# logger is enabled, which a root logger at DEBUG does implicitly. Pinned to WARNING unless an
# operator sets it on purpose; statement parameters are hidden in any case (db.make_engine).
QUIET_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool")


def install() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinks) for f in logger.filters):
            logger.addFilter(RedactLinks())
