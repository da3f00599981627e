"""SMS gateway adapters: how a gateway posts texts and reports, signs them, and takes a reply.

One class per provider, so another provider is one more class here (and a name in
``GATEWAYS``, chosen with ``TRACKER_SMS_GATEWAY``). ``TwilioGateway`` is the de facto shape
(SPEC section 6, "Text messages"): an inbound text is a form post of ``From``, ``To``,
``Body`` and ``MessageSid``; a status callback of ``MessageSid``, ``MessageStatus`` and
``ErrorCode``; both carry ``X-Twilio-Signature``, the base64 HMAC-SHA1, keyed with the
account's auth token, of the URL the gateway posted to followed by every form field's
name and value, sorted by name. The reply is TwiML: one ``<Message>`` per text.

Outbound texts go through the reminders' webhook channel (JSON to the gateway or a bridge to
its API, tracker/reminders/channels.py); an adapter only reads what the gateway posts back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from xml.sax.saxutils import escape, unescape

from werkzeug.datastructures import MultiDict

# A provider's message id: letters and digits (Twilio: "SM" and 32 hexadecimal digits).
_SID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_SENDER_MAX = 40


class BadPost(ValueError):
    """A post the gateway should not have sent: answered with ``status``, nothing stored."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InboundText:
    sid: str
    sender: str  # as the gateway wrote it (E.164 for Twilio)
    to: str | None
    body: str


@dataclass(frozen=True)
class StatusReport:
    sid: str | None
    status: str | None  # queued | sent | delivered | undelivered | failed; None: not ours
    error: str | None


@dataclass(frozen=True)
class Reply:
    body: str
    content_type: str


class Gateway(Protocol):
    name: str

    def signature(self, url: str, form: Mapping[str, Any], secret: str) -> str: ...

    def verify(
        self, url: str, form: MultiDict[str, str], headers: Mapping[str, str], secret: str
    ) -> bool: ...

    def inbound(self, form: MultiDict[str, str], *, max_chars: int) -> InboundText: ...

    def status_report(self, form: MultiDict[str, str]) -> StatusReport: ...

    def reply(self, texts: list[str]) -> Reply: ...

    def texts_of_reply(self, body: str) -> list[str]: ...

    def signed_headers(self, url: str, form: Mapping[str, Any], secret: str) -> dict[str, str]: ...


def _one(form: MultiDict[str, str], name: str, *, required: bool = True) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise BadPost(f"{name} is given more than once")
    if not values:
        if required:
            raise BadPost(f"{name} is missing")
        return None
    return values[0]


class TwilioGateway:
    """Twilio's webhooks (and any gateway that copies them, as most do)."""

    name = "twilio"
    header = "X-Twilio-Signature"
    # Twilio's MessageStatus values, as the tracker counts them.
    STATUSES = {
        "accepted": "queued",
        "scheduled": "queued",
        "queued": "queued",
        "sending": "sent",
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "undelivered": "undelivered",
        "failed": "failed",
        "canceled": "failed",
    }
    # Reports about inbound messages, not about a text the tracker sent.
    INBOUND_STATUSES = ("receiving", "received")

    def signature(self, url: str, form: Mapping[str, Any], secret: str) -> str:
        """Twilio's request signature: the URL, then each field's name and value in order
        of name (several values of one name in order too), HMAC-SHA1, base64."""
        data = url
        for name in sorted(form):
            values = form.getlist(name) if isinstance(form, MultiDict) else form[name]
            if isinstance(values, str):
                values = [values]
            for value in sorted(set(values)):
                data += name + value
        digest = hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    def verify(
        self, url: str, form: MultiDict[str, str], headers: Mapping[str, str], secret: str
    ) -> bool:
        given = headers.get(self.header) or ""
        expected = self.signature(url, form, secret)
        return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))

    def signed_headers(self, url: str, form: Mapping[str, Any], secret: str) -> dict[str, str]:
        return {self.header: self.signature(url, form, secret)}

    def inbound(self, form: MultiDict[str, str], *, max_chars: int) -> InboundText:
        sid = _one(form, "MessageSid") or ""
        if not _SID.fullmatch(sid):
            raise BadPost("MessageSid is not a message id")
        sender = (_one(form, "From") or "").strip()
        if not sender or len(sender) > _SENDER_MAX:
            raise BadPost("From is not a phone number")
        body = _one(form, "Body") or ""
        if len(body) > max_chars:
            raise BadPost(f"Body is longer than {max_chars} characters", 413)
        to = _one(form, "To", required=False)
        return InboundText(sid=sid, sender=sender, to=(to or None), body=body)

    def status_report(self, form: MultiDict[str, str]) -> StatusReport:
        sid = _one(form, "MessageSid", required=False)
        if sid is not None and not _SID.fullmatch(sid):
            raise BadPost("MessageSid is not a message id")
        raw = (_one(form, "MessageStatus") or "").strip().lower()
        if raw in self.INBOUND_STATUSES:
            return StatusReport(sid, None, None)
        status = self.STATUSES.get(raw)
        if status is None:
            raise BadPost("MessageStatus is not a delivery status")
        error = (_one(form, "ErrorCode", required=False) or "").strip()[:40] or None
        return StatusReport(sid, status, error)

    def reply(self, texts: list[str]) -> Reply:
        messages = "".join(f"<Message>{escape(text)}</Message>" for text in texts)
        return Reply(
            f'<?xml version="1.0" encoding="UTF-8"?><Response>{messages}</Response>',
            "text/xml; charset=utf-8",
        )

    def texts_of_reply(self, body: str) -> list[str]:
        """The texts of a TwiML reply (what the fake gateway sends on)."""
        return [unescape(text) for text in _MESSAGE.findall(body)]


_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)

GATEWAYS: dict[str, Gateway] = {"twilio": TwilioGateway()}


def gateway_named(name: str) -> Gateway:
    try:
        return GATEWAYS[name]
    except KeyError:
        raise KeyError(f"unknown SMS gateway {name!r} (known: {', '.join(GATEWAYS)})") from None
