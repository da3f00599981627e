"""Whole numbers from untrusted text: URL ids, page numbers, day counts.

``str.isdigit`` accepts characters such as "²" that ``int`` refuses, and Python ints have no
upper bound while database integers do; both turned bad input into 500s. Everything here
accepts ASCII digits only, within a stated range, and answers None (or a 404 for a URL)
otherwise.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import Map
from werkzeug.routing.converters import IntegerConverter

# PostgreSQL's integer: the type of every id column.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,12}")


def parse_whole_number(text: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """The number written in ``text`` (surrounding spaces allowed) if within low..high."""
    text = (text or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits within the id range; anything else is a 404."""

    regex = r"[0-9]{1,12}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    # Before any blueprint is registered: rules pick their converters when added.
    app.url_map.converters["int"] = DatabaseIdConverter
