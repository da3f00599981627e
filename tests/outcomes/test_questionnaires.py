"""Questionnaires as data: validation on load, and scoring by the published rules."""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path

import pytest
import textstat
import yaml

from tracker.core.config import REPO_ROOT
from tracker.outcomes.questionnaires import (
    AnswerError,
    QuestionnaireError,
    load_directory,
    load_file,
    parse_questionnaire,
)

# A synthetic instrument with the Oswestry index's SHAPE (10 sections scored 0-5; score =
# sum / (5 x sections answered) x 100; valid with at most one section missing). The words are
# placeholders written for this test, not the ODI's text.
ODI_SHAPED = {
    "id": "synthetic_odi",
    "version": 1,
    "title": "Synthetic ten-section instrument",
    "intro": "Test only.",
    "procedures": ["kyphoplasty"],
    "source": "Test fixture written for this project.",
    "written_for_this_project": True,
    "higher_is_worse": True,
    "window_days": 7,
    "time_points": [{"day": 0, "label": "Start"}, {"day": 42, "label": "6 weeks"}],
    "scoring": {"method": "percent_of_answered", "max_missing": 1},
    "bands": [
        {"up_to": 20, "label": "minimal"},
        {"up_to": 40, "label": "moderate"},
        {"up_to": 60, "label": "severe"},
        {"up_to": 80, "label": "crippled"},
        {"up_to": 100, "label": "bed-bound"},
    ],
    "items": [
        {
            "key": f"section{n}",
            "text": f"Section {n}",
            "options": [{"value": v, "text": f"level {v}"} for v in range(6)],
        }
        for n in range(1, 11)
    ],
}
# RMDQ's shape: 24 yes/no items, score = number of "yes" (0-24).
RMDQ_SHAPED = {
    **copy.deepcopy(ODI_SHAPED),
    "id": "synthetic_rmdq",
    "scoring": {"method": "sum", "max_missing": 0},
    "bands": [{"up_to": 12, "label": "lower"}, {"up_to": 24, "label": "higher"}],
    "items": [
        {
            "key": f"s{n}",
            "text": f"Statement {n}",
            "options": [{"value": 0, "text": "No"}, {"value": 1, "text": "Yes"}],
        }
        for n in range(1, 25)
    ],
}


def odi():
    return parse_questionnaire(copy.deepcopy(ODI_SHAPED), "synthetic_odi.yaml")


def test_it_scores_the_oswestry_rule_with_all_sections():
    answers = {
        f"section{n}": v for n, v in zip(range(1, 11), [1, 2, 3, 4, 5, 0, 1, 2, 3, 4], strict=True)
    }
    score = odi().score(answers)  # 25 / 50 x 100
    assert (score.value, score.answered, score.missing, score.band) == (50.0, 10, 0, "severe")


def test_it_scores_over_the_answered_sections_with_one_missing():
    answers = {f"section{n}": 3 for n in range(1, 10)}  # 27 / (5 x 9) x 100 = 60.0
    score = odi().score(answers)
    assert (score.value, score.missing, score.band) == (60.0, 1, "severe")
    answers["section1"] = 4  # 28 / 45 x 100 = 62.2
    assert odi().score(answers).value == 62.2


def test_it_refuses_to_score_two_missing_sections():
    answers = {f"section{n}": 3 for n in range(1, 9)}  # 8 answered: one more than allowed
    score = odi().score(answers)
    assert (score.value, score.band, score.missing) == (None, None, 2)
    answers["section9"] = None  # explicitly blank counts as missing too
    assert odi().score(answers).value is None


def test_band_edges_are_inclusive_at_the_top():
    q = odi()
    assert q.band_for(20.0) == "minimal"
    assert q.band_for(20.1) == "moderate"
    assert q.band_for(100.0) == "bed-bound"


def test_it_scores_a_sum_instrument():
    q = parse_questionnaire(copy.deepcopy(RMDQ_SHAPED), "synthetic_rmdq.yaml")
    answers = {f"s{n}": 1 if n <= 7 else 0 for n in range(1, 25)}
    assert (q.score(answers).value, q.score(answers).band) == (7.0, "lower")
    assert q.max_score == 24
    answers.pop("s1")
    assert q.score(answers).value is None  # max_missing 0


@pytest.mark.parametrize(
    ("answers", "item"),
    [({"section1": 6}, "section1"), ({"nope": 1}, "nope"), ({"section2": True}, "section2")],
)
def test_it_refuses_answers_that_do_not_fit(answers, item):
    with pytest.raises(AnswerError) as caught:
        odi().score(answers)
    assert caught.value.item == item


def broken(change) -> str:
    raw = copy.deepcopy(ODI_SHAPED)
    change(raw)
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(raw, "clinic/odi.yaml")
    return str(caught.value)


def test_load_errors_name_the_file_item_and_field():
    assert broken(lambda r: r.pop("title")) == "clinic/odi.yaml: field 'title': is missing"
    message = broken(lambda r: r["items"][2]["options"].append({"value": 1, "text": "again"}))
    assert message.startswith("clinic/odi.yaml: item 'section3': field 'options':")
    assert "value 1 is used twice" in message
    assert "max_missing" in broken(lambda r: r["scoring"].update(max_missing=10))
    assert "method must be one of" in broken(lambda r: r["scoring"].update(method="mean"))
    assert "highest possible score 100" in broken(lambda r: r["bands"].pop())
    assert "must be above the band before it" in broken(
        lambda r: r["bands"].insert(1, {"up_to": 10, "label": "x"})
    )
    assert "starts before the 7-day window" in broken(
        lambda r: r["time_points"].append({"day": 45, "label": "late"})
    )
    assert "'colour'" in broken(lambda r: r.update(colour="red"))
    assert "needs no licence" in broken(lambda r: r.update(licence="MAPI"))
    assert "duplicate key" in broken(lambda r: r["items"].append(copy.deepcopy(r["items"][0])))


def test_a_broken_file_is_refused_with_its_name(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nversion: [\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"broken\.yaml: is not valid YAML"):
        load_directory(tmp_path)
    raw = copy.deepcopy(ODI_SHAPED)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="must match the file name"):
        load_file(path)


def test_the_shipped_questionnaire_is_plain_and_marked_for_review():
    shipped = load_directory(REPO_ROOT / "schedules" / "questionnaires")
    q = shipped["daily_life"]
    assert q.written_for_this_project and q.licence is None
    assert "clinician" in q.clinician_review
    assert [t.day for t in q.time_points] == [0, 14, 42, 90]
    for text in [q.intro, q.title] + [
        i.text + " " + " ".join(o.text for o in i.options) for i in q.items
    ]:
        assert textstat.flesch_kincaid_grade(text) <= 6.0, text
    # None of the licensed instruments' wording (ODI section titles) is used.
    body = Path(q.path).read_text(encoding="utf-8").lower()
    for phrase in ("pain intensity", "personal care", "sex life", "social life", "travelling"):
        assert phrase not in body


@pytest.mark.parametrize(
    ("day_number", "point"),
    [(-1, None), (0, 0), (6, 0), (7, None), (13, None), (14, 14), (20, 14), (21, None)],
)
def test_time_point_windows_at_their_boundaries(day_number, point):
    q = load_directory(REPO_ROOT / "schedules" / "questionnaires")["daily_life"]
    procedure = date(2026, 11, 1)
    from datetime import timedelta

    found = q.open_time_point(procedure, procedure + timedelta(days=day_number))
    assert (found.day if found else None) == point


def test_a_broken_questionnaire_stops_the_app_from_starting(tmp_path, database_url):
    from tests.conftest import make_test_app

    schedules = tmp_path / "schedules"
    shutil.copytree(REPO_ROOT / "schedules", schedules)
    path = schedules / "questionnaires" / "daily_life.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["items"][0]["options"] = []
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(QuestionnaireError, match=r"daily_life\.yaml: item"):
        make_test_app(database_url, SCHEDULES_DIR=str(schedules))
