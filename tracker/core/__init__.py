"""Core: configuration, the database and its models, time helpers, audit rows, secrets.

Owns the schema (``models``), sessions and timeouts (``db``), migrations (``migrate``),
the injectable clock and local-day arithmetic (``clock``, ``timeutil``), the audit log
(``audit``), the secret key (``secret_key``), log redaction and whole-number parsing.

May import: nothing else from ``tracker``.
"""
