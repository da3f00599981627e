"""The fake gateway as the demo runs it: its own process, real HTTP both ways. The tracker's
deliver step posts a reminder to it, it reports delivery (signed), and a reply typed on its
page reaches the tracker signed and comes back answered."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import free_port
from tests.texting.conftest import NUMBER, SECRET, tick
from tracker.core.models import PainEntry, Reminder
from tracker.texting.fake_gateway import start_process, webhook_url


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def fake_process(app, live_server):
    port = free_port()
    process = start_process(port=port, app_url=live_server, secret=SECRET)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            get(base + "/")
        except OSError:
            return False
        return True

    try:
        wait_for(up)
        app.config.update(
            SMS_PUBLIC_URL=live_server,
            SMS_STATUS_CALLBACK_URL=f"{live_server}/sms/status",
            WEBHOOK_URL=webhook_url(port),
            REMINDER_CHANNEL="webhook",
        )
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_whole_loop_through_the_fake_gateway_process(app, session, patient, fake_process):
    tick(app, NOW)
    texts = json.loads(get(fake_process + "/api/texts"))
    assert [(t["number"], t["kind"]) for t in texts] == [(NUMBER, "daily")]

    def delivered() -> bool:
        session.expire_all()
        return session.scalars(select(Reminder)).one().gateway_status == "delivered"

    wait_for(delivered)

    page = get(fake_process + "/")
    token = re.search(r'name="token" value="([^"]+)"', page)[1]
    form = urllib.parse.urlencode({"token": token, "number": NUMBER, "body": "4"}).encode()
    request = urllib.request.Request(fake_process + "/send", data=form, method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    texts = json.loads(get(fake_process + "/api/texts"))
    bodies = [t["body"] for t in texts if t["kind"] == "reply"]
    assert bodies[0] == "Thank you. Your pain score of 4 is saved."
    assert session.scalars(select(PainEntry)).one().score == 4
    # A post without the page's token is refused: another site cannot text as a patient.
    forged = urllib.parse.urlencode({"number": NUMBER, "body": "STOP"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            urllib.request.Request(fake_process + "/send", data=forged, method="POST"),
            timeout=10,
        )
    assert refused.value.code == 403
    refused.value.close()
