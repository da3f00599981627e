"""Reading the fields of a content file in schedules/ (plan templates, questionnaires), with
errors that name the file, the part (an activity, an item) and the field.

One checker for every content file, so each says "is missing", "must be non-empty text" or
"must be a whole number" the same way; each loader passes its own ``ContentError`` subclass.
"""

from __future__ import annotations

from typing import Any, NoReturn

from tracker.plans.translations import Translation, TranslationError, read_translations

# A day of a plan, or of a questionnaire's time points, counted from the procedure.
MAX_DAY = 365


class ContentError(ValueError):
    """A content file that cannot be used: ``path: <part kind> 'x': field 'y': message``.
    Each kind of file has its own subclass, naming what its parts are (an activity, an item)."""

    part_kind = "part"

    def __init__(
        self, path: str, message: str, part: str | None = None, field_name: str | None = None
    ) -> None:
        where = path
        if part is not None:
            where += f": {self.part_kind} {part!r}"
        if field_name is not None:
            where += f": field {field_name!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.part = part
        self.field = field_name


class FieldChecker:
    """Reads one file's mapping, raising ``error`` at the first problem. Missing or stale
    translations are not refused: they are kept in ``problems`` (the English is shown)."""

    def __init__(self, path: str, error: type[ContentError]) -> None:
        self.path = path
        self.error = error
        self.problems: list[str] = []

    def fail(self, message: str, part: str | None = None, name: str | None = None) -> NoReturn:
        raise self.error(self.path, message, part, name)

    def translations(
        self, data: dict, fields: tuple[str, ...], where: str, part: str | None = None
    ) -> dict[str, Translation]:
        try:
            found, problems = read_translations(data, fields, where)
        except TranslationError as exc:
            self.fail(exc.message, part, "translations")
        self.problems.extend(problems)
        return found

    def text(
        self, data: dict, name: str, part: str | None = None, required: bool = True
    ) -> str | None:
        """The text, with its runs of whitespace made single spaces; None when it is absent
        and not required."""
        value = data.get(name)
        if value is None:
            if required:
                self.fail("is missing", part, name)
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail("must be non-empty text", part, name)
        return " ".join(value.split())

    def integer(
        self, data: dict, name: str, part: str | None = None, low: int = 0, high: int = MAX_DAY
    ) -> int:
        value = data.get(name)
        if value is None:
            self.fail("is missing", part, name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"must be a whole number, not {value!r}", part, name)
        if not low <= value <= high:
            self.fail(f"must be between {low} and {high}, not {value}", part, name)
        return value

    def flag(
        self, data: dict, name: str, part: str | None = None, default: bool | None = None
    ) -> bool:
        """true or false; ``default`` when absent (None: it must be there)."""
        value = data.get(name, default)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, not {value!r}", part, name)
        return value

    def mapping(
        self, value: Any, message: str, part: str | None = None, name: str | None = None
    ) -> dict:
        if not isinstance(value, dict):
            self.fail(message, part, name)
        return value
