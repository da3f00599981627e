"""Security headers: CSP without inline script, frame denial, HSTS only over HTTPS."""

from __future__ import annotations

from tests.conftest import make_test_app


def test_every_page_denies_framing_and_inline_script(client):
    for path in ("/", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"


def test_hsts_is_sent_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_behind_a_tls_proxy_the_forwarded_scheme_is_trusted(database_url):
    app = make_test_app(database_url, PROXY_FIX=1)
    try:
        response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in response.headers
    finally:
        app.extensions["tracker.engine"].dispose()


def test_an_unknown_page_is_a_plain_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
