"""A fake SMS gateway on this machine: the whole texting loop without a phone or a provider.

It stands where a real gateway (or a bridge to one) would:

- the tracker's webhook channel posts each outbound text to it (``TRACKER_WEBHOOK_URL`` set
  to ``http://127.0.0.1:<port>/messages``); it keeps the text under the number, drops a
  repeated idempotency key as a real gateway would, and reports the text's fate (queued,
  sent, delivered; or failed, for numbers marked to fail) to the ``status_callback`` URL
  the webhook gave, signed like Twilio;
- its page (``http://127.0.0.1:<port>/``) lists the texts per number, with a box to text
  back as that number: the reply is posted to the tracker's ``/sms/inbound``, signed with
  the shared secret exactly as Twilio signs it, and the tracker's TwiML answer is shown as
  the texts it sends back.

Nothing leaves the machine. Run it with ``python -m tracker.texting.fake_gateway --port
5055 --app-url http://127.0.0.1:5000`` and the secret in ``TRACKER_SMS_INBOUND_SECRET``
(``start_process`` does this for the demo). The tests use ``FakeGateway`` directly, with a
transport that posts through Flask's test client.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, jsonify, redirect, render_template_string, request

from tracker.core.phones import sms_number
from tracker.texting.gateways import Gateway, TwilioGateway

log = logging.getLogger("tracker.fake_gateway")

# (url, form fields, headers) -> (HTTP status, response body)
Transport = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]
# The fake gateway's own number, the sender of every text (a fictional 555 number).
OWN_NUMBER = "+15552019999"  # not one of the demo patients (555-201-01xx)
ERROR_UNREACHABLE = "30003"  # Twilio's "unreachable destination handset"


def http_transport(timeout: float = 10) -> Transport:
    """Form posts over HTTP (the live fake gateway)."""

    def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        data = urlencode(form).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - http(s) only
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in headers.items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    return post


@dataclass
class FakeText:
    id: int
    number: str  # the phone's number (E.164 where it can be)
    direction: str  # "out": to the phone (from the tracker); "in": from the phone
    body: str
    at: str
    sid: str
    status: str
    key: str | None = None
    kind: str | None = None  # the tracker's kind of message (daily, page, ...), or "reply"
    answered_with: int | None = None  # HTTP status of the tracker's answer (texts in)


@dataclass
class FakeGateway:
    """The gateway's memory and behaviour (thread-safe: the live server is threaded)."""

    app_url: str
    secret: str
    transport: Transport = field(default_factory=http_transport)
    gateway: Gateway = field(default_factory=TwilioGateway)
    own_number: str = OWN_NUMBER
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    texts: list[FakeText] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    callbacks: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    keys: dict[str, FakeText] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _add(self, **values: Any) -> FakeText:
        text = FakeText(id=len(self.texts) + 1, at=self.clock().isoformat(), **values)
        self.texts.append(text)
        return text

    @staticmethod
    def new_sid() -> str:
        return "SM" + secrets.token_hex(16)

    # --- what the tracker sends -----------------------------------------------------------

    def accept(self, payload: dict[str, Any]) -> FakeText:
        """An outbound text from the tracker's webhook channel (its JSON payload)."""
        raw = str((payload.get("to") or {}).get("phone") or "")
        number = sms_number(raw) or raw
        key = payload.get("idempotency_key")
        with self.lock:
            if key and key in self.keys:
                return self.keys[key]  # the same message again: a gateway drops it
            failing = number in self.failing
            text = self._add(
                number=number,
                direction="out",
                body=str(payload.get("sms") or ""),
                sid=self.new_sid(),
                status="failed" if failing else "delivered",
                key=key,
                kind=payload.get("kind"),
            )
            if key:
                self.keys[key] = text
            callback = payload.get("status_callback")
            if callback:
                steps = ["queued", "sent", "failed" if failing else "delivered"]
                for step in steps:
                    form = {"MessageSid": text.sid, "MessageStatus": step, "To": number}
                    if step == "failed":
                        form["ErrorCode"] = ERROR_UNREACHABLE
                    self.callbacks.append((str(callback), form))
        return text

    def flush_callbacks(self) -> list[int]:
        """Post the delivery reports waiting, signed; the tracker's answers' statuses."""
        with self.lock:
            waiting, self.callbacks = self.callbacks, []
        statuses = []
        for url, form in waiting:
            headers = self.gateway.signed_headers(url, form, self.secret)
            status, _ = self.transport(url, form, headers)
            statuses.append(status)
        return statuses

    # --- what the phone sends -------------------------------------------------------------

    def text_from(self, number: str, body: str, *, sid: str | None = None) -> list[str]:
        """Text ``body`` to the tracker as ``number``; returns the texts it sends back."""
        number = sms_number(number) or number
        sid = sid or self.new_sid()
        url = f"{self.app_url.rstrip('/')}/sms/inbound"
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": number,
            "To": self.own_number,
            "Body": body,
            "NumMedia": "0",
        }
        headers = self.gateway.signed_headers(url, form, self.secret)
        status, answer = self.transport(url, form, headers)
        replies = self.gateway.texts_of_reply(answer) if status == 200 else []
        with self.lock:
            self._add(
                number=number,
                direction="in",
                body=body,
                sid=sid,
                status="received",
                answered_with=status,
            )
            for reply in replies:
                self._add(
                    number=number,
                    direction="out",
                    body=reply,
                    sid=self.new_sid(),
                    status="delivered",
                    kind="reply",
                )
        return replies

    # --- reading it back ------------------------------------------------------------------

    def conversation(self, number: str) -> list[FakeText]:
        number = sms_number(number) or number
        with self.lock:
            return [t for t in self.texts if t.number == number]

    def numbers(self) -> list[str]:
        with self.lock:
            return sorted({t.number for t in self.texts} | self.failing)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake SMS gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 16px/1.4 system-ui, sans-serif; margin: 1rem auto; max-width: 46rem; padding: 0 1rem; }
section { border: 1px solid #999; border-radius: 6px; margin: 1rem 0; padding: 0.5rem 1rem; }
.out { background: #eef; margin: 0.3rem 4rem 0.3rem 0; padding: 0.4rem; white-space: pre-wrap; }
.in { background: #efe; margin: 0.3rem 0 0.3rem 4rem; padding: 0.4rem; white-space: pre-wrap; }
small { color: #444; } textarea { width: 100%; }
</style></head><body>
<h1>Fake SMS gateway</h1>
<p>Texts the recovery tracker sent, by number. Nothing here leaves this machine.
Replies are posted to <code>{{ app_url }}/sms/inbound</code>, signed like Twilio.
<a href="/">Refresh</a></p>
<form method="post" action="/send"><input type="hidden" name="token" value="{{ token }}">
<label>Text as another number <input name="number" placeholder="+15552010142" required></label>
<input name="body" placeholder="Message" required> <button>Send</button></form>
{% for number in numbers %}
<section id="n{{ loop.index }}">
<h2>{{ number }}{% if number in failing %} (texts fail){% endif %}</h2>
{% for t in conversations[number] %}
<div class="{{ t.direction }}">{{ t.body }}<br><small>{{ t.at[:19] }} · {{ t.kind or '' }}
{{ 'to the phone' if t.direction == 'out' else 'from the phone' }} · {{ t.status }}
{% if t.answered_with and t.answered_with != 200 %}
 · tracker answered {{ t.answered_with }}{% endif %}</small></div>
{% endfor %}
<form method="post" action="/send"><input type="hidden" name="token" value="{{ token }}">
<input type="hidden" name="number" value="{{ number }}">
<label>Reply as {{ number }}<textarea name="body" rows="2" required></textarea></label>
<button>Send reply</button></form>
<form method="post" action="/fail"><input type="hidden" name="token" value="{{ token }}">
<input type="hidden" name="number" value="{{ number }}">
<button>{% if number in failing %}Deliver texts to this number again
{% else %}Make texts to this number fail{% endif %}</button></form>
</section>
{% else %}<p>No texts yet. Reminder texts appear here when the tracker sends them.</p>{% endfor %}
</body></html>"""


def make_app(fake: FakeGateway) -> Flask:
    """The fake gateway's web app: the webhook the tracker posts to, and the page."""
    app = Flask(__name__)
    # A form token of this process: another site's page cannot post a reply through it.
    token = secrets.token_urlsafe(16)

    def checked() -> None:
        if not secrets.compare_digest(request.form.get("token", ""), token):
            abort(403)

    @app.get("/")
    def index() -> str:
        numbers = fake.numbers()
        return render_template_string(
            PAGE,
            app_url=fake.app_url.rstrip("/"),
            numbers=numbers,
            conversations={n: fake.conversation(n) for n in numbers},
            failing=fake.failing,
            token=token,
        )

    @app.post("/messages")
    def messages() -> Response:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not (payload.get("to") or {}).get("phone"):
            return Response("a JSON text with to.phone is needed\n", status=400)
        text = fake.accept(payload)
        return jsonify({"sid": text.sid, "status": "queued"})

    @app.post("/send")
    def send() -> Response:
        checked()
        number, body = request.form.get("number", ""), request.form.get("body", "")
        if not number.strip() or not body:
            abort(400)
        fake.text_from(number.strip(), body)
        return redirect("/")  # type: ignore[return-value]

    @app.post("/fail")
    def fail() -> Response:
        checked()
        number = sms_number(request.form.get("number")) or request.form.get("number", "")
        with fake.lock:
            fake.failing.symmetric_difference_update({number})
        return redirect("/")  # type: ignore[return-value]

    @app.get("/api/texts")
    def api_texts() -> Response:
        with fake.lock:
            return jsonify([asdict(t) for t in fake.texts])

    return app


def _flush_forever(fake: FakeGateway, stop: threading.Event, every: float = 1.0) -> None:
    """Delivery reports go out a moment after the text, as a real gateway's do."""
    while not stop.wait(every):
        try:
            fake.flush_callbacks()
        except OSError as exc:  # the tracker is restarting: try again next round
            log.warning("delivery report not posted: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--app-url", default="http://127.0.0.1:5000")
    args = parser.parse_args(argv)
    secret = os.environ.get("TRACKER_SMS_INBOUND_SECRET")
    if not secret:
        parser.error("set TRACKER_SMS_INBOUND_SECRET (the secret the tracker checks)")
    if urlsplit(args.app_url).scheme not in ("http", "https"):
        parser.error("--app-url must be an http(s) URL")
    from werkzeug.serving import run_simple

    fake = FakeGateway(app_url=args.app_url, secret=secret)
    stop = threading.Event()
    threading.Thread(target=_flush_forever, args=(fake, stop), daemon=True).start()
    print(f"Fake SMS gateway: http://{args.host}:{args.port}/ (texts to {args.app_url})")
    try:
        run_simple(args.host, args.port, make_app(fake), threaded=True, use_reloader=False)
    finally:
        stop.set()
    return 0


def start_process(*, port: int, app_url: str, secret: str) -> subprocess.Popen[bytes]:
    """Start the fake gateway as its own process (the demo does, beside the web server)."""
    env = dict(os.environ, TRACKER_SMS_INBOUND_SECRET=secret, PYTHONUNBUFFERED="1")
    command = [
        sys.executable,
        "-m",
        "tracker.texting.fake_gateway",
        "--port",
        str(port),
        "--app-url",
        app_url,
    ]
    return subprocess.Popen(command, env=env)  # noqa: S603 - our own module


def webhook_url(port: int, host: str = "127.0.0.1") -> str:
    """What ``TRACKER_WEBHOOK_URL`` is for a fake gateway on ``port``."""
    return f"http://{host}:{port}/messages"


@dataclass(frozen=True)
class DemoTexting:
    """The settings that put the demo's texts through a fake gateway on ``port``: for the
    web app (``app_config``), for the scheduler process (``env``), and the process itself."""

    port: int
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def app_config(self) -> dict[str, Any]:
        return {
            "SMS_INBOUND_SECRET": self.secret,
            "WEBHOOK_URL": webhook_url(self.port),
            "REMINDER_CHANNEL": "webhook",
        }

    def env(self) -> dict[str, str]:
        return {f"TRACKER_{key}": str(value) for key, value in self.app_config().items()}

    def start(self, app_url: str) -> subprocess.Popen[bytes]:
        return start_process(port=self.port, app_url=app_url, secret=self.secret)


if __name__ == "__main__":
    sys.exit(main())
