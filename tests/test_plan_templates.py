"""Plan templates load from schedules/ and broken ones fail naming file, activity and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tracker.core.config import REPO_ROOT
from tracker.plans.templates import TemplateError, load_directory, load_file
from tracker.plans.warning_signs import load_signs, severity, signs_path

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
    # Six weeks at least, then until the six-week visit (days 40-44) says it can end.
    assert (lifting.start_day, lifting.end_day) == (0, 44)
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


# Consistent days (issue 18): a restriction's `excludes` and an appointment's `releases`.


def _days_of(activity) -> set[int]:
    if activity.kind == "appointment":
        return set(range(activity.start_day, activity.end_day + 1))
    return {n for n in range(activity.end_day + 1) if activity.occurs_on(n)}


@pytest.mark.parametrize("template_id", ["kyphoplasty", "vertebroplasty"])
def test_no_shipped_day_tells_the_patient_two_contradictory_things(template_id):
    template = load_directory(SCHEDULES)[template_id]
    bed_rest = template.activity("bed_rest")
    # Bed rest ("get up only for the bathroom") never shares a day with a walk or with
    # going back to activities: walking starts the day after bed rest ends.
    assert {"walk", "light_activity"} <= set(bed_rest.excludes)
    for restriction in template.activities:
        for key in restriction.excludes:
            other = template.activity(key)
            assert not _days_of(restriction) & _days_of(other), (restriction.key, key)
    assert template.activity("walk").start_day == bed_rest.end_day + 1 == 2
    # The six-week visit decides on the lifting limit: the limit is shown on every day of
    # the visit's window, never gone before the visit that lifts it.
    visit = template.activity("followup_six_weeks")
    assert "no_heavy_lifting" in visit.releases
    lifting = template.activity("no_heavy_lifting")
    assert _days_of(visit) <= _days_of(lifting)
    assert "until" in lifting.instructions and "six-week visit" in lifting.instructions


def _excluded_walk_on_day_1(d):
    _activity(d, "walk")["start_day"] = 1


def _excluded_activity_unknown(d):
    _activity(d, "bed_rest")["excludes"] = ["dance"]


def _excludes_on_a_task(d):
    _activity(d, "walk")["excludes"] = ["bed_rest"]


def _released_too_early(d):
    _activity(d, "no_heavy_lifting")["end_day"] = 41


def _releases_a_task(d):
    _activity(d, "followup_six_weeks")["releases"] = ["walk"]


def _confirm_not_a_note(d):
    _activity(d, "walk")["confirm"] = 7


@pytest.mark.parametrize(
    ("breaker", "activity", "field", "words"),
    [
        (
            _excluded_walk_on_day_1,
            "bed_rest",
            "excludes",
            "'bed_rest' (Rest in bed) excludes 'walk' (Take a short walk), but both are on day 1",
        ),
        (_excluded_activity_unknown, "bed_rest", "excludes", "not 'dance'"),
        (_excludes_on_a_task, "walk", "excludes", "only a restriction"),
        (
            _released_too_early,
            "followup_six_weeks",
            "releases",
            "releases 'no_heavy_lifting' (No heavy lifting), but that restriction ends on "
            "day 41, before the visit's window ends: it is missing on days 42-44",
        ),
        (_releases_a_task, "followup_six_weeks", "releases", "must name a restriction"),
        (_confirm_not_a_note, "walk", "confirm", "must be true or a note for the clinic"),
    ],
)
def test_a_contradictory_template_is_refused_naming_both_activities_and_the_days(
    tmp_path, breaker, activity, field, words
):
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


def test_a_longer_overlap_names_every_shared_day(tmp_path):
    data = _valid()
    _activity(data, "bed_rest")["end_day"] = 4
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError, match=r"both are on days 2-4"):
        load_file(path)


# Vertebroplasty's own content (issue 18): the sources differ, so the plan does.

# Source pages about kyphoplasty only (shared/seeds/README.md): 002, 004, 000, 003 and
# BayCare's post-kyphoplasty instructions. Anchor Healthcare (001) covers both procedures.
KYPHOPLASTY_ONLY = {"spine-practice", "mtvir", "what-is", "las-vegas", "baycare"}
COVERS_VERTEBROPLASTY = {"anchor", "spec"}


def test_vertebroplasty_says_what_differs_from_kyphoplasty():
    templates = load_directory(SCHEDULES)
    kypho, verte = templates["kyphoplasty"], templates["vertebroplasty"]
    assert "balloon" in kypho.activity("about_procedure").instructions
    about = verte.activity("about_procedure")
    assert "No balloon" in about.instructions and about.source == ("anchor",)
    assert "vertebroplasty" in verte.sources["anchor"].lower()
    # Text or sources differ where the pages do (Anchor's wording; a kyphoplasty page's
    # fact kept, cited as such and marked for the clinic).
    shared = {a.key for a in kypho.activities}
    pairs = [(a, kypho.activity(a.key)) for a in verte.activities if a.key in shared]
    different = {
        v.key for v, k in pairs if (v.instructions, v.source) != (k.instructions, k.source)
    }
    assert {"about_procedure", "bed_rest", "light_activity", "bone_health"} <= different
    assert not any(k.confirm for k in kypho.activities)


def test_every_vertebroplasty_line_cites_a_vertebroplasty_source_or_asks_the_clinic():
    verte = load_directory(SCHEDULES)["vertebroplasty"]
    for key in KYPHOPLASTY_ONLY & set(verte.sources):
        assert "kyphoplasty only" in verte.sources[key], key
    for activity in verte.activities:
        cited = set(activity.source)
        if cited & KYPHOPLASTY_ONLY or not cited & COVERS_VERTEBROPLASTY:
            assert activity.confirm, f"{activity.key} rests on a kyphoplasty page unmarked"
    # The review sheet lists what the clinic must confirm; the anchor-only lines are not on it.
    to_confirm = {a.key for a in verte.to_confirm()}
    assert {"bed_rest", "ice_needle_site", "walk", "no_heavy_lifting"} <= to_confirm
    assert not {"about_procedure", "light_activity", "bone_health"} & to_confirm


def test_a_confirm_note_is_kept_on_the_plan_copy_and_never_in_patient_text():
    verte = load_directory(SCHEDULES)["vertebroplasty"]
    walk = verte.activity("walk")
    copied = type(walk).from_dict(walk.to_dict())
    assert copied == walk and copied.confirm
    assert copied.confirm not in copied.instructions


def test_confirm_and_needs_source_may_be_true_and_go_on_the_review_sheet(tmp_path):
    data = _valid()
    _activity(data, "walk")["confirm"] = True
    _activity(data, "ice_needle_site")["needs_source"] = "Where are the 20 minutes from?"
    template = load_file(_write(tmp_path, data))
    assert template.activity("walk").confirm == "Confirm this line for this procedure."
    assert [a.key for a in template.to_confirm()] == ["ice_needle_site", "walk"]


def test_a_stored_plan_from_before_these_fields_still_reads():
    data = load_directory(SCHEDULES)["kyphoplasty"].activity("bed_rest").to_dict()
    for name in ("excludes", "releases", "confirm", "needs_source"):
        del data[name]
    old = type(load_directory(SCHEDULES)["kyphoplasty"].activity("bed_rest")).from_dict(data)
    assert (old.excludes, old.releases, old.confirm, old.needs_source) == ((), (), None, None)
