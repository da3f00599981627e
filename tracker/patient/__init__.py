"""The patient's pages (``/me``): Today, pain log, warning signs, progress, the plan card.

Owns the personal-link sign-in and patient sessions, the patient forms and the progress
summary. Templates live in ``templates/patient/``.

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``, ``reminders``,
``escalation``, ``texting``, ``scheduler``.
Not ``care``: the two sides share only what lies below them.
"""
