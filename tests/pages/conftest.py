"""Fixtures of the page tests: the API suite's populated ledger (tests/api/world.py), one
fresh app per test (``template`` and ``world``: tests/apifixtures.py, shared with the API
suite), and page clients signed in through the login form."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from tests.api.world import World

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def browser(world: World, principal: str | None) -> TestClient:
    """A cookie-keeping client; signed in through the login form when ``principal``."""
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    if principal is not None:
        form = client.get("/login")
        assert form.status_code == 200
        reply = client.post(
            "/login",
            data={"csrf": csrf_of(form.text), "api_key": world.template.tokens[principal]},
        )
        assert reply.status_code == 303, reply.text
    return client


class Page(HTMLParser):
    """A rendered page as the browser's parser sees it: its elements and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self._text).split())

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.tags if name == tag)

    def by_id(self, element_id: str) -> dict[str, str | None] | None:
        for _name, attrs in self.tags:
            if attrs.get("id") == element_id:
                return attrs
        return None

    def links(self) -> list[str]:
        return [str(a["href"]) for name, a in self.tags if name == "a" and a.get("href")]


def page_of(response: Any) -> Page:
    assert response.headers["content-type"].startswith("text/html"), response.headers
    return Page(response.text)
