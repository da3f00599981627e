r"""Recovery tracker: follows patients for six weeks after kyphoplasty or vertebroplasty.

The code is cut into areas; each may import only the areas listed before it, so the data
flow reads top to bottom (tests/test_architecture.py fails on an import that reaches up):

1. ``core``        configuration, database, models, time, audit
2. ``web``         what every request and stored text passes: input rules, error pages,
                   security headers, rate limits, the chart builder, the time formatter
3. ``plans``       the plan model: templates and clinical content, enrolment and personal
                   links, what is due on a day, per-patient adjustments, the printable card
4. ``alerts``      the safety rules over what patients report: red flags, severe and rising
                   pain, missed check-ins, pain trends and corrections
5. ``outcomes``    questionnaires and their scores, the expected course, the clinic report
6. ``reminders``   messages, channels, planning and delivery of daily reminders (the outbox)
7. ``escalation``  office hours, on-call paging, what the patient is told about who knows
8. ``texting``     two-way text messages: the gateway, replies, opt-outs, the conversation
9. ``scheduler``   the tick (alerts, escalate, page, plan, deliver) and the scheduler process
10. ``patient``    the patient's pages           \ siblings: neither imports the other
    ``care``       the care team's pages         /
11. ``app``        the web shell: application factory, site pages, WSGI entry point
12. ``cli``        the ``tracker`` command and the demo
"""
