"""Input rules enforced once, for every form, every stored value and every CLI argument.

See docs/security.md, "Input rules". In short:

- **Control characters** (Unicode category Cc -- C0, DEL and C1, NUL included -- and the line
  and paragraph separators U+2028/U+2029) are refused in every submitted form field and in
  every command-line argument, before any view or command runs: a 400 page (or a one-line
  CLI error) and nothing stored. Only the multi-line fields in ``MULTILINE_FIELDS`` may
  hold tab, line feed and carriage return. PostgreSQL cannot store NUL at all; the others
  forge log lines, hide text in terminals, or split headers.
- **Stored text fits its column**: before every flush of the app's sessions (web, CLI,
  scheduler alike), each new or changed ``String(n)`` value must have at most ``n``
  characters and no NUL, and a name (clinic, user, patient, on-call contact) no control
  characters at all. SQLite would store an over-long value that PostgreSQL refuses; this
  makes both refuse it the same way (``InputRefused``: a 400 on the web, exit 2 in the CLI).
- **Forwarded addresses** (``X-Forwarded-For`` behind ``PROXY_FIX``) are used only when they
  are a real IP address that fits the audit column; otherwise the proxy's own address is.
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, InstrumentedAttribute, Session, sessionmaker

from tracker.core import models
from tracker.web.error_pages import error_page

# Every control character (Cc), plus the Unicode line and paragraph separators, which
# Python's str.splitlines() and many log viewers treat as line breaks too.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, less tab, line feed and carriage return (browsers send line breaks as CRLF).
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

# Form fields that are multi-line text: the pain note, the care team's notes (plan changes,
# alerts), the clinic's severe-pain guidance (a <textarea>) and a text message's body as an
# SMS gateway posts it (tracker/texting: patients type line breaks too).
MULTILINE_FIELDS = frozenset({"note", "severe_pain_guidance", "Body"})

CONTROL_CHARACTER_MESSAGE = (
    "Something you sent contains an invisible control character (such as a NUL byte) "
    "that cannot be saved. Nothing was saved. Please type it again and resend."
)

# Columns that hold a name: shown on pages, in messages and in log lines, so never with
# a control character (a line break in a clinic's name forges log lines).
NAME_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    models.Clinic.name,
    models.User.name,
    models.Patient.name,
    models.OnCallContact.name,
)


class InputRefused(ValueError):
    """A value that breaks an input rule; ``field`` names it, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True if ``value`` holds a control character (tab and line breaks allowed if
    ``multiline``)."""
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(value) is not None


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The declared length of a ``String(n)`` model column, e.g. ``Clinic.name`` -> 200."""
    length = getattr(column.property.columns[0].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no declared length")
    return length


def check_name(value: str | None, column: InstrumentedAttribute[Any], *, field: str) -> str:
    """``value`` stripped, if it is a usable name for ``column``; InputRefused otherwise.

    The one check of names for the web and the CLI: present, at most as long as the column,
    and without control characters.
    """
    name = (value or "").strip()
    length = column_length(column)
    if not name or len(name) > length or has_control_characters(name):
        raise InputRefused(
            field, f"must be 1 to {length} characters, on one line, without control characters"
        )
    return name


# --- forms ---------------------------------------------------------------------------------


def refused_form_field() -> str | None:
    """The name of the first submitted form field that breaks the control-character rule."""
    for key, values in request.form.lists():
        multiline = key in MULTILINE_FIELDS
        if has_control_characters(key) or any(
            has_control_characters(value, multiline=multiline) for value in values
        ):
            return key
    return None


def refuse_control_characters() -> Any:
    """``before_request``: a 400 for any form that carries a control character."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if refused_form_field() is None:
        return None
    return error_page(400, CONTROL_CHARACTER_MESSAGE)


# --- stored values: every flush -------------------------------------------------------------

# Per mapped class: (attribute key, column length or None, is a name) for its text columns.
_TextColumns = tuple[tuple[str, int | None, bool], ...]
_text_columns: dict[type, _TextColumns] = {}
_NAME_KEYS = {(c.class_, c.key) for c in NAME_COLUMNS}


def _columns_of(cls: type) -> _TextColumns:
    found = _text_columns.get(cls)
    if found is None:
        columns = []
        for prop in sa_inspect(cls).column_attrs:
            if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
                continue
            kind = prop.columns[0].type
            if isinstance(kind, String):  # Text and Unicode too
                is_name = (cls, prop.key) in _NAME_KEYS
                columns.append((prop.key, kind.length, is_name))
        found = _text_columns[cls] = tuple(columns)
    return found


def check_stored_text(objects: Iterable[Any], *, changed_only: bool) -> None:
    """InputRefused for the first text value that does not fit its column."""
    for obj in objects:
        state = sa_inspect(obj)
        loaded = state.dict
        changed = state.committed_state if changed_only else loaded
        for key, length, is_name in _columns_of(type(obj)):
            if key not in changed:
                continue
            value = loaded.get(key)
            if not isinstance(value, str):
                continue
            label = key.replace("_", " ")
            if length is not None and len(value) > length:
                raise InputRefused(
                    key, f"The {label} must be at most {length} characters. Nothing was saved."
                )
            if "\x00" in value or (is_name and has_control_characters(value)):
                raise InputRefused(
                    key,
                    f"The {label} must not contain control characters. Nothing was saved.",
                )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    check_stored_text(session.new, changed_only=False)
    check_stored_text(session.dirty, changed_only=True)


# The factories already guarded. Not ``event.contains``: SQLAlchemy's event registry keys
# targets by ``id()``, so a new factory that reuses a collected one's id can read as
# guarded while it is not (sqlalchemy/sqlalchemy#4794); a weak set holds the object itself.
_guarded: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def guard_sessions(factory: sessionmaker[Session]) -> None:
    """Check stored text before every flush of sessions made by ``factory``."""
    if factory not in _guarded:
        event.listen(factory, "before_flush", _before_flush)
        _guarded.add(factory)


# --- forwarded addresses --------------------------------------------------------------------

REMOTE_ADDR_MAX_LENGTH = column_length(models.AuditEvent.remote_addr)


def is_address(value: str | None) -> bool:
    if not value or len(value) > REMOTE_ADDR_MAX_LENGTH:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class BoundRemoteAddr:
    """WSGI middleware inside ``ProxyFix``: keeps the forwarded client address only if it is
    an IP address that fits the audit column; else the proxy's own (the peer) address."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not is_address(environ.get("REMOTE_ADDR")):
            peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
            environ["REMOTE_ADDR"] = peer[:REMOTE_ADDR_MAX_LENGTH] if peer else peer
        return self.app(environ, start_response)


# --- command-line arguments -----------------------------------------------------------------


def refused_argument(args: Iterable[str]) -> str | None:
    """The first command-line argument with a control character, shown safely (escaped)."""
    for arg in args:
        if has_control_characters(arg):
            shown = arg if len(arg) <= 40 else arg[:40] + "..."
            return shown.encode("unicode_escape").decode("ascii")
    return None


# --- the app --------------------------------------------------------------------------------


def _refused(exc: InputRefused) -> Response:
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    return error_page(400, exc.message)  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """After the other extensions, so a bad CSRF token answers first. A refused form never
    reaches its view: a refused sign-in checks no password (and is not counted as a failed
    one, nor does it lift a pause)."""
    app.before_request(refuse_control_characters)
    app.register_error_handler(InputRefused, _refused)
    guard_sessions(app.extensions["tracker.sessionmaker"])
