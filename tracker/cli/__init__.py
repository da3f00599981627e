"""The ``tracker`` command: clinics, users, enrolment, templates, alerts, the scheduler, the demo.

May import: every other area.
"""
