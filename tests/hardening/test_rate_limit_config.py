"""A bad rate-limit setting stops the app at start with one line naming it."""

from __future__ import annotations

import pytest

from tests.conftest import make_test_app
from tracker.core.config import ConfigError


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("RATELIMIT_STORAGE_URI", "bogus://somewhere", "TRACKER_RATELIMIT_STORAGE_URI"),
        ("LINK_LIMIT_PER_TOKEN", "five", "TRACKER_LINK_LIMIT_PER_TOKEN"),
        ("LINK_LIMIT_PER_ADDRESS", "", "TRACKER_LINK_LIMIT_PER_ADDRESS"),
    ],
)
def test_a_bad_limit_setting_fails_at_start(database_url, setting, value, named):
    with pytest.raises(ConfigError) as failed:
        make_test_app(database_url, **{setting: value})
    message = str(failed.value)
    assert named in message and "\n" not in message
