"""Plan templates load from schedules/ and broken ones fail naming file, activity and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tracker.config import REPO_ROOT
from tracker.plan_templates import TemplateError, load_directory, load_file
from tracker.warning_signs import load_signs, severity, signs_path

SCHEDULES = REPO_ROOT / "schedules"


def test_it_ships_kyphoplasty_and_vertebroplasty():
    templates = load_directory(SCHEDULES)
    assert set(templates) >= {"kyphoplasty", "vertebroplasty"}
    kypho = templates["kyphoplasty"]
    assert kypho.procedures == ("kyphoplasty",)
    assert templates["vertebroplasty"].procedures == ("vertebroplasty",)
    bed_rest = kypho.activity("bed_rest")
    assert (bed_rest.kind, bed_rest.start_day, bed_rest.end_day) == ("restriction", 0, 1)
    lifting = kypho.activity("no_heavy_lifting")
    assert (lifting.start_day, lifting.end_day) == (0, 41)
    assert "10 pounds" in lifting.instructions
    ice = kypho.activity("ice_needle_site")
    assert ice.as_needed and (ice.start_day, ice.end_day) == (0, 3)
    assert "20 minutes" in ice.instructions
    assert kypho.activity("pain_score").check_in == "pain"
    first = kypho.activity("followup_first")
    assert (first.kind, first.start_day, first.end_day) == ("appointment", 10, 14)


def test_every_activity_names_a_known_source():
    for template in load_directory(SCHEDULES).values():
        for activity in template.activities:
            assert activity.source
            assert all(s in template.sources for s in activity.source)


def test_warning_signs_are_checked_daily_for_two_weeks_then_weekly():
    signs = load_directory(SCHEDULES)["kyphoplasty"].activity("warning_signs")
    days = [n for n in range(45) if signs.occurs_on(n)]
    assert days == [*range(14), 14, 21, 28, 35]


def _write(tmp_path: Path, data: dict, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _valid() -> dict:
    return yaml.safe_load((SCHEDULES / "kyphoplasty.yaml").read_text()) | {"id": "broken"}


def _activity(data: dict, key: str) -> dict:
    return next(a for a in data["activities"] if a["key"] == key)


def _break_kind(d):
    _activity(d, "walk")["kind"] = "dance"


def _break_end(d):
    _activity(d, "walk")["end_day"] = 0


def _break_range(d):
    _activity(d, "walk")["end_day"] = 400


def _break_duplicate(d):
    _activity(d, "ice_needle_site")["key"] = "walk"


def _break_title(d):
    del _activity(d, "walk")["title"]


def _break_day_type(d):
    _activity(d, "walk")["start_day"] = "tomorrow"


def _break_source(d):
    _activity(d, "walk")["source"] = ["nowhere"]


def _break_window(d):
    del _activity(d, "followup_first")["window"]


@pytest.mark.parametrize(
    ("breaker", "activity", "field", "words"),
    [
        (_break_kind, "walk", "kind", "unknown kind 'dance'"),
        (_break_end, "walk", "end_day", "before start_day"),
        (_break_range, "walk", "end_day", "between 0 and 44"),
        (_break_duplicate, "walk", "key", "duplicate key"),
        (_break_title, "walk", "title", "is missing"),
        (_break_day_type, "walk", "start_day", "whole number"),
        (_break_source, "walk", "source", "unknown source"),
        (_break_window, "followup_first", "window", "needs a window"),
    ],
)
def test_a_broken_template_names_file_activity_and_field(tmp_path, breaker, activity, field, words):
    data = _valid()
    breaker(data)
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f"activity {activity!r}" in message
    assert f"field {field!r}" in message
    assert words in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\nactivities: [\n  - key: x\n")
    with pytest.raises(TemplateError, match=r"bad.yaml: is not valid YAML at line \d+"):
        load_file(path)


def test_the_id_must_match_the_file_name(tmp_path):
    path = _write(tmp_path, _valid(), "other.yaml")
    with pytest.raises(TemplateError, match="must match the file name"):
        load_file(path)


def test_a_broken_file_stops_the_app_from_starting(tmp_path, database_url):
    from tests.conftest import make_test_app

    data = _valid()
    _break_kind(data)
    _write(tmp_path, data)
    with pytest.raises(TemplateError, match=r"broken\.yaml: activity .walk."):
        make_test_app(database_url, SCHEDULES_DIR=str(tmp_path))


def test_warning_sign_severity_is_the_most_serious_answer():
    signs = load_signs(signs_path(str(SCHEDULES)))
    assert severity(signs, {}) == "none"
    assert severity(signs, {s.key: False for s in signs}) == "none"
    assert severity(signs, {"fever": True}) == "call_team"
    assert severity(signs, {"fever": True, "chest_pain": True}) == "call_911"
    assert {s.key for s in signs if s.action == "call_911"} == {
        "chest_pain",
        "shortness_of_breath",
        "bladder_bowel_control",
        "leg_weakness",
    }
