"""Web building blocks every page area shares: what a request and stored text must obey.

Owns the input rules (control characters, lengths, names), the error pages, the security
headers and the rate limits (per-route limits and counted sign-in attempts).

May import: ``core``.
"""
