"""WSGI entry point for gunicorn: ``gunicorn 'tracker.wsgi:app'``.

A configuration problem stops the worker with one line naming the setting or file.
"""

from __future__ import annotations

import sys

from tracker import create_app
from tracker.config import ConfigError
from tracker.plan_templates import TemplateError

try:
    app = create_app()
except (ConfigError, TemplateError) as exc:
    sys.stderr.write(f"recovery tracker cannot start: {exc}\n")
    raise SystemExit(1) from None
