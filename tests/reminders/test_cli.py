"""``tracker reminders tick``, ``tracker scheduler`` and the demo's one scheduler child."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from tracker.app import create_app
from tracker.cli import demo
from tracker.cli.reminders import reminders_group, scheduler_command
from tracker.core.models import Reminder


def test_it_ticks_once_at_an_explicit_instant(app, runner, enroll_patient):
    enroll_patient()
    result = runner.invoke(reminders_group, ["tick", "--now", "2026-11-21T14:05:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "planned=1 sent=1 retried=0 dead=0 expired=0"
    again = runner.invoke(reminders_group, ["tick", "--now", "2026-11-21T09:10:00-05:00"])
    assert again.output.strip() == "planned=0 sent=0 retried=0 dead=0 expired=0"


def test_it_refuses_a_malformed_or_naive_now_and_writes_nothing(
    app, runner, session, enroll_patient
):
    enroll_patient()
    for bad in ("yesterday", "2026-11-21T14:05:00", "2026-13-01T00:00:00Z"):
        result = runner.invoke(reminders_group, ["tick", "--now", bad])
        assert result.exit_code == 2
        assert result.output.count("\n") == 1 and "--now" in result.output
    assert session.scalar(select(Reminder)) is None


def test_it_refuses_to_send_reminders_without_a_real_secret_key(database_url, monkeypatch):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    for key in (None, "dev"):
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": key}, serving=False)
        runner = app.test_cli_runner()
        for command, args in ((reminders_group, ["tick"]), (scheduler_command, [])):
            result = runner.invoke(command, args)
            assert result.exit_code == 2
            assert "TRACKER_SECRET_KEY is missing or a known default" in result.output
        app.extensions["tracker.engine"].dispose()


def test_the_demo_runs_exactly_one_scheduler_beside_the_web_server(tmp_path, monkeypatch):
    started: list[tuple[list[str], dict[str, str]]] = []
    served: list[bool] = []

    class FakeChild:
        pid = 4242
        terminated = 0

        def poll(self):
            return None

        def terminate(self):
            FakeChild.terminated += 1

        def wait(self, timeout=None):
            return 0

    def fake_popen(args, env):
        started.append((args, env))
        return FakeChild()

    def fake_serve(host, port, app, **options):
        assert not options["use_reloader"]
        served.append(True)

    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setattr(subprocess, "Popen", fake_popen)
    monkeypatch.setattr(demo, "run_simple", fake_serve)
    demo.run(host="127.0.0.1", port=5999, serve=True)

    # The fake SMS gateway on the next port, then exactly one scheduler.
    (gateway, gateway_env), (scheduler, env) = started
    assert gateway[-4:] == ["--port", "6000", "--app-url", "http://127.0.0.1:5999"]
    assert scheduler == demo.scheduler_command_line()
    assert scheduler[-1] == "scheduler"
    assert env["TRACKER_DATABASE_URL"] == f"sqlite:///{tmp_path}/demo.db"
    assert env["TRACKER_SECRET_KEY"] and env["TRACKER_BASE_URL"] == "http://127.0.0.1:5999"
    # The scheduler sends texts to that gateway, which signs replies with the same secret.
    assert env["TRACKER_WEBHOOK_URL"] == "http://127.0.0.1:6000/messages"
    assert env["TRACKER_SMS_INBOUND_SECRET"] == gateway_env["TRACKER_SMS_INBOUND_SECRET"]
    assert served == [True] and FakeChild.terminated == 2
