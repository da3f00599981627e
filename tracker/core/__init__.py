"""Core: configuration, the database and its models, time helpers, audit rows, secrets.

Owns the schema (``models``), sessions and timeouts (``db``), migrations (``migrate``),
the injectable clock and local-day arithmetic (``clock``, ``timeutil``), the audit log
(``audit``), the secret key (``secret_key``), log redaction, whole-number parsing and
phone numbers as an SMS gateway writes them (``phones``).

May import: no other area.
"""
