"""The warning-signs questions: worded to be answered right the first time, every action
with its source, and the keys stored answers are read by (issue 18)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import textstat
import yaml
from sqlalchemy import select

from tests.patient.conftest import post_form, text_of
from tracker.core.models import Alert, SymptomReport
from tracker.plans.warning_signs import (
    SignsError,
    load_signs,
    parse_signs,
    questions_by_key,
    safety_911,
    safety_lines,
    severity,
    signs_path,
)

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"
PATH = signs_path(str(SCHEDULES))
# The seeds pages and SPEC: every source names one of them.
CITABLE = ("SPEC section", "shared/seeds/00")


@pytest.fixture(scope="module")
def signs():
    return load_signs(PATH)


def raw() -> dict:
    return yaml.safe_load(Path(PATH).read_text(encoding="utf-8"))


def by_key(signs) -> dict:
    return {s.key: s for s in signs}


def test_the_file_is_version_2_and_keeps_the_keys_whose_meaning_is_the_same(signs):
    assert signs.version == 2
    assert [s.key for s in signs] == [
        "chest_pain",
        "shortness_of_breath",
        "bladder_bowel_control",
        "leg_weakness",
        "fever",
        "needle_site",
        "needle_site_bleeding",
        "numbness_tingling",
        "new_sudden_back_pain",
        "pain_as_bad_as_before",
        "allergic_reaction",
    ]
    # Changed meaning, new key; the old ones are kept so stored answers still read.
    assert {s.key: s.question for s in signs.retired} == {
        "sudden_back_pain": "Have you had sudden, severe back pain?",
        "pain_not_improving": "Is your pain not getting better?",
    }


def test_the_actions_are_those_of_spec_section_2(signs):
    actions = {s.key: s.action for s in signs}
    assert {k for k, a in actions.items() if a == "call_911"} == {
        "chest_pain",
        "shortness_of_breath",
        "bladder_bowel_control",
        "leg_weakness",
    }
    assert {k for k, a in actions.items() if a == "call_team"} == {
        "fever",
        "needle_site",
        "needle_site_bleeding",
        "numbness_tingling",
        "new_sudden_back_pain",
        "pain_as_bad_as_before",
        "allergic_reaction",
    }


def test_every_sign_cites_spec_or_a_seeds_page(signs):
    sources = raw()["sources"]
    for name, what in sources.items():
        assert any(mark in what for mark in CITABLE), name
    for sign in (*signs, *signs.retired):
        assert sign.source, sign.key
        assert set(sign.source) <= set(sources)


def test_an_action_no_source_gives_is_marked_for_a_clinician_to_confirm(signs):
    signs = by_key(signs)
    # The seeds name bleeding and allergic reactions as risks but say nothing of what to do.
    assert "spec" not in signs["needle_site_bleeding"].source
    assert "spec" not in signs["allergic_reaction"].source
    for sign in signs.values():
        if "spec" not in sign.source:
            assert sign.confirm, sign.key
    assert "bleeding" in signs["needle_site_bleeding"].question
    assert "rash" in signs["allergic_reaction"].question
    # Trouble breathing with an allergic reaction is already a 911 answer.
    assert "911" in signs["allergic_reaction"].confirm
    assert signs["shortness_of_breath"].action == "call_911"
    confirmed = {s.key for s in signs.values() if s.confirm}
    assert confirmed == {"needle_site_bleeding", "pain_as_bad_as_before", "allergic_reaction"}


def test_every_question_reads_at_grade_6_or_below(signs):
    for sign in signs:
        grade = textstat.flesch_kincaid_grade(sign.question)
        assert grade <= 6, (sign.key, grade)
        assert len(sign.question.split()) <= 16, sign.key


def test_questions_are_worded_so_that_yes_is_the_warning_sign(signs):
    for sign in signs:
        words = sign.question.lower().replace("?", "").replace(",", "").split()
        assert not {"not", "no", "never", "don't", "isn't", "aren't"} & set(words), sign.key
        assert sign.question.endswith("?")


def test_questions_say_when_and_what_is_new(signs):
    signs = by_key(signs)
    for key in ("chest_pain", "shortness_of_breath"):
        assert "right now" in signs[key].question  # 911 now is about now
    for key in (
        "bladder_bowel_control",
        "leg_weakness",
        "fever",
        "numbness_tingling",
        "new_sudden_back_pain",
        "allergic_reaction",
    ):
        assert signs[key].question.startswith("Since your last check,"), key
    assert "new" in signs["new_sudden_back_pain"].question
    assert "started" in signs["bladder_bowel_control"].question
    assert "new weakness" in signs["leg_weakness"].question
    assert "before the procedure" in signs["pain_as_bad_as_before"].question


def test_the_safety_lines_come_from_the_data(signs):
    assert safety_911(signs) == (
        "Call 911 now for chest pain, trouble breathing, new loss of bladder or bowel "
        "control, or new leg weakness."
    )
    lines = safety_lines(signs, "555-0142")
    assert "Call your care team at 555-0142 for a fever of 100.4 °F (38 °C) or higher;" in lines
    assert "bleeding where the needle went in;" in lines
    assert lines.endswith("or a new rash, hives or itchy skin.")


# --- validation on load ----------------------------------------------------------------


def _minimal() -> dict:
    return {
        "id": "warning_signs",
        "version": 3,
        "sources": {"spec": "SPEC section 2"},
        "signs": [
            {
                "key": "chest_pain",
                "question": "Do you have chest pain right now?",
                "label": "chest pain",
                "action": "call_911",
                "source": ["spec"],
            }
        ],
    }


def test_a_minimal_file_loads():
    signs = parse_signs(_minimal(), "w.yaml")
    assert [s.key for s in signs] == ["chest_pain"] and signs.version == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["signs"][0].pop("source"),
            r"w\.yaml: sign 'chest_pain': field 'source': is missing: name where this sign "
            r"and its action come from \(SPEC or a seeds page\)",
        ),
        (
            lambda d: d["signs"][0].update(source=[]),
            r"sign 'chest_pain': field 'source': is missing",
        ),
        (
            lambda d: d["signs"][0].update(source=["krames"]),
            r"sign 'chest_pain': field 'source': unknown source 'krames' \(known: spec\)",
        ),
        (lambda d: d.pop("sources"), r"field 'sources'"),
        (
            lambda d: d["signs"][0].update(action="call_doctor"),
            r"field 'action': must be one of call_911, call_team, none",
        ),
        (lambda d: d["signs"][0].update(confirm="  "), r"field 'confirm': must be non-empty"),
        (lambda d: d["signs"][0].pop("label"), r"field 'label'"),
        (lambda d: d["signs"][0].update(question=""), r"field 'question'"),
        (lambda d: d["signs"][0].update(sourse=["spec"]), r"unknown field\(s\): sourse"),
        (lambda d: d.update(version=None), r"field 'version'"),
        (
            lambda d: d.update(retired=[dict(d["signs"][0])]),
            r"sign 'chest_pain': field 'key': duplicate key",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error(change, message):
    data = _minimal()
    change(data)
    with pytest.raises(SignsError, match=message):
        parse_signs(data, "w.yaml")


def test_a_confirm_note_and_the_none_action_are_accepted():
    data = _minimal()
    data["signs"].append(
        {
            "key": "bruise",
            "question": "Do you have a bruise where the needle went in?",
            "label": "a bruise",
            "action": "none",
            "source": "spec",
            "confirm": "Recorded only; a clinician to confirm.",
        }
    )
    signs = parse_signs(data, "w.yaml")
    assert signs[1].confirm == "Recorded only; a clinician to confirm."
    assert severity(signs, {"bruise": True}) == "none"


def test_the_shipped_file_with_a_source_removed_is_refused_on_load(tmp_path):
    data = raw()
    del data["signs"][0]["source"]
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "warning_signs.yaml").write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(SignsError, match=r"warning_signs\.yaml: sign 'chest_pain': field 'source'"):
        load_signs(signs_path(str(tmp_path)))


# --- new and renamed keys, through the pages ----------------------------------------------


def answers(signs, *yes):
    return {f"q_{s.key}": "yes" if s.key in yes else "no" for s in signs}


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("needle_site_bleeding", "needle site bleeding"),
        ("allergic_reaction", "allergic reaction"),
        ("new_sudden_back_pain", "new sudden back pain"),
        ("pain_as_bad_as_before", "pain as bad as before"),
    ],
)
def test_a_yes_to_a_new_sign_says_call_the_team_and_alerts(
    patient_client, session, signs, key, words
):
    response = post_form(patient_client, "/me/warning-signs", data=answers(signs, key))
    page = text_of(patient_client.get(response.location))
    assert "Call your care team today" in page
    assert f"{by_key(signs)[key].question} Yes" in page
    report = session.scalar(select(SymptomReport))
    assert report.severity == "call_team" and report.answers[key] is True
    assert words in session.scalar(select(Alert)).summary


def test_the_form_explains_the_time_frame(patient_client):
    page = text_of(patient_client.get("/me/warning-signs"))
    assert "“Since your last check” means since you last answered these questions." in page
    assert "If this is your first time, it means since your procedure." in page


def test_an_older_report_under_a_retired_key_still_reads(patient_client, session, enrolled):
    report = SymptomReport(
        plan_id=enrolled.plan.id,
        local_day=enrolled.plan.procedure_date + timedelta(days=1),
        recorded_at=enrolled.plan.created_at,
        answers={"pain_not_improving": True, "sudden_back_pain": False, "fever": False},
        severity="call_team",
    )
    session.add(report)
    session.commit()
    page = text_of(patient_client.get(f"/me/warning-signs/{report.id}"))
    assert "Call your care team today" in page
    assert "Is your pain not getting better? Yes" in page
    assert questions_by_key(load_signs(PATH))["pain_not_improving"] == (
        "Is your pain not getting better?"
    )
