"""Hardening tests of the patient flows reuse the patient fixtures: a frozen clock, an
enrolled patient and a signed-in client (the other hardening tests keep the real clock)."""

from tests.patient.conftest import app, enrolled, patient_client  # noqa: F401 - fixtures
