"""`tracker templates review PLAN`: the content review sheet on the command line."""

from __future__ import annotations

from tests.conftest import NOW
from tracker.cli.commands import main
from tracker.core.models import ContentApproval, User
from tracker.plans.content_review import review_sheet


def test_it_prints_every_sentence_with_source_version_and_state(runner, app):
    result = runner.invoke(main, ["templates", "review", "kyphoplasty"])
    assert result.exit_code == 0, result.output
    files = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")
    for f in files:
        assert f"{f.path}  ({f.content_id}, version {f.version}" in result.output
        for sentence in f.sentences:
            assert f'"{sentence.text}"' in result.output
    assert "source: " in result.output
    assert "NOT APPROVED" in result.output
    if any(f.flagged for f in files):
        assert "! TO CONFIRM" in result.output


def test_it_shows_an_approval_of_the_current_version(runner, app, session, clinic):
    user = User(
        clinic_id=clinic.id,
        email="dr@example.org",
        name="Dr Example",
        password_hash="x",
        role="admin",
        created_at=NOW,
    )
    session.add(user)
    session.commit()
    plan = review_sheet(app.config["SCHEDULES_DIR"], "kyphoplasty")[0]
    session.add(
        ContentApproval(
            clinic_id=clinic.id,
            template_id=plan.content_id,
            version=plan.version,
            content_digest=plan.digest,
            approved_by_id=user.id,
            approved_at=NOW,
            note="ok",
        )
    )
    session.commit()
    result = runner.invoke(main, ["templates", "review", "kyphoplasty", "--clinic", clinic.name])
    assert result.exit_code == 0, result.output
    assert f"APPROVED version {plan.version}: approved by Dr Example" in result.output


def test_an_unknown_plan_is_a_one_line_error(runner):
    result = runner.invoke(main, ["templates", "review", "no-such-plan"])
    assert result.exit_code == 2
    assert "unknown template 'no-such-plan'" in result.output
