"""The ``tracker`` console script: one entry point for operators."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from tracker.app import create_app
from tracker.care.passwords import MIN_LENGTH, hash_password
from tracker.cli.alerts import alerts_group
from tracker.cli.errors import CLIError
from tracker.cli.reminders import reminders_group, scheduler_command
from tracker.core import audit, migrate
from tracker.core.config import ConfigError
from tracker.core.db import get_session, utcnow
from tracker.core.models import ROLES, Clinic, User
from tracker.core.timeutil import is_valid_timezone
from tracker.plans import content_review
from tracker.plans.enrollment import (
    EnrollmentError,
    check_email,
    check_phone,
    enroll,
    validate_request,
)
from tracker.plans.links import link_url
from tracker.plans.templates import PlanTemplate, TemplateError, load_directory, load_file
from tracker.web import input_rules


def _cli_app() -> Flask:
    # Operator commands sign no cookies, so they run without a configured secret key.
    try:
        return create_app(serving=False)
    except (ConfigError, TemplateError) as exc:
        raise CLIError(str(exc)) from None


class TrackerGroup(FlaskGroup):
    """The input rules for every command (docs/security.md): no argument may hold a control
    character, and a value refused when it is stored is a one-line error, not a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refused = input_rules.refused_argument(args)
        if refused is not None:
            raise CLIError(
                f"the argument '{refused}' contains a control character; nothing was written"
            )
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except input_rules.InputRefused as exc:
            raise CLIError(exc.message) from None


@click.group(
    cls=TrackerGroup,
    create_app=_cli_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """Recovery tracker: plans, patients, reminders and the demo."""


def templates() -> dict[str, PlanTemplate]:
    return current_app.extensions["tracker.templates"]


# --- database -----------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    with _migration_errors(revision):
        migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" empties the schema)."""
    with _migration_errors(revision):
        migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@contextmanager
def _migration_errors(revision: str) -> Iterator[None]:
    """Alembic's refusals (an unknown or malformed revision) as a one-line error."""
    if not revision.strip():
        raise CLIError("the revision is empty: give one such as head, base or a revision id")
    try:
        yield
    except (CommandError, RevisionError) as exc:
        raise CLIError(f"revision {revision!r}: {' '.join(str(exc).split())}") from None


# --- plan templates -------------------------------------------------------------------------


@main.group("templates")
def templates_group() -> None:
    """Recovery plan templates in schedules/."""


@templates_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@with_appcontext
def templates_validate(paths: tuple[Path, ...]) -> None:
    """Validate template files (default: every file in the schedules folder)."""
    try:
        if paths:
            found = [load_file(p) for p in paths]
        else:
            found = list(load_directory(current_app.config["SCHEDULES_DIR"]).values())
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    for template in found:
        click.echo(f"ok  {template.id} v{template.version}  {template.path}")


@templates_group.command("list")
@with_appcontext
def templates_list() -> None:
    """List the templates by id, version and procedure."""
    for template in templates().values():
        click.echo(
            f"{template.id}\tv{template.version}\t{','.join(template.procedures)}\t"
            f"{template.duration_days} days\t{template.title}"
        )


@templates_group.command("show")
@click.argument("template_id")
@click.option("--json", "as_json", is_flag=True, help="Print the activities as JSON.")
@with_appcontext
def templates_show(template_id: str, as_json: bool) -> None:
    """Show one template's activities."""
    template = templates().get(template_id)
    if template is None:
        raise CLIError(f"unknown template {template_id!r}; known: {', '.join(templates())}")
    if as_json:
        click.echo(json.dumps([a.to_dict() for a in template.activities], indent=2))
        return
    click.echo(
        f"{template.title} ({template.id} v{template.version}, "
        f"{template.duration_days} days, for {', '.join(template.procedures)})"
    )
    for a in template.activities:
        timing = "as needed" if a.as_needed else f"{a.times_per_day}x/day"
        if a.kind in ("restriction", "education", "appointment"):
            timing = ""
        click.echo(f"  day {a.start_day:>2}-{a.end_day:<2} {a.kind:<11} {a.key:<22} {timing}")
        click.echo(f"      {a.title}: {a.instructions}")


@templates_group.command("review")
@click.argument("template_id")
@click.option(
    "--clinic", "clinic_name", help="Show this clinic's sign-off (default: every clinic's)."
)
@with_appcontext
def templates_review(template_id: str, clinic_name: str | None) -> None:
    """Print the content review sheet of plan TEMPLATE_ID for a clinician's sign-off.

    Every patient-facing sentence of the plan and of the check files, with where it is, its
    sources, the file's version and fingerprint, items the data marks as needing the
    clinic's confirmation, and the approval state (content_review.py).
    """
    schedules = current_app.config["SCHEDULES_DIR"]
    try:
        files = content_review.review_sheet(schedules, template_id)
    except KeyError:
        known = ", ".join(content_review.plan_ids(schedules))
        raise CLIError(f"unknown template {template_id!r}; known: {known}") from None
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    clinic_id = _clinic_by_name(clinic_name).id if clinic_name else None
    states = content_review.approval_states(get_session(), files, clinic_id)
    # Each approval on its clinic's clock (time_format.clinic_time), with the zone's name.
    zones = {c.id: c.timezone for c in get_session().scalars(select(Clinic))}
    click.echo(f"CONTENT REVIEW SHEET: {files[0].title} ({template_id})")
    click.echo(
        "Every sentence a patient reads, with where it is and its sources. Approve each "
        "file's version on the admin pages (Content)."
    )
    for f in files:
        click.echo("")
        click.echo("=" * 78)
        version = f.version if f.version is not None else "none"
        click.echo(f"{f.path}  ({f.content_id}, version {version}, fingerprint {f.digest[:12]})")
        click.echo(
            f"Sign-off{' at ' + clinic_name if clinic_name else ''}: "
            f"{content_review.state_words(f, states[f.content_id], zones)}"
        )
        for note in f.notes:
            click.echo(f"  {note}")
        for flag in f.flags:
            click.echo(f"  ! TO CONFIRM (whole file): {flag}")
        click.echo("-" * 78)
        for number, sentence in enumerate(f.sentences, start=1):
            where = sentence.where + (f" ({sentence.context})" if sentence.context else "")
            click.echo(f"[{number}] {where}")
            click.echo(f'    "{sentence.text}"')
            for source in sentence.sources:
                click.echo(f"    source: {source}")
            for flag in sentence.flags:
                click.echo(f"    ! TO CONFIRM: {flag}")
        _echo_translations(f.translations)
    _echo_translations(content_review.catalogue_lines(), "Message catalogue")
    for problem in content_review.missing_translations(schedules):
        click.echo(f"! TRANSLATION MISSING OR STALE: {problem}")
    flagged = sum(f.flagged for f in files)
    click.echo("")
    click.echo(
        f"{sum(len(f.sentences) for f in files)} sentences in {len(files)} files; "
        f"{flagged} item{'s' if flagged != 1 else ''} to confirm; "
        f"{sum(1 for f in files if states[f.content_id].approved)} of {len(files)} files approved."
    )


def _echo_translations(lines: list | tuple, heading: str = "Translations") -> None:
    """A file's translations (content_review.TranslationLine), each with its review state."""
    if not lines:
        return
    click.echo("-" * 78)
    click.echo(f"{heading}: {len(lines)}")
    for line in lines:
        click.echo(f"[{line.language}] {line.path}: {line.where}")
        click.echo(f'    "{line.translated}"')
        click.echo(f'    translated from the English: "{line.english}"')
        click.echo(f"    translator: {line.translator}; {line.status_words}")


# --- clinics, users, patients ----------------------------------------------------------------


def _name(value: str, column: Any) -> str:
    """A name checked against its model column (the rule the web forms follow too)."""
    try:
        return input_rules.check_name(value, column, field="name")
    except input_rules.InputRefused as exc:
        raise CLIError(f"--name {exc.message}") from None


def _clinic_by_name(name: str) -> Clinic:
    clinic = get_session().scalar(select(Clinic).where(Clinic.name == name))
    if clinic is None:
        raise CLIError(f"no clinic named {name!r}")
    return clinic


@main.group("clinic")
def clinic_group() -> None:
    """Clinics."""


@clinic_group.command("create")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="The care team's phone number shown to patients.")
@click.option("--after-hours-phone")
@click.option("--timezone", "tz_name", default="America/New_York", show_default=True)
@with_appcontext
def clinic_create(name: str, phone: str, after_hours_phone: str | None, tz_name: str) -> None:
    """Create a clinic."""
    name = _name(name, Clinic.name)
    if not is_valid_timezone(tz_name):
        raise CLIError(f"unknown time zone {tz_name!r}: use an IANA name such as Europe/London")
    try:
        phone = check_phone(phone) or ""
        after_hours_phone = check_phone(after_hours_phone)
    except EnrollmentError as exc:
        raise CLIError(f"phone: {exc.message}") from None
    if not phone:
        raise CLIError("--phone is required")
    session = get_session()
    if session.scalar(select(Clinic.id).where(Clinic.name == name)) is not None:
        raise CLIError(f"a clinic named {name!r} already exists")
    clinic = Clinic(
        name=name,
        phone=phone,
        after_hours_phone=after_hours_phone,
        timezone=tz_name,
        created_at=utcnow(),
    )
    session.add(clinic)
    session.commit()
    click.echo(f"clinic {clinic.id} {clinic.name}")


@main.group("user")
def user_group() -> None:
    """Coordinator and admin accounts."""


@user_group.command("create")
@click.option("--clinic", "clinic_name", required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name")
@click.option("--role", type=click.Choice(ROLES), default="coordinator", show_default=True)
@with_appcontext
def user_create(clinic_name: str, email: str, display_name: str | None, role: str) -> None:
    """Create an account; the password is asked for (or read from stdin if not a terminal)."""
    clinic = _clinic_by_name(clinic_name)
    email = email.strip().lower()
    try:
        email = check_email(email) or ""
    except EnrollmentError as exc:
        raise CLIError(f"--email: {exc.message}") from None
    if not email:
        raise CLIError("--email is required")
    session = get_session()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise CLIError(f"an account for {email} already exists")
    default_name = email.split("@")[0][: input_rules.column_length(User.name)]
    name = _name(display_name or default_name, User.name)
    password = _new_password()
    user = User(
        clinic_id=clinic.id,
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        created_at=utcnow(),
    )
    session.add(user)
    session.commit()
    click.echo(f"user {user.id} {user.email} ({role}) at {clinic.name}")


def _new_password() -> str:
    """A new password: asked for twice on a terminal, else one line of stdin."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_LENGTH:
        raise CLIError(f"the password must be at least {MIN_LENGTH} characters")
    if input_rules.has_control_characters(password):
        # The sign-in form refuses them (input_rules), so such a password could never be used.
        raise CLIError("the password must not contain control characters")
    return password


@user_group.command("set-password")
@click.option("--email", required=True)
@with_appcontext
def user_set_password(email: str) -> None:
    """Set a new password for an account (a forgotten one); signs it out everywhere.

    The password is asked for (or read from stdin if not a terminal). There is no reset by
    email: an operator or admin confirms who is asking, then gives the new password.
    """
    session = get_session()
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise CLIError(f"no account for {email.strip()}")
    user.password_hash = hash_password(_new_password())
    user.session_version += 1  # every session signed in with the old password ends
    now = utcnow()
    audit.record(
        session,
        now=now,
        action="user.password_set",
        actor_type="system",
        clinic_id=user.clinic_id,
        detail={"user_id": user.id, "by": "tracker user set-password"},
    )
    session.commit()
    click.echo(f"new password set for {user.email}; signed out of every session")


@main.command("enroll")
@click.option("--clinic", "clinic_name", required=True)
@click.option("--name", required=True)
@click.option("--procedure", required=True)
@click.option("--procedure-date", required=True, help="YYYY-MM-DD, the patient's local date.")
@click.option("--timezone", "tz_name", required=True, help="IANA zone, e.g. America/Chicago.")
@click.option("--email")
@click.option("--phone")
@click.option("--levels", help="Vertebral levels treated, e.g. T12,L1.")
@click.option("--reminder-time", help="Local time of the daily reminder, HH:MM (default 09:00).")
@with_appcontext
def enroll_command(
    clinic_name: str,
    name: str,
    procedure: str,
    procedure_date: str,
    tz_name: str,
    email: str | None,
    phone: str | None,
    levels: str | None,
    reminder_time: str | None,
) -> None:
    """Enrol a patient: prints the patient id and their personal link."""
    now = utcnow()
    try:
        request = validate_request(
            name=name,
            procedure=procedure,
            procedure_date=procedure_date,
            timezone=tz_name,
            reminder_time=reminder_time,
            email=email,
            phone=phone,
            levels=levels,
            templates=templates(),
            now=now,
        )
    except EnrollmentError as exc:
        # Every bad option at once, one a line, in the enrolment form's words.
        raise CLIError(
            "\n".join(f"--{field.replace('_', '-')}: {text}" for field, text in exc.errors.items())
        ) from None
    clinic = _clinic_by_name(clinic_name)
    session = get_session()
    result = enroll(
        session,
        clinic,
        request,
        templates=templates(),
        now=now,
        grace_days=current_app.config["LINK_GRACE_DAYS"],
    )
    session.commit()
    click.echo(f"patient {result.patient.id}")
    click.echo(f"plan {result.plan.id} {result.plan.template_id} v{result.plan.template_version}")
    click.echo(f"link {link_url(current_app.config['BASE_URL'], result.link_token)}")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Create the demo data and exit.")
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Create demo data (idempotently) and run the web app."""
    from tracker.cli import demo

    demo.run(host=host, port=port, serve=not no_serve)


main.add_command(reminders_group)
main.add_command(scheduler_command)
main.add_command(alerts_group)


if __name__ == "__main__":
    main()
