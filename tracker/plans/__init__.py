"""The plan model: from a template to what is due on a patient's day.

Owns the plan templates and the clinical content loaded from ``schedules/`` (warning signs,
severe-pain guidance, opioid rules) with their validation and content review, enrolment and
personal links, the agenda (what is due on a local day), per-patient adjustments, and the
printable plan card.

May import: ``core``, ``web``.
"""
