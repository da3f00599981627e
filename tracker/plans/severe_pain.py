"""What a patient is told to do after a severe pain score: schedules/checks/severe_pain.yaml,
validated on load (like warning_signs.py), or the clinic's own text instead of its steps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tracker.core.models import Clinic
from tracker.plans.templates import TemplateError

TEXT_FIELDS = ("title", "source", "clinician_review")
LIST_FIELDS = ("steps", "call_911")


@dataclass(frozen=True)
class SeverePainGuidance:
    title: str
    steps: tuple[str, ...]
    call_911: tuple[str, ...]
    source: str
    clinician_review: str


def _text(path: str, value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(path, "must be a non-empty text", None, field)
    return " ".join(value.split())


@cache
def load_guidance(path: str) -> SeverePainGuidance:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(path, "is not valid YAML") from exc
    except OSError as exc:
        raise TemplateError(path, f"cannot be read ({exc.strerror})") from exc
    if not isinstance(raw, dict):
        raise TemplateError(path, "must be a mapping of fields")
    if raw.get("id") != "severe_pain":
        raise TemplateError(path, "must be 'severe_pain'", None, "id")
    texts = {name: _text(path, raw.get(name), name) for name in TEXT_FIELDS}
    lists = {}
    for name in LIST_FIELDS:
        items = raw.get(name)
        if not isinstance(items, list) or not items:
            raise TemplateError(path, "must be a non-empty list of texts", None, name)
        lists[name] = tuple(_text(path, item, name) for item in items)
    return SeverePainGuidance(**texts, **lists)


def guidance_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "checks" / "severe_pain.yaml")


def for_clinic(clinic: Clinic, default: SeverePainGuidance) -> SeverePainGuidance:
    """``default`` with the clinic's own steps (one a line) and source, when it has them."""
    own = [line.strip() for line in (clinic.severe_pain_guidance or "").splitlines()]
    steps = tuple(line for line in own if line)
    if not steps:
        return default
    return SeverePainGuidance(
        title=default.title,
        steps=steps,
        call_911=default.call_911,
        source=clinic.severe_pain_guidance_source or f"{clinic.name}'s own text",
        clinician_review="Written by the clinic.",
    )
