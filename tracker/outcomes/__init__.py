"""Outcomes: how patients recover, beyond the daily pain score.

Owns the function questionnaires loaded from ``schedules/questionnaires/`` (validation,
scoring with the missing-answer rule, bands, time points and their answer windows), the
patients' stored answers and their change since baseline, the expected course of pain after
the procedure from published figures (``schedules/expected_course/``) with the care team's
"recovering more slowly than expected" indicator, their FHIR resources (Questionnaire and
scored QuestionnaireResponse), and the clinic report (figures for a clinic and date range,
computed in a fixed number of SQL statements).

May import: ``core``, ``web``, ``plans``, ``alerts``.
"""
