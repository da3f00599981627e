"""Reminders: the daily messages, how they are planned and how they are delivered.

Owns message composition (email and SMS text, the 911 line), channels (SMTP, webhook, log),
planning (one reminder per plan, local day and kind) and delivery through the outbox
(leases, retries, dead letters, incidents, the gateway's delivery reports), and the rules
every text obeys (STOP opt-outs, quiet hours: ``sms_rules``).

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``.
"""
