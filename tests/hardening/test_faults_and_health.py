"""Database outages give a plain 503 and heal without a restart; /healthz tells the truth."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string

from tests.conftest import NOW, POSTGRES_URL, make_test_app
from tests.hardening.tcp_proxy import TcpProxy
from tracker.core.db import get_session, session_factory
from tracker.core.models import SchedulerHeartbeat


def _heartbeat(app, age: timedelta) -> None:
    with session_factory(app)() as session:
        session.add(SchedulerHeartbeat(name="host:1", last_tick_at=NOW - age, last_summary={}))
        session.commit()


@pytest.fixture
def frozen_app(app):
    app.config["FIXED_NOW"] = NOW
    return app


def test_it_is_healthy_with_a_recent_scheduler_tick(frozen_app):
    _heartbeat(frozen_app, timedelta(seconds=70))
    response = frozen_app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["scheduler"]["status"] == "ok" and body["scheduler"]["age_seconds"] == 70


def test_it_is_unhealthy_when_the_scheduler_is_stale_or_never_ran(frozen_app):
    client = frozen_app.test_client()
    never = client.get("/healthz")
    assert never.status_code == 503 and never.get_json()["scheduler"]["status"] == "never"
    _heartbeat(frozen_app, timedelta(minutes=10))
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.get_json()["scheduler"]["status"] == "stale"


@pytest.mark.postgres_only
def test_a_lost_database_gives_a_plain_503_and_service_resumes_without_restart(
    backend, database_url
):
    url = sa.make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    app = make_test_app(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), FIXED_NOW=NOW
    )
    app.testing = False  # real error handling, as in production (no exception propagation)

    @app.get("/probe")
    def probe() -> str:
        count = get_session().scalar(sa.text("SELECT count(*) FROM patient"))
        return render_template_string("<p>{{ n }} patients</p>", n=count)

    client = app.test_client()
    try:
        assert client.get("/probe").status_code == 200
        proxy.stop()
        down = client.get("/probe")
        assert down.status_code == 503
        page = down.get_data(as_text=True)
        assert "Temporarily unavailable" in page
        assert "Traceback" not in page and "OperationalError" not in page
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "unreachable"

        proxy.start()
        assert client.get("/probe").status_code == 200
    finally:
        proxy.stop()
        app.extensions["tracker.engine"].dispose()


def test_an_unexpected_error_is_a_plain_500_page(app):
    app.testing = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "secret detail" not in page


def test_postgres_url_points_at_the_local_server():
    assert "127.0.0.1" in POSTGRES_URL or "localhost" in POSTGRES_URL
