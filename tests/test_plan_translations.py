"""Spanish beside the English in schedules/: every patient-facing text is translated, a
translation made from older English is caught, the loaders give the text in a language, a
plan's snapshot carries its translations (older plans fall back to the file's), and the
content review sheet lists every translation that still needs a native speaker's review."""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from tracker.core.config import REPO_ROOT
from tracker.core.models import CarePlan, Clinic
from tracker.outcomes.questionnaires import load_directory as load_questionnaires
from tracker.outcomes.questionnaires import parse_questionnaire
from tracker.plans import content_review
from tracker.plans.agenda import agenda_for_day, plan_activities
from tracker.plans.severe_pain import for_clinic, guidance_path, load_guidance
from tracker.plans.templates import (
    Activity,
    TemplateError,
    activity_text,
    load_directory,
    parse_template,
)
from tracker.plans.translations import NEEDS_REVIEW, fingerprint
from tracker.plans.warning_signs import current_signs, load_signs, parse_signs, signs_path

SCHEDULES = REPO_ROOT / "schedules"


def _raw(name: str) -> dict:
    return yaml.safe_load((SCHEDULES / name).read_text(encoding="utf-8"))


def _activity(raw: dict, key: str) -> dict:
    return next(a for a in raw["activities"] if a["key"] == key)


# --- every patient-facing text has a current Spanish translation ----------------------------


def test_every_shipped_text_has_a_current_spanish_translation():
    for template in load_directory(SCHEDULES).values():
        assert template.translation_problems == (), template.id
        for activity in template.activities:
            assert "es" in activity.translations, (template.id, activity.key)
    assert load_signs(signs_path(str(SCHEDULES))).translation_problems == ()
    assert load_guidance(guidance_path(str(SCHEDULES))).translation_problems == ()
    for questionnaire in load_questionnaires(SCHEDULES / "questionnaires").values():
        assert questionnaire.translation_problems == (), questionnaire.id
    assert content_review.missing_translations(SCHEDULES) == []


def test_a_missing_translation_is_reported_and_the_english_shown():
    raw = _raw("kyphoplasty.yaml")
    del _activity(raw, "walk")["translations"]
    template = parse_template(raw, "kyphoplasty.yaml")
    assert template.translation_problems == (
        "activity 'walk': no 'es' translation of title, instructions",
    )
    walk = template.activity("walk")
    assert walk.text("es").title == "Take a short walk"


def test_a_translation_missing_one_field_is_not_used():
    raw = _raw("kyphoplasty.yaml")
    del _activity(raw, "no_driving_on_opioids")["translations"]["es"]["condition"]
    template = parse_template(raw, "kyphoplasty.yaml")
    assert template.translation_problems == (
        "activity 'no_driving_on_opioids': the 'es' translation has no condition",
    )
    assert template.activity("no_driving_on_opioids").text("es").condition == (
        "while you take opioid pain medicine"
    )


def test_a_translation_of_older_english_is_stale_and_not_shown():
    raw = _raw("kyphoplasty.yaml")
    _activity(raw, "walk")["instructions"] = "Take a short walk twice a day."
    template = parse_template(raw, "kyphoplasty.yaml")
    (problem,) = template.translation_problems
    now = fingerprint(
        {"title": "Take a short walk", "instructions": "Take a short walk twice a day."}
    )
    assert "activity 'walk': the 'es' translation is stale" in problem
    assert f"set translated_from: {now}" in problem
    assert template.activity("walk").text("es").instructions == "Take a short walk twice a day."


def test_spacing_changes_in_the_english_do_not_make_a_translation_stale():
    raw = _raw("kyphoplasty.yaml")
    walk = _activity(raw, "walk")
    walk["instructions"] = walk["instructions"].replace(" ", "\n  ", 3)
    assert parse_template(raw, "kyphoplasty.yaml").translation_problems == ()


def test_stale_signs_guidance_and_questions_are_reported():
    signs = _raw("checks/warning_signs.yaml")
    signs["signs"][0]["question"] = "Do you have chest pain now?"
    assert "sign 'chest_pain'" in parse_signs(signs, "ws.yaml").translation_problems[0]
    questionnaire = _raw("questionnaires/daily_life.yaml")
    questionnaire["items"][0]["text"] = "Is it hard to get out of bed?"
    found = parse_questionnaire(questionnaire, "q.yaml").translation_problems
    assert found and "item 'bed'" in found[0] and "stale" in found[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda es: es.update(fr="x"), "unknown language 'fr'"),
        (lambda es: es["es"].pop("translator"), "translator must say who translated it"),
        (lambda es: es["es"].update(reviewed_by=""), "reviewed_by must be a name or null"),
        (lambda es: es["es"].pop("translated_from"), "translated_from must be the English"),
        (lambda es: es["es"].update(title=["a", "b"]), "'title' must be a text"),
        (lambda es: es["es"].update(notes="x"), "'notes' is not a text of this item"),
        (lambda es: es["es"].update(condition="x"), "'condition' has no English"),
    ],
)
def test_a_malformed_translation_is_refused_naming_file_activity_and_field(change, message):
    raw = _raw("kyphoplasty.yaml")
    change(_activity(raw, "walk")["translations"])
    with pytest.raises(TemplateError) as caught:
        parse_template(raw, "kyphoplasty.yaml")
    assert "kyphoplasty.yaml: activity 'walk': field 'translations'" in str(caught.value)
    assert message in str(caught.value)


def test_a_malformed_sign_translation_is_refused():
    raw = _raw("checks/warning_signs.yaml")
    raw["signs"][1]["translations"]["es"]["label"] = ""
    with pytest.raises(TemplateError, match="sign 'shortness_of_breath': field 'translations'"):
        parse_signs(raw, "ws.yaml")


# --- the text in a language -----------------------------------------------------------------


def test_activities_signs_guidance_and_questions_read_in_spanish():
    kypho = load_directory(SCHEDULES)["kyphoplasty"]
    walk = kypho.activity("walk")
    assert walk.text("es").title == "Dé una caminata corta"
    assert walk.text().title == walk.text("en").title == "Take a short walk"
    driving = kypho.activity("no_driving_on_opioids").in_language("es")
    assert driving.condition == "mientras tome medicina opioide para el dolor"
    assert (driving.key, driving.kind, driving.end_day) == (
        "no_driving_on_opioids",
        "restriction",
        41,
    )
    assert kypho.title_for("es") == "Recuperación después de la cifoplastia"
    assert kypho.title_for("en") == kypho.title == "Recovery after kyphoplasty"

    english = current_signs()
    spanish = current_signs("es")
    assert [s.key for s in spanish] == [s.key for s in english]
    assert [s.action for s in spanish] == [s.action for s in english]
    assert spanish[0].question == "¿Tiene dolor en el pecho en este momento?"
    assert spanish.retired[0].question == "¿Ha tenido dolor de espalda fuerte y repentino?"
    assert english[0].question == "Do you have chest pain right now?"
    assert current_signs("es") is spanish  # one object: a form class cached on it is reused

    guidance = load_guidance(guidance_path(str(SCHEDULES))).in_language("es")
    assert guidance.title == "Su dolor es muy fuerte"
    assert guidance.call_911[0] == "Tiene dolor en el pecho."

    daily = load_questionnaires(SCHEDULES / "questionnaires")["daily_life"]
    es = daily.in_language("es")
    assert es.items[0].text == "¿Qué tan difícil es acostarse y levantarse de la cama?"
    assert [o.text for o in es.items[1].options][-1] == "No lo puedo hacer"
    assert es.time_points[1].label == "2 semanas"
    answers = {"bed": 2, "walk": 1, "dress": 0, "chores": 4, "sit": 3, "sleep": 2}
    assert es.score(answers).value == daily.score(answers).value
    assert daily.items[0].text == "How hard is it to get in and out of bed?"


def test_a_clinics_own_severe_pain_steps_stay_in_its_words():
    default = load_guidance(guidance_path(str(SCHEDULES)))
    clinic = Clinic(name="Clinica", phone="555-0100", timezone="America/New_York")
    clinic.severe_pain_guidance = "Call Dr Ruiz at 555-0100."
    own = for_clinic(clinic, default, "es")
    assert own.steps == ("Call Dr Ruiz at 555-0100.",)
    assert own.title == "Su dolor es muy fuerte"
    assert for_clinic(clinic, default).title == "Your pain is severe"
    clinic.severe_pain_guidance = None
    assert for_clinic(clinic, default, "es").steps[0].startswith("Por favor, llame")


# --- plans: the snapshot carries the Spanish; older plans fall back -------------------------


def _plan(activities: list[dict]) -> CarePlan:
    return CarePlan(
        template_id="kyphoplasty",
        template_version=2,
        title="Recovery after kyphoplasty",
        procedure_date=date(2026, 11, 20),
        timezone="America/New_York",
        duration_days=45,
        activities=activities,
        overrides={},
    )


def test_the_snapshot_carries_the_translations_and_reads_back():
    walk = load_directory(SCHEDULES)["kyphoplasty"].activity("walk")
    data = walk.to_dict()
    assert data["translations"]["es"]["title"] == "Dé una caminata corta"
    assert data["translations"]["es"]["reviewed_by"] is None
    assert "language" not in data
    again = Activity.from_dict(yaml.safe_load(yaml.safe_dump(data)))
    assert again == walk and again.text("es") == walk.text("es")


def test_a_spanish_agenda_has_spanish_titles_and_the_english_one_is_unchanged():
    kypho = load_directory(SCHEDULES)["kyphoplasty"]
    plan = _plan([a.to_dict() for a in kypho.activities])
    day = date(2026, 11, 23)  # day 3
    spanish = agenda_for_day(plan, day, language="es")
    english = agenda_for_day(plan, day)
    assert spanish.language == "es" and english.language == "en"
    assert "Dé una caminata corta" in [a.title for a in spanish.tasks]
    assert "Take a short walk" in [a.title for a in english.tasks]
    assert [a.key for a in spanish.tasks] == [a.key for a in english.tasks]
    assert spanish.restrictions[0].activity.title == "No levante cosas pesadas"
    assert spanish.next_appointment.activity.title == "Primera visita de control"
    assert spanish.adherence_items == tuple(
        a for a in spanish.tasks + spanish.check_ins if a.adherence
    )
    # Activities read once and passed in are put in the language too.
    passed = agenda_for_day(plan, day, plan_activities(plan), language="es")
    assert passed.tasks == spanish.tasks


def test_a_plan_enrolled_before_translations_falls_back_to_the_files_spanish():
    kypho = load_directory(SCHEDULES)["kyphoplasty"]
    old = []
    for activity in kypho.activities:
        data = activity.to_dict()
        del data["translations"]
        old.append(data)
    walk = next(d for d in old if d["key"] == "walk")
    assert activity_text(walk, "es", kypho).title == "Dé una caminata corta"
    assert activity_text(walk, "es").title == "Take a short walk"  # no template: English
    assert activity_text(walk, "en", kypho).title == "Take a short walk"
    # Outside an app the shipped file is the template.
    titles = [a.title for a in plan_activities(_plan(old), language="es")]
    assert "Dé una caminata corta" in titles


def test_an_old_snapshot_with_other_english_keeps_its_english():
    kypho = load_directory(SCHEDULES)["kyphoplasty"]
    data = kypho.activity("walk").to_dict()
    del data["translations"]
    data["instructions"] = "Walk for 5 minutes, twice a day."  # an older version's words
    text = activity_text(data, "es", kypho)
    assert text.instructions == "Walk for 5 minutes, twice a day."
    assert text.title == "Take a short walk"
    plan = _plan([data])
    plan.template_id = "no-longer-shipped"
    assert plan_activities(plan, language="es")[0].title == "Take a short walk"


@pytest.mark.parametrize(
    "broken", [None, "text", {"es": "text"}, {"es": {"title": 3}}, {"xx": {}}, []]
)
def test_an_odd_snapshot_translation_never_crashes(broken):
    data = load_directory(SCHEDULES)["kyphoplasty"].activity("walk").to_dict()
    data["translations"] = broken
    assert activity_text(data, "es").title == "Take a short walk"


# --- the content review sheet lists them ----------------------------------------------------


def test_the_review_lists_every_translation_needing_review(tmp_path):
    lines = content_review.translation_review(SCHEDULES, po_paths=[])
    paths = {line.path for line in lines}
    assert {
        "schedules/kyphoplasty.yaml",
        "schedules/vertebroplasty.yaml",
        "schedules/checks/warning_signs.yaml",
        "schedules/checks/severe_pain.yaml",
        "schedules/questionnaires/daily_life.yaml",
    } <= paths
    walk = next(
        line
        for line in lines
        if line.path == "schedules/kyphoplasty.yaml" and line.where == "activities walk: title"
    )
    assert (walk.language, walk.english, walk.translated) == (
        "es",
        "Take a short walk",
        "Dé una caminata corta",
    )
    assert walk.translator == "tracker project team"
    assert walk.needs_review and walk.status_words == NEEDS_REVIEW
    # The shared answers of the questionnaire are listed once.
    answers = [line for line in lines if line.translated == "No lo puedo hacer"]
    assert len(answers) == 1


def test_the_review_shows_a_reviewer_and_a_stale_translation(tmp_path):
    folder = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, folder)
    raw = yaml.safe_load((folder / "kyphoplasty.yaml").read_text(encoding="utf-8"))
    changed = copy.deepcopy(raw)
    _activity(changed, "walk")["instructions"] = "Walk twice a day."
    _activity(changed, "bed_rest")["translations"]["es"]["reviewed_by"] = (
        "Dra. Ana Ruiz, 2026-12-01"
    )
    (folder / "kyphoplasty.yaml").write_text(yaml.safe_dump(changed, allow_unicode=True))
    lines = content_review.plan_file(folder, "kyphoplasty").translations
    walk = next(line for line in lines if line.where == "activities walk: instructions")
    assert walk.status == "stale" and walk.status_words.startswith("STALE")
    bed = next(line for line in lines if line.where == "activities bed_rest: title")
    assert not bed.needs_review and bed.status_words == "reviewed by Dra. Ana Ruiz, 2026-12-01"
    assert any("'walk'" in p and "stale" in p for p in content_review.missing_translations(folder))


def test_translations_are_not_part_of_the_english_sign_off(tmp_path):
    folder = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, folder)
    before = content_review.plan_file(folder, "kyphoplasty")
    raw = yaml.safe_load((folder / "kyphoplasty.yaml").read_text(encoding="utf-8"))
    _activity(raw, "walk")["translations"]["es"]["title"] = "Camine un poco"
    (folder / "kyphoplasty.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    after = content_review.plan_file(folder, "kyphoplasty")
    assert after.digest == before.digest
    assert not any("Camine" in s.text for s in after.sentences)
    assert any(line.translated == "Camine un poco" for line in after.translations)


def test_the_catalogues_unreviewed_entries_are_listed(tmp_path: Path):
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        "#. reviewed: no\n"
        'msgid "Call 911 now."\nmsgstr "Llame al 911 ahora."\n\n'
        'msgid "Save"\nmsgstr "Guardar"\n',
        encoding="utf-8",
    )
    (line,) = content_review.catalogue_lines([po])
    assert (line.language, line.english, line.translated) == (
        "es",
        "Call 911 now.",
        "Llame al 911 ahora.",
    )
    assert line.status_words == NEEDS_REVIEW


def test_the_cli_sheet_prints_translations_with_their_review_state(app):
    from tracker.cli.commands import main

    result = app.test_cli_runner().invoke(main, ["templates", "review", "kyphoplasty"])
    assert result.exit_code == 0, result.output
    assert "[es] schedules/kyphoplasty.yaml: activities walk: title" in result.output
    assert '"Dé una caminata corta"' in result.output
    assert 'translated from the English: "Take a short walk"' in result.output
    assert f"translator: tracker project team; {NEEDS_REVIEW}" in result.output
    assert "TRANSLATION MISSING OR STALE" not in result.output


def test_spanish_sentences_are_not_hard_to_read():
    """Fernández-Huerta (textstat's Spanish formula; 60-70 reads as "normal", 80-90 as
    "easy"). A few medical words (opioide, hormigueo) keep some lines near 60: the floor
    catches a translation written in long, official sentences, not a word choice."""
    textstat = pytest.importorskip("textstat")
    textstat.set_lang("es")
    try:
        lines = content_review.translation_review(SCHEDULES, po_paths=[])
        sentences = [
            line
            for line in lines
            if not line.where.endswith(": label")
            and len(line.translated.split()) >= 8
            # Texts' short forms are lists of a few words each, not sentences.
            and not line.path.startswith("schedules/texting/")
        ]
        assert len(sentences) >= 40
        hard = {
            f"{line.path}: {line.where}": round(textstat.fernandez_huerta(line.translated), 1)
            for line in sentences
            if textstat.fernandez_huerta(line.translated) < 55
        }
    finally:
        textstat.set_lang("en")
    assert not hard, hard
