"""Fixtures for outcomes: the patient pages' and the care team's fixtures, together."""

from tests.coordinator.conftest import (  # noqa: F401
    admin,
    admin_client,
    coordinator,
    coordinator_client,
    make_user,
    other_clinic,
    record,
)
from tests.coordinator.conftest import app as app
