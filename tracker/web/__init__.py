"""Web building blocks every page area shares: what a request and stored text must obey.

Owns the input rules (control characters, lengths, names), the error pages, the security
headers, the rate limits (per-route limits and counted sign-in attempts), and
``time_format``: the one place that writes a time or a day for the person who reads it (the
care team: the clinic's clock with its zone; a patient: "9:05 am", "Saturday 21 November"),
used by every page, email, text message, page to the on-call nurse and the printed card.

May import: ``core``.
"""
