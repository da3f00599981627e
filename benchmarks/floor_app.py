"""The framework floors of target 1: the pain POST's request work without the application.

A Flask app with only what any pain POST on this stack does: the signed session cookie,
Flask-WTF's ``CSRFProtect``, the tracker's own ``PainForm`` (the same fields and
validators), a "saved" flash message and a redirect. No rate limiter, no security headers,
no session check, no alert rules. Served by the same gunicorn settings and loaded the same
way as the tracker (``pain_post.sign_in``, ``pain_post.lua_script``), its POST ÷ its own
``/livez`` is the best ratio an application of this stack can reach for such a POST: an
upper bound for target 1, measured in the same run rather than assumed.

Two floors, by environment:

- no database (``FLOOR_DATABASE_URL`` unset): the request work alone;
- ``FLOOR_DATABASE_URL`` set: the same, plus the one thing a pain POST cannot skip, storing
  the score: one ``INSERT`` into ``pain_entry`` in its own durable transaction, through
  SQLAlchemy Core on the tracker's engine settings (``tracker.core.db.make_engine``) without the
  pool's pre-ping. The personal link is resolved to its plan once, at sign-in, and kept in
  the cookie. Less than the tracker must do per POST (it also checks the session against the
  database and marks the plan's alert rules due), so this bounds what any implementation on
  Flask + SQLAlchemy with a durable commit can reach on the machine of the run.

Not part of the product: nothing imports it but gunicorn in the pain benchmark and its test.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, abort, flash, redirect, render_template_string, request, session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam, insert, select

from tracker.core.db import make_engine
from tracker.core.models import CarePlan, PainEntry, PatientLinkToken
from tracker.core.timeutil import local_day
from tracker.patient.forms import PainForm
from tracker.plans.links import hash_token

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["TRACKER_SECRET_KEY"]
CSRFProtect(app)

_FORM = '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'
_DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL")
_ENGINE = make_engine(_DATABASE_URL, pool_pre_ping=False) if _DATABASE_URL else None
_INSERT = insert(PainEntry.__table__)
_PLAN_OF_LINK = (
    select(CarePlan.id, CarePlan.timezone)
    .join(PatientLinkToken, PatientLinkToken.patient_id == CarePlan.patient_id)
    .where(PatientLinkToken.token_hash == bindparam("token_hash"))
    .order_by(CarePlan.id.desc())
    .limit(1)
)


@app.get("/livez")
def livez() -> tuple[str, int, dict[str, str]]:
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/p/<token>")
def sign_in(token: str):
    session.clear()
    session["patient_token"] = token
    if _ENGINE is not None:
        with _ENGINE.connect() as conn:
            plan = conn.execute(_PLAN_OF_LINK, {"token_hash": hash_token(token)}).first()
        if plan is None:
            abort(404)
        session["plan"] = [plan.id, plan.timezone]
    return redirect("/me/pain")


@app.route("/me/pain", methods=["GET", "POST"])
def pain():
    form = PainForm()
    if request.method == "GET":
        return render_template_string(_FORM)
    if not form.validate():
        return render_template_string(_FORM), 400
    if _ENGINE is not None:
        plan_id, timezone = session["plan"]
        now = datetime.now(UTC)
        with _ENGINE.begin() as conn:
            conn.execute(
                _INSERT,
                {
                    "plan_id": plan_id,
                    "score": form.score_value,
                    "context": form.context.data or None,
                    "note": form.note.data,
                    "local_day": local_day(now, timezone),
                    "recorded_at": now,
                },
            )
    flash(f"Thank you. Your pain score of {form.score_value} is saved.", "success")
    return redirect("/me/today")
