"""After sign-in, ``next`` only ever leads to one of this site's own pages."""

from __future__ import annotations

import pytest

from tests.coordinator.conftest import PASSWORD

DEFAULT = "/coordinator/"
EVIL = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "%2F%2Fevil.example",
    "/%2Fevil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    "/no-such-page",
    "/coordinator/patients/1/status",  # a form action, not a page
    "/" + "a" * 3000,
]


def _sign_in(client, email, next_url):
    return client.post(
        "/coordinator/login", data={"email": email, "password": PASSWORD, "next": next_url}
    )


@pytest.mark.parametrize("next_url", EVIL)
def test_a_foreign_or_unknown_next_lands_on_the_default_page(client, coordinator, next_url):
    response = _sign_in(client, coordinator.email, next_url)
    if any(ord(c) < 32 for c in next_url):
        # A control character in any form field is refused before the view (input_rules.py):
        # no sign-in, no redirect anywhere.
        assert response.status_code == 400
        assert response.location is None
        return
    assert response.status_code == 302
    assert response.location == DEFAULT


@pytest.mark.parametrize("next_url", EVIL[:8])
def test_the_same_holds_when_already_signed_in(coordinator_client, next_url):
    response = coordinator_client.get("/coordinator/login", query_string={"next": next_url})
    assert response.location == DEFAULT


@pytest.mark.parametrize(
    "next_url",
    ["/coordinator/exports", "/coordinator/?alerts=1&page=2", "/coordinator/admin/audit"],
)
def test_an_own_page_is_where_sign_in_returns(client, coordinator, next_url):
    assert _sign_in(client, coordinator.email, next_url).location == next_url


def test_the_sign_in_form_does_not_echo_a_foreign_next(client):
    page = client.get("/coordinator/login", query_string={"next": "//evil.example"})
    assert "evil.example" not in page.get_data(as_text=True)
