"""The clock of a request. Views read it once and pass ``now`` down to domain code.

Tests freeze it with the ``FIXED_NOW`` config value (an aware datetime); it is honoured only
when the app is in testing mode, so a stray TRACKER_FIXED_NOW can never stop a real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app


def request_now() -> datetime:
    fixed = current_app.config.get("FIXED_NOW") if current_app.testing else None
    return fixed if fixed is not None else datetime.now(UTC)
