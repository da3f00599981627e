"""Alerts: the safety rules over what patients report.

Owns raising, merging and re-opening alerts (red flags, severe pain, rising pain, not
improving, missed check-ins, undeliverable reminders) with their history, pain trends, and
pain-score corrections.

May import: ``core``, ``web``, ``plans``.
"""
