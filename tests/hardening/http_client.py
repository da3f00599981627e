"""A tiny browser for loopback tests: one http.client connection, cookies, CSRF tokens.

Standard library only, so load and rate-limit tests need nothing beyond the app. Every
request goes to 127.0.0.1 and nothing follows redirects by itself.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from dataclasses import dataclass, field

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Reply:
    status: int
    location: str | None
    body: str


@dataclass
class Browser:
    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.base)
        assert parsed.hostname == "127.0.0.1", "loopback only"
        self._conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=self.timeout)

    def close(self) -> None:
        self._conn.close()

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, headers=None
    ) -> Reply:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self._conn.request(method, path, body=body, headers=sent)
            response = self._conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # A sync worker closes the connection after each response: open a new one once.
            self._conn.close()
            self._conn.request(method, path, body=body, headers=sent)
            response = self._conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if response.headers.get("Connection", "").lower() == "close":
            self._conn.close()
        return Reply(response.status, response.headers.get("Location"), text)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict[str, str], **kwargs) -> Reply:
        return self.request("POST", path, form=form, **kwargs)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
