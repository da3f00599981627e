"""Every patient-facing text reads at grade 6 or below (Flesch-Kincaid, measured by textstat).

Patients are often over 65, on a phone and possibly on opioids (SPEC section 1); health
literacy guidance asks for patient materials at about a sixth-grade level. The files are read
as they are on disk, so a text someone else rewrites is measured too.

Flesch-Kincaid is a formula for passages: a two-word label such as a title scores anything
from -3 to 20 on its own. So a title is measured as the patient reads it, together with the
text it heads (an activity's title and instructions, a warning sign's label and question);
every whole sentence or paragraph is also measured on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import textstat
import yaml

from tracker.core.config import REPO_ROOT
from tracker.plans.templates import load_directory

SCHEDULES = REPO_ROOT / "schedules"
MAX_GRADE = 6.0

# Fields of the check files written for the clinic, not shown to patients; a subtree under
# one of these names is skipped whole (e.g. `sources`).
CLINIC_ONLY = {"id", "version", "key", "action", "check_in", "kind", "replaced_by", "why"}
CLINIC_ONLY_PARTS = ("source", "review", "confirm", "note", "comment")
IDENTIFIER = re.compile(r"[a-z0-9_]+")
# Texts in other languages (plans/translations.py): an English formula does not measure them.
OTHER_LANGUAGES = {"translations"}


def grade(text: str) -> float:
    return textstat.flesch_kincaid_grade(" ".join(text.split()))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1] in ".?!" else text + "."


def _is_clinic_only(name: str) -> bool:
    return name in CLINIC_ONLY or any(part in name for part in CLINIC_ONLY_PARTS)


def _check_texts(node, where: str):
    """(where, text) for each item of a check file: its patient-facing strings joined as
    one passage, then each whole sentence among them on its own."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _check_texts(item, f"{where}[{index}]")
        return
    if not isinstance(node, dict):
        return
    strings: list[str] = []
    for name, value in node.items():
        if _is_clinic_only(str(name)) or name in OTHER_LANGUAGES:
            continue
        values = value if isinstance(value, list) else [value]
        own = [v for v in values if isinstance(v, str) and not IDENTIFIER.fullmatch(v.strip())]
        strings += own
        for text in own:
            if text.strip()[-1:] in (".", "?", "!"):
                yield f"{where}.{name}", text
        yield from _check_texts(
            [v for v in values if isinstance(v, dict | list)], f"{where}.{name}"
        )
    if len(strings) > 1:
        yield f"{where} (read together)", " ".join(_sentence(s) for s in strings)


def _template_texts():
    for template in load_directory(SCHEDULES).values():
        for activity in template.activities:
            where = f"{Path(template.path).name}: {activity.key}"
            yield where, activity.instructions
            shown = f"{_sentence(activity.title)} {activity.instructions}"
            yield f"{where} (title and instructions)", shown


def _checks_texts():
    for path in sorted((SCHEDULES / "checks").glob("*.yaml")):
        yield from _check_texts(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)


def test_the_measure_tells_plain_words_from_hard_ones():
    # The physical therapy text before issue 18 read at grade 11.
    hard = (
        "After your first follow-up visit, your doctor may suggest physical therapy to "
        "strengthen your back and help you move more easily."
    )
    assert grade(hard) > 10
    assert grade("Take a short walk. Walk a little longer each day as you feel able.") < 3


def test_every_template_text_reads_at_grade_6_or_below():
    texts = list(_template_texts())
    assert len(texts) >= 40
    too_hard = {where: round(grade(text), 1) for where, text in texts if grade(text) > MAX_GRADE}
    assert not too_hard, f"above grade {MAX_GRADE}: {too_hard}"


def test_every_check_question_and_guidance_reads_at_grade_6_or_below():
    texts = list(_checks_texts())
    assert any("warning_signs.yaml" in where for where, _ in texts)
    assert any("severe_pain.yaml" in where for where, _ in texts)
    too_hard = {where: round(grade(text), 1) for where, text in texts if grade(text) > MAX_GRADE}
    assert not too_hard, f"above grade {MAX_GRADE}: {too_hard}"


@pytest.mark.parametrize(
    ("name", "patient_facing"),
    [("question", True), ("label", True), ("steps", True), ("sources", False), ("why", False)],
)
def test_clinic_only_fields_are_left_out(name, patient_facing):
    assert _is_clinic_only(name) is not patient_facing
