"""Recovery tracker: follows patients for six weeks after kyphoplasty or vertebroplasty."""

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

    from tracker import config, coordinator_views, db, http_headers, plan_templates, site

    config.load(app, test_config, serving=serving)
    app.extensions["tracker.templates"] = plan_templates.load_directory(app.config["SCHEDULES_DIR"])
    db.init_app(app)
    http_headers.init_app(app)
    site.init_app(app)
    coordinator_views.init_app(app)
    return app
