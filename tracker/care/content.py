"""Admin pages for the clinical content sign-off (content_review.py): every patient-facing
sentence of each plan template and check file, with its source, version and approval
state, and the "approve this version" action; each file's translations and the catalogue's
wording to confirm, each with its own review state. Admins only; approvals are their clinic's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from tracker.care.auth import account, admin_required, record
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import LANGUAGE_NAMES
from tracker.plans.content_review import (
    CHECKS_PREFIX,
    NOTE_MAX_LENGTH,
    ApprovalRefused,
    ContentFile,
    approval_states,
    approve,
    catalogue_lines,
    check_files,
    content_file,
    plan_file,
    plan_ids,
    review_sheet,
)
from tracker.plans.templates import TemplateError

bp = Blueprint("content", __name__, url_prefix="/coordinator/admin/content")


def _schedules() -> str:
    return current_app.config["SCHEDULES_DIR"]


def _loaded_versions() -> dict[str, int]:
    """The plan template versions the running app enrols patients with (loaded at start)."""
    return {t.id: t.version for t in current_app.extensions["tracker.templates"].values()}


@bp.get("/")
@admin_required
def index() -> Any:
    problems: list[str] = []
    files: list[ContentFile] = []
    for template_id in plan_ids(_schedules()):
        try:
            files.append(plan_file(_schedules(), template_id))
        except (TemplateError, KeyError) as exc:
            problems.append(str(exc))
    try:
        files.extend(check_files(_schedules()))
    except TemplateError as exc:
        problems.append(str(exc))
    states = approval_states(get_session(), files, account().clinic_id)
    return render_template(
        "coordinator/admin_content.html",
        files=files,
        states=states,
        problems=problems,
        loaded=_loaded_versions(),
    )


def _sheet_page(
    template_id: str, errors: dict[str, str] | None = None, status: int = 200, note: str = ""
) -> Any:
    try:
        files = review_sheet(_schedules(), template_id)
    except KeyError:
        abort(404)
    except TemplateError as exc:
        return render_template(
            "coordinator/admin_content_sheet.html",
            template_id=template_id,
            files=[],
            states={},
            catalogue=[],
            language_names=LANGUAGE_NAMES,
            problem=str(exc),
            errors={},
            loaded=_loaded_versions(),
            note_max=NOTE_MAX_LENGTH,
            note=note,
        ), 409
    return render_template(
        "coordinator/admin_content_sheet.html",
        template_id=template_id,
        files=files,
        states=approval_states(get_session(), files, account().clinic_id),
        catalogue=catalogue_lines(),
        language_names=LANGUAGE_NAMES,
        problem=None,
        errors=errors or {},
        loaded=_loaded_versions(),
        note_max=NOTE_MAX_LENGTH,
        note=note,
    ), status


@bp.get("/<template_id>")
@admin_required
def sheet(template_id: str) -> Any:
    return _sheet_page(template_id)


@bp.post("/approve")
@admin_required
def approve_version() -> Any:
    """Approve the version of one file that the sheet showed (its version and fingerprint
    come back with the form): a file changed since is refused, nothing is recorded."""
    template_id = (request.form.get("plan") or "")[:100]
    content_id = (request.form.get("content_id") or "")[:120]
    note = (request.form.get("note") or "")[: NOTE_MAX_LENGTH + 1]
    if template_id.startswith(CHECKS_PREFIX) or not template_id:
        abort(400)
    try:
        found = content_file(_schedules(), content_id)
    except KeyError:
        abort(404)
    except TemplateError as exc:
        return _sheet_page(template_id, {content_id: str(exc)}, 409, note)
    db = get_session()
    user = account().user
    try:
        row = approve(
            db,
            found,
            clinic_id=user.clinic_id,
            user_id=user.id,
            version=request.form.get("version"),
            digest=request.form.get("digest"),
            note=note,
            now=request_now(),
        )
    except ApprovalRefused as refused:
        db.rollback()
        return _sheet_page(template_id, {content_id: refused.message}, refused.status, note)
    record(
        "content.approve",
        content_id=found.content_id,
        version=found.version,
        digest=found.digest,
        approval_id=row.id,
        note=row.note,
    )
    db.commit()
    flash(f"Approved: {found.path}, version {found.version}.", "info")
    return redirect(url_for("content.sheet", template_id=template_id, _anchor=_anchor(found)))


def _anchor(found: ContentFile) -> str:
    return "file-" + found.content_id.replace("/", "-")
