"""The warning-signs check: questions from schedules/checks/warning_signs.yaml, and triage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tracker.plan_templates import TemplateError

ACTIONS = ("call_911", "call_team")
# Most serious first: the advice shown is the most serious any answer calls for.
SEVERITY_ORDER = ("call_911", "call_team", "none")


@dataclass(frozen=True)
class WarningSign:
    key: str
    question: str
    action: str


@cache
def load_signs(path: str) -> tuple[WarningSign, ...]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    signs = raw.get("signs") if isinstance(raw, dict) else None
    if not isinstance(signs, list) or not signs:
        raise TemplateError(path, "must have a non-empty list of signs", None, "signs")
    result, seen = [], set()
    for item in signs:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            raise TemplateError(path, "each sign needs a key", None, "key")
        if key in seen:
            raise TemplateError(path, "duplicate key", key, "key")
        if not isinstance(item.get("question"), str) or not item["question"].strip():
            raise TemplateError(path, "is missing", key, "question")
        if item.get("action") not in ACTIONS:
            raise TemplateError(path, f"must be one of {', '.join(ACTIONS)}", key, "action")
        seen.add(key)
        result.append(WarningSign(key, item["question"].strip(), item["action"]))
    return tuple(result)


def signs_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "checks" / "warning_signs.yaml")


def severity(signs: tuple[WarningSign, ...], answers: dict[str, bool]) -> str:
    """The most serious action any "yes" answer calls for, or "none"."""
    actions = {s.action for s in signs if answers.get(s.key)}
    return next(level for level in SEVERITY_ORDER if level in actions or level == "none")
