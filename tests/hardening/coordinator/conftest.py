"""Hardening tests of the care team pages reuse the coordinator fixtures (frozen clock, CSRF
off for direct posts, two clinics and their accounts)."""

from tests.coordinator.conftest import (  # noqa: F401 - fixtures
    admin,
    admin_client,
    app,
    coordinator,
    coordinator_client,
    enrolled,
    make_user,
    other_clinic,
    record,
)
