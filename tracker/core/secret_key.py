"""The one rule for ``TRACKER_SECRET_KEY``, in every process that relies on it.

The key signs session cookies (the web app) and derives the personal links carried by
reminders (the scheduler, ``tracker reminders tick``; links.py ``_reminder_raw``): whoever
knows or guesses it can forge a patient's link that the web app accepts. So the web app in
production (``config.validate``), the scheduler and the reminder commands
(``tick.require_secret_key``) all refuse the same keys, here. Outside the test suite the
check cannot be switched off: ``TESTING`` is settable in code only (config.py).

A key is refused when it is
- missing, or not text (``TRACKER_SECRET_KEY=1234...`` is read as a JSON number, which
  would pass start-up and then fail every request that signs a cookie);
- a known default or a key published in this repository (the test suite's, the
  benchmarks');
- shorter than 32 characters;
- of low estimated entropy: fewer than 8 different characters, under 80 bits by its own
  character frequencies, mostly repeated pieces (``passwordpassword...``), or mostly runs
  and sequences (``aaaa...``, ``abcd...``, ``1234...``).

``secrets.token_urlsafe(48)`` (the README's advice, and the demo's) always passes, and so
does ``secrets.token_hex(16)`` (the weakest usual generator, 128 bits): 200,000 of them
scored at least 90 bits, 8 different characters and 58 % runs. Messages never contain the
key itself.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

VARIABLE = "TRACKER_SECRET_KEY"
MIN_LENGTH = 32
MIN_DISTINCT = 8
MIN_ESTIMATED_BITS = 80
ADVICE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"

# Refused whatever their length: defaults people leave in place, and every key written in
# this repository (anyone can read them). Compared after trimming, ignoring case.
KNOWN_KEYS = frozenset(
    key.lower()
    for key in (
        "",
        "dev",
        "development",
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "test",
        "testing",
        # tests/conftest.py TEST_SECRET_KEY: the test suite's apps (TESTING set in code).
        "test-secret-key-that-is-long-enough-0123456789",
        # Keys written in the repository's tests and benchmarks.
        "benchmark-secret-key-not-for-production-0123456789",
        "floor-test-secret-key-0123456789-0123456789",
        "a-production-secret-from-the-environment-0123456789",
        "a-real-secret-from-the-environment-123",
    )
)


def estimated_bits(key: str) -> float:
    """Bits by the key's own character frequencies (Shannon entropy times length)."""
    counts = Counter(key)
    n = len(key)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) * n


def _mostly_repeated(key: str) -> bool:
    pieces = [key[i : i + 3] for i in range(len(key) - 2)]
    return len(set(pieces)) < len(pieces) / 2


def _mostly_runs(key: str) -> bool:
    steps = sum(1 for a, b in itertools.pairwise(key) if abs(ord(a) - ord(b)) <= 1)
    return steps > 0.75 * (len(key) - 1)


def secret_key_problem(key: object, *, variable: str = VARIABLE) -> str | None:
    """Why ``key`` must not be used as the secret key (one line), or None if it may."""
    if key is None or (isinstance(key, str) and key.strip().lower() in KNOWN_KEYS):
        return f"{variable} is missing or a known default; set it to a long random value"
    if not isinstance(key, str):
        kind = "a number" if isinstance(key, int | float) else type(key).__name__
        return (
            f"{variable} must be text, but it was read as {kind}; set it to a long random "
            f"value, e.g. the output of {ADVICE}"
        )
    if (
        len(key) < MIN_LENGTH
        or len(set(key)) < MIN_DISTINCT
        or estimated_bits(key) < MIN_ESTIMATED_BITS
        or _mostly_repeated(key)
        or _mostly_runs(key)
    ):
        return (
            f"{variable} is too weak (it needs at least {MIN_LENGTH} characters without "
            f"repeated or sequential patterns); set it to a long random value, e.g. the "
            f"output of {ADVICE}"
        )
    return None
