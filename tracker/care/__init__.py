"""The care team's pages (``/coordinator``): triage, patient detail, admin, exports.

Owns coordinator sign-in and passwords, the triage list, the patient page, the admin pages
(users, plan adjustments, escalation settings, content review), and the CSV and FHIR exports.
Templates live in ``templates/coordinator/``.

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``, ``reminders``,
``escalation``, ``texting``, ``scheduler``.
Not ``patient``: the two sides share only what lies below them.
"""
