"""WSGI entry point for gunicorn: ``gunicorn 'tracker.app.wsgi:app'``.

A configuration problem stops the worker with one line naming the setting or file.
"""

from __future__ import annotations

import sys

from tracker.app import create_app
from tracker.core.config import ConfigError
from tracker.plans.templates import TemplateError

try:
    app = create_app()
except (ConfigError, TemplateError) as exc:
    sys.stderr.write(f"recovery tracker cannot start: {exc}\n")
    raise SystemExit(1) from None
