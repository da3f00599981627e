"""Texting: patients take part by replying to text messages (two-way SMS).

Owns the SMS gateway's endpoints (texts in, delivery reports; ``views``) and its adapters
(``gateways``: one class per provider, Twilio's form posts and signature first), reading a
reply (``words``: the data-driven word lists; ``reading``: pain score, numbered answers,
yes and no, keywords), the conversation (``conversation``: who sent it, what it changes,
with the same domain functions as the web pages, and what is asked next; ``replies``: what
is texted back), the warning-signs check by text (``sign_questions``), STOP/START/HELP, and
the local fake gateway the demo and the tests use (``fake_gateway``). Outbound texts go
through the reminders' webhook channel, which checks opt-outs and quiet hours
(``reminders.sms_rules``).

May import: ``core``, ``web``, ``plans``, ``alerts``, ``outcomes``, ``reminders``,
``escalation``.
"""
