"""Delivery channels: one class per way of reaching a patient.

Each ``send`` either returns (delivered, as far as we can know) or raises ``DeliveryError``;
``permanent=True`` means retrying cannot help (a rejected address, a 4xx from a gateway),
so the reminder is dead-lettered at once and the care team is told. Every message carries
its idempotency key (the email's Message-ID, a JSON field and an HTTP header), so a
receiver can drop the duplicate that a crash in mid-send may cause.
"""

from __future__ import annotations

import binascii
import http.client
import io
import json
import logging
import re
import secrets
import smtplib
import socket
import ssl
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.charset import Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.policy import Compat32, compat32
from email.utils import formatdate, getaddresses, parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import SplitResult, urlencode, urlsplit

from tracker.core.log_redaction import escape_controls, redact
from tracker.reminders.messages import OutgoingMessage

log = logging.getLogger("tracker.reminders")


class DeliveryError(Exception):
    """``permanent``: retrying cannot help. ``retry_after``: the receiver said when to try
    again (an HTTP ``Retry-After``), as seconds from now or as an instant."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def redact_url(url: str | None) -> str:
    """``scheme://host[:port]/path`` of a URL: no user name, password, query or fragment.

    Every webhook error message and log line names the URL only this way: a gateway's URL
    often carries an API key (``?token=...``) or credentials (``https://user:pass@...``),
    and error messages end up on the triage list, in ``last_error`` and in the logs.
    """
    if not url:
        return "(none)"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:
            port = None
    except ValueError:
        return "(an invalid URL)"
    if ":" in host:
        host = f"[{host}]"  # IPv6
    netloc = f"{host}:{port}" if port is not None else host
    scheme = parts.scheme if parts.scheme.isalnum() else ""
    return f"{scheme}://{netloc}{parts.path}" if scheme or netloc else "(an invalid URL)"


# The longest wait a receiver's Retry-After can impose on one message, and the shortest
# (a "0" or a date already past must not make the deliver step retry in a tight loop).
RETRY_AFTER_MAX_SECONDS = 3600.0
RETRY_AFTER_MIN_SECONDS = 10.0


def parse_retry_after(value: str | None) -> float | datetime | None:
    """An HTTP ``Retry-After``: delay-seconds (a float) or an HTTP-date (an aware
    datetime); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def retry_at(
    error: DeliveryError, now: datetime, *, max_seconds: float = RETRY_AFTER_MAX_SECONDS
) -> datetime | None:
    """When the receiver asked to be tried again, within [now + RETRY_AFTER_MIN_SECONDS,
    now + max_seconds]; None when it did not say."""
    after = error.retry_after
    if after is None:
        return None
    earliest = now + timedelta(seconds=RETRY_AFTER_MIN_SECONDS)
    latest = now + timedelta(seconds=max(max_seconds, RETRY_AFTER_MIN_SECONDS))
    when = now + timedelta(seconds=after) if isinstance(after, float | int) else after
    return min(max(when, earliest), latest)


# What is left of sending a message once it is written out: handing it to the receiver.
# ``Channels.prepare`` returns one, so the deliver step can write the next message while
# this one is on its way (see reminder_delivery); calling it raises DeliveryError too.
Handover = Callable[[], None]


class Channel(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> None: ...


def message_id(idempotency_key: str, base_url: str) -> str:
    domain = urlsplit(base_url).hostname or "recovery-tracker.invalid"
    return f"<{idempotency_key}@{domain}>"


class LogChannel:
    """Writes the message to the log: the demo default, and a safe fallback to inspect."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def prepare(self, message: OutgoingMessage) -> Handover:
        return lambda: self.send(message)

    def send(self, message: OutgoingMessage) -> None:
        # One line per message: a line break in a name or text is written as an escape, so
        # it cannot forge a log line. The personal link is a credential: logs never carry it.
        self.logger.info(
            "%s %s to %s (patient %s): %s | %s",
            "page" if message.kind == "page" else "reminder",
            escape_controls(message.idempotency_key),
            escape_controls(message.to_name or message.patient_name),
            message.patient_id,
            escape_controls(message.subject),
            escape_controls(redact(message.short_text)),
        )


# UTF-8 text parts: quoted-printable (the encoding the email package picks for these
# messages, whose safety line is long and has a "°"), or base64 when that is shorter (a
# text mostly in a non-Latin script), as the email package decides too.
_UTF8_BASE64 = Charset("utf-8")  # base64 is its default
_ASCII = bytes(range(128))


class _Wire(Compat32):
    """compat32 writing for SMTP (CRLF line ends). A header that is ASCII and fits on one
    line is written as it is: what ``Header.encode`` makes of it too, at a third of the
    cost of running it for each of the message's dozen or so headers."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= 78
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_WIRE = _Wire(linesep="\r\n")
_LINE_ENDS = re.compile(r"\r\n?")


def _text_part(text: str, subtype: str) -> Message:
    # Line ends as EmailMessage.set_content leaves them: "\n", and one at the end.
    text = _LINE_ENDS.sub("\n", text)
    if not text.endswith("\n"):
        text += "\n"
    raw = text.encode("utf-8")
    # Quoted-printable writes each byte outside ASCII as three characters.
    quoted_size = len(raw) + 2 * len(raw.translate(None, _ASCII))
    if quoted_size > len(raw) * 4 / 3:
        return MIMEText(text, subtype, _UTF8_BASE64, policy=compat32)
    # The headers MIMEText writes, with the body quoted by binascii (C) instead of the
    # email package's pure-Python encoder: the same bytes once decoded, at a fraction of
    # the cost (the text and HTML parts were a fifth of the work of composing an email).
    part = Message(policy=compat32)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["MIME-Version"] = "1.0"
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(raw).decode("ascii"))
    return part


class EmailChannel:
    """Plain-text and HTML parts over SMTP; the idempotency key is the Message-ID.

    Messages are put together with the email package's ``email.mime`` classes and its
    ``compat32`` policy, which keep headers as plain strings: the ``EmailMessage`` API
    parses every header it is given (and again to write it out), which made it the largest
    part of the deliver step's work per email (about 1.4 ms of CPU of some 4.5; this way
    about 0.2 ms). Addresses that need SMTPUTF8 (non-ASCII) still go through
    ``EmailMessage``, which knows how to send them.
    """

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 25,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
        sender: str,
        base_url: str,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = float(timeout)
        self.sender = sender
        self.base_url = base_url
        # The envelope sender (MAIL FROM), as send_message takes it from the From header.
        self._envelope_from = getaddresses([sender])[0][1]
        self._smtp: smtplib.SMTP | None = None

    def build(self, message: OutgoingMessage) -> Message:
        """The message as it goes out: From, To, Subject, Date, Message-ID and the
        idempotency key, then a multipart/alternative of the text and HTML parts."""
        to = message.email or ""
        if not (to.isascii() and self.sender.isascii()):
            return self._build_international(message)
        headers = {
            "From": self.sender,
            "To": to,
            "Subject": message.subject,
            "Date": formatdate(localtime=False),
            "Message-ID": message_id(message.idempotency_key, self.base_url),
            "X-Idempotency-Key": message.idempotency_key,
        }
        email = Message(policy=compat32)
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                # As EmailMessage refuses them: a line break would start a new header.
                raise ValueError(f"the {name} header may not contain a line break")
            # Non-ASCII (a translated activity title in the subject) as RFC 2047 words.
            email[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
        email["MIME-Version"] = "1.0"
        # A boundary like the email package's own. It need not be searched for in the
        # parts (the package compiles a regular expression per message for that): they
        # are quoted-printable, where "=" is always followed by two hex digits or ends
        # the line, or base64, which has no "-"; no line of theirs can start with "--==".
        boundary = "=" * 15 + f"{secrets.randbelow(10**19):019d}=="
        email["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
        email.attach(_text_part(message.text, "plain"))
        email.attach(_text_part(message.html, "html"))
        return email

    def _build_international(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.email or ""
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id(message.idempotency_key, self.base_url)
        email["X-Idempotency-Key"] = message.idempotency_key
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def prepare(self, message: OutgoingMessage) -> Handover:
        """Write ``message`` out now; returns the call that sends it (see ``send``)."""
        if not message.email:
            raise DeliveryError("the patient has no email address", permanent=True)
        email = self.build(message)
        if isinstance(email, EmailMessage):
            return lambda: self._deliver(lambda smtp: smtp.send_message(email))  # SMTPUTF8
        # What send_message does for this message, without parsing its headers again: the
        # envelope from the From and To headers, the message written with CRLF line ends.
        recipients = [address for _, address in getaddresses([email["To"]])]
        wire = io.BytesIO()
        BytesGenerator(wire, mangle_from_=False, policy=_WIRE).flatten(email)
        data = wire.getvalue()
        return lambda: self._deliver(
            lambda smtp: smtp.sendmail(self._envelope_from, recipients, data)
        )

    def send(self, message: OutgoingMessage) -> None:
        """Send over the open connection (opened on first use, kept for the next message).

        A deliver step sends many messages in a row: one SMTP session (and TLS handshake
        and login) for all of them, instead of one per message. A kept connection the
        server has dropped meanwhile is reopened once; ``close()`` ends it.
        """
        self.prepare(message)()

    def _deliver(self, transmit: Callable[[smtplib.SMTP], object]) -> None:
        while True:
            reused = self._smtp is not None
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                transmit(self._smtp)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                # The session is still good (smtplib has reset it): keep it.
                codes = [code for code, _ in exc.recipients.values()]
                # 5xx for the recipient is the server saying "never": retrying cannot help.
                raise DeliveryError(
                    f"SMTP refused the recipient: {codes}",
                    permanent=all(c >= 500 for c in codes),
                ) from exc
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self.close()
                if reused:
                    continue  # idle too long, or the server restarted: one fresh connection
                raise DeliveryError(f"SMTP {self.host}:{self.port}: {_describe(exc)}") from exc
            except (smtplib.SMTPException, OSError) as exc:
                # The session's state is unknown after an error: start the next one afresh.
                self.close()
                raise DeliveryError(f"SMTP {self.host}:{self.port}: {_describe(exc)}") from exc

    def close(self) -> None:
        """End the kept connection, if any (politely; a dead one is just dropped)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()


class WebhookChannel:
    """POSTs JSON (e.g. to an SMS gateway). Non-2xx fails; 4xx other than 429 is permanent.

    ``status_callback``: where the gateway reports what became of a reminder's text
    (queued, sent, delivered, failed: tracker/texting), with the reminder's idempotency key
    in its query; set when replies to texts are read (``SMS_STATUS_CALLBACK_URL``).
    """

    name = "webhook"

    def __init__(
        self, *, url: str | None, timeout: float = 10, status_callback: str | None = None
    ) -> None:
        self.url = url
        self.timeout = float(timeout)
        self.status_callback = status_callback
        self._connections: dict[tuple[str, str | None, int | None], http.client.HTTPConnection] = {}

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body = {
            "idempotency_key": message.idempotency_key,
            "kind": message.kind,
            "local_day": message.local_day.isoformat(),
            "to": {
                "name": message.to_name or message.patient_name,
                "phone": message.phone,
                "email": message.email,
            },
            "patient_id": message.patient_id,
            "clinic": {"name": message.clinic_name, "phone": message.clinic_phone},
            "subject": message.subject,
            "sms": message.short_text,
            "text": message.text,
            "link": message.link,
        }
        if self.status_callback and message.kind != "page":
            query = urlencode({"key": message.idempotency_key})
            body["status_callback"] = f"{self.status_callback}?{query}"
        return body

    def send(self, message: OutgoingMessage, *, url: str | None = None) -> None:
        self.prepare(message, url=url)()

    def prepare(self, message: OutgoingMessage, *, url: str | None = None) -> Handover:
        """Check the URL and write the JSON body now; returns the call that POSTs it."""
        target = url or self.url
        if not target:
            raise DeliveryError("no webhook URL is configured", permanent=True)
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(f"webhook URL {redact_url(target)} is not http(s)", permanent=True)
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise DeliveryError(
                f"webhook URL {redact_url(target)} has an invalid port", permanent=True
            ) from None
        body = json.dumps(self.payload(message)).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "User-Agent": "recovery-tracker-reminders",
        }
        return lambda: self._post(target, parts, body, headers)

    def _post(self, target: str, parts: SplitResult, body: bytes, headers: dict[str, str]) -> None:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.hostname, parts.port)
        while True:
            reused = key in self._connections
            connection = self._connections.get(key) or self._open(parts)
            self._connections[key] = connection
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
                if response.will_close:
                    self._drop(key)
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(key)
                if reused:
                    continue  # the receiver closed the kept connection: one fresh connection
                raise DeliveryError(f"webhook {redact_url(target)}: {_describe(exc)}") from exc
            except http.client.InvalidURL:
                # Its message quotes the URL (query and all): not repeated here.
                self._drop(key)
                raise DeliveryError(
                    f"webhook {redact_url(target)}: the URL is not valid for HTTP", permanent=True
                ) from None
            except (http.client.HTTPException, OSError) as exc:
                self._drop(key)
                raise DeliveryError(f"webhook {redact_url(target)}: {_describe(exc)}") from exc
        if 200 <= status < 300:
            return
        # 429 (slow down) and 408 (timeout) are the receiver asking us to try again later.
        permanent = 400 <= status < 500 and status not in (408, 429)
        # 429 and 503 may say when to come back; that is when this message is tried next.
        after = parse_retry_after(retry_after) if status in (429, 503) else None
        raise DeliveryError(
            f"webhook {redact_url(target)} answered HTTP {status}",
            permanent=permanent,
            retry_after=after,
        )

    def _open(self, parts: SplitResult) -> http.client.HTTPConnection:
        # Kept open (HTTP/1.1 keep-alive) for the next message to the same receiver: a
        # deliver step sends many in a row. ``close()`` ends them.
        if parts.scheme == "https":
            return http.client.HTTPSConnection(
                parts.hostname,
                parts.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)

    def _drop(self, key: tuple[str, str | None, int | None]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self._connections):
            self._drop(key)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and exc.reason is not None:
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:300]


class Channels:
    """The channels of one deployment, built from its configuration."""

    def __init__(self, *, email: EmailChannel | None, webhook: WebhookChannel, log: LogChannel):
        self.email = email
        self.webhook = webhook
        self.log = log

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Channels:
        email = None
        if config.get("SMTP_HOST"):
            email = EmailChannel(
                host=config["SMTP_HOST"],
                port=config.get("SMTP_PORT", 25),
                username=config.get("SMTP_USERNAME"),
                password=config.get("SMTP_PASSWORD"),
                starttls=bool(config.get("SMTP_STARTTLS")),
                timeout=config.get("SMTP_TIMEOUT", 10),
                sender=config.get("MAIL_FROM", "recovery-tracker@localhost"),
                base_url=config.get("BASE_URL", ""),
            )
        return cls(
            email=email,
            webhook=WebhookChannel(
                url=config.get("WEBHOOK_URL"),
                timeout=config.get("WEBHOOK_TIMEOUT", 10),
                status_callback=config.get("SMS_STATUS_CALLBACK_URL"),
            ),
            log=LogChannel(),
        )

    def target(self, channel: str, *, webhook_url: str | None) -> str:
        """Where ``channel`` delivers, for an operator, without credentials."""
        if channel == "email":
            if self.email is None:
                return "smtp (not configured)"
            return f"smtp {self.email.host}:{self.email.port}"
        if channel == "webhook":
            return redact_url(webhook_url or self.webhook.url)
        return channel

    def close(self) -> None:
        """Close connections kept open between messages (the SMTP session)."""
        if self.email is not None:
            self.email.close()
        self.webhook.close()

    def send(self, channel: str, message: OutgoingMessage, *, webhook_url: str | None) -> None:
        self.prepare(channel, message, webhook_url=webhook_url)()

    def prepare(
        self, channel: str, message: OutgoingMessage, *, webhook_url: str | None
    ) -> Handover:
        """Write ``message`` out for ``channel``; returns the call that hands it over.

        Raises DeliveryError (as the hand-over itself may) when it cannot be sent.
        """
        if channel == "log":
            return self.log.prepare(message)
        if channel == "email":
            if self.email is None:
                # SMTP may come back in the configuration; until then this is a failure to
                # retry, not a reason to drop the reminder.
                raise DeliveryError("email is not configured (TRACKER_SMTP_HOST)")
            return self.email.prepare(message)
        if channel == "webhook":
            return self.webhook.prepare(message, url=webhook_url)
        raise DeliveryError(f"unknown channel {channel!r}", permanent=True)


__all__ = [
    "Channel",
    "Channels",
    "DeliveryError",
    "EmailChannel",
    "Handover",
    "LogChannel",
    "WebhookChannel",
    "message_id",
    "parse_retry_after",
    "redact_url",
    "retry_at",
]
