r"""Recovery tracker: follows patients for six weeks after kyphoplasty or vertebroplasty.

The code is cut into areas; each may import only the areas listed before it, so the data
flow reads top to bottom (tests/test_architecture.py fails on an import that reaches up):

1. ``core``        configuration, database, models, time, audit
2. ``web``         what every request and stored text passes: input rules, error pages,
                   security headers, rate limits
3. ``plans``       the plan model: templates and clinical content, enrolment and personal
                   links, what is due on a day, per-patient adjustments, the printable card
4. ``alerts``      the safety rules over what patients report: red flags, severe and rising
                   pain, missed check-ins, pain trends and corrections
5. ``reminders``   messages, channels, planning and delivery of daily reminders (the outbox)
6. ``escalation``  office hours, on-call paging, what the patient is told about who knows
7. ``scheduler``   the tick (alerts, escalate, page, plan, deliver) and the scheduler process
8. ``patient``     the patient's pages           \ siblings: neither imports the other
   ``care``        the care team's pages         /
9. ``app``         the web shell: application factory, site pages, WSGI entry point
10. ``cli``        the ``tracker`` command and the demo
"""
