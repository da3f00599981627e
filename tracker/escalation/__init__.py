"""Escalation: every patient in trouble reaches a person.

Owns the clinic's office hours, on-call paging (the page outbox, escalation along the
on-call list) and the notices that tell the patient truthfully who knows.

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``, ``reminders``.
"""
