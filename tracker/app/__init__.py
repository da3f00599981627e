"""The web shell: the application factory, site pages and the WSGI entry point.

Assembles the areas: configuration, database, headers, error pages, then the patient and
care team blueprints. Templates shared by both sides (base, errors, the printable card) and
the static files live here.

May import: every area except ``cli``.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None, *, serving: bool = True) -> Flask:
    """Application factory: importing the package starts nothing.

    ``serving=False`` is for operator commands and the scheduler, which sign no cookies
    and so may run without a secret key; anything that serves pages must keep the default.
    """
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    from werkzeug.middleware.proxy_fix import ProxyFix

    from tracker.app import site
    from tracker.care import report as coordinator_report
    from tracker.care import texts as coordinator_texts
    from tracker.care import views as coordinator_views
    from tracker.core import config, db, log_redaction, whole_numbers
    from tracker.patient import caregivers as patient_caregivers
    from tracker.patient import questions as patient_questions
    from tracker.patient import views as patient_views
    from tracker.plans import templates as plan_templates
    from tracker.texting import views as texting_views
    from tracker.web import error_pages as errors
    from tracker.web import headers as http_headers
    from tracker.web import input_rules

    config.load(app, test_config, serving=serving)
    # Operator commands and the scheduler serve no pages: warnings meant for web servers
    # (e.g. per-process rate-limit counts) are not theirs to print.
    app.extensions["tracker.serving"] = serving
    whole_numbers.init_app(app)
    app.extensions["tracker.templates"] = plan_templates.load_directory(app.config["SCHEDULES_DIR"])
    log_redaction.install()
    if app.config["PROXY_FIX"]:
        # Behind N reverse proxies, trust N hops of X-Forwarded-For/-Proto/-Host, so the
        # client address (audit log, sign-in rate limits) and HTTPS (HSTS) are the real ones.
        # Never set it without a proxy: clients could then claim any address.
        # A forwarded address that is not a real IP address is replaced by the proxy's own.
        hops = app.config["PROXY_FIX"]
        bounded = input_rules.BoundRemoteAddr(app.wsgi_app)
        app.wsgi_app = ProxyFix(bounded, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    db.init_app(app)
    http_headers.init_app(app)
    errors.init_app(app)
    site.init_app(app)
    patient_views.init_app(app)
    patient_questions.init_app(app)
    patient_caregivers.init_app(app)
    coordinator_views.init_app(app)
    coordinator_report.init_app(app)
    texting_views.init_app(app)  # the SMS gateway's endpoints (tracker/texting)
    coordinator_texts.init_app(app)
    input_rules.init_app(app)  # last: forms and stored text, one rule (docs/security.md)
    site.init_babel(app)  # after the blueprints: the care team's pages stay in English
    return app
