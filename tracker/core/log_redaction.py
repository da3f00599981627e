"""Keep secrets out of logs: personal-link tokens appear in request paths.

Every log record made in the process is redacted where it is made (a log record factory),
whichever logger makes it: its message with the arguments filled in, its traceback and its
stack. So an unhandled error on ``/p/<token>``, werkzeug's and gunicorn's access lines
(whose path, query and referer may carry a link) and any library's messages alike.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# The link's path, also percent-encoded (e.g. in a ``next=`` query parameter or a referer).
_LINK = re.compile(r"(?:/|%2[Ff])p(?:/|%2[Ff])[A-Za-z0-9_\-]{8,}")
REDACTED = "/p/[redacted]"


def redact(text: str) -> str:
    return _LINK.sub(REDACTED, text)


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so that no personal-link token reaches a handler."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: the handler reports it when it formats
        message = None
    if message is not None:
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        cleaned = redact(record.exc_text)
        if cleaned != record.exc_text:
            # The text is what formatters print; dropping exc_info keeps any formatter that
            # would format the exception itself from printing the token again.
            record.exc_text, record.exc_info = cleaned, None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactLinks(logging.Filter):
    """Redacts a record that did not come from the record factory (e.g. one unpickled from a
    socket); kept on the request loggers as a second line."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _redacting_factory(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacts_links = True  # type: ignore[attr-defined]
    return factory


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
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts_links", False):
        logging.setLogRecordFactory(_redacting_factory(current))
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinks) for f in logger.filters):
            logger.addFilter(RedactLinks())


# Control characters (and the Unicode line separators) as visible escapes, so a value can
# never break a log line in two or forge one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character written as an escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escape, text)
