"""The framework floor of target 1: the pain POST's request work without the application.

A Flask app with only what any pain POST on this stack does: the signed session cookie,
Flask-WTF's ``CSRFProtect``, the tracker's own ``PainForm`` (the same fields and
validators), a "saved" flash message and a redirect. No database, no rate limiter, no
security headers, no session check. Served by the same gunicorn settings and loaded the same
way as the tracker (``pain_post.sign_in``, ``pain_post.lua_script``), its POST ÷ its own
``/livez`` is the best ratio an application of this stack can reach for such a POST: an
upper bound for target 1, measured in the same run rather than assumed.

Not part of the product: nothing imports it but gunicorn in the pain benchmark.
"""

from __future__ import annotations

import os

from flask import Flask, flash, redirect, render_template_string, request, session
from flask_wtf.csrf import CSRFProtect

from tracker.patient_forms import PainForm

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["TRACKER_SECRET_KEY"]
CSRFProtect(app)

_FORM = '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'


@app.get("/livez")
def livez() -> tuple[str, int, dict[str, str]]:
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/p/<token>")
def sign_in(token: str):
    session.clear()
    session["patient_token"] = token
    return redirect("/me/pain")


@app.route("/me/pain", methods=["GET", "POST"])
def pain():
    form = PainForm()
    if request.method == "GET":
        return render_template_string(_FORM)
    if not form.validate():
        return render_template_string(_FORM), 400
    flash(f"Thank you. Your pain score of {form.score_value} is saved.", "success")
    return redirect("/me/today")
