"""The scheduler: one tick runs alerts, escalate, page, plan and deliver; the process runs ticks.

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``, ``reminders``,
``escalation``, ``texting``.
"""
