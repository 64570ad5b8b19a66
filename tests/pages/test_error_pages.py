"""Errors as a reader meets them (docs/PAGES.md §3): an unknown address or method asked
for by a browser is the pages' own error page in the reader's language, while the API
and clients that do not prefer HTML keep problem+json; a detail names its field once; a
page past the last of a listing is a 404."""

from __future__ import annotations

import pytest

from tests.api.world import World
from tests.pages.conftest import browser, page_of

#: What Chromium sends for a navigation.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


@pytest.mark.parametrize("path", ["/nope", "/enterprises/x/y"])
def test_an_unknown_page_is_the_friendly_404_in_the_readers_language(
    world: World, path: str
) -> None:
    client = browser(world, None)
    english = client.get(path, headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "en"})
    assert english.status_code == 404
    page = page_of(english)
    assert page.by_id("error") is not None and "Not found" in page.text
    assert '<html lang="en">' in english.text
    chinese = client.get(path, headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 404
    assert '<html lang="zh-CN">' in chinese.text and "未找到" in page_of(chinese).text
    assert "problem" not in chinese.headers["content-type"]


def test_a_wrong_method_on_a_page_is_the_friendly_405(world: World) -> None:
    client = browser(world, None)
    reply = client.delete(
        "/enterprises", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "zh"}
    )
    assert reply.status_code == 405 and "GET" in reply.headers["allow"]
    page = page_of(reply)
    assert page.by_id("error") is not None and '<html lang="zh-CN">' in reply.text
    assert "Method Not Allowed" not in reply.text and "405" in page.text


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/v1/nope", BROWSER_ACCEPT),  # the API answers problem+json to everyone
        ("/nope", "*/*"),  # curl
        ("/nope", "application/json"),
        ("/nope", "application/problem+json, text/html;q=0.5"),
        ("/nope", None),
    ],
)
def test_the_api_and_clients_that_do_not_prefer_html_keep_problem_json(
    world: World, path: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    client = browser(world, None)
    reply = client.get(path, headers=headers)
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["status"] == 404
    wrong = client.delete(
        "/v1/records" if path.startswith("/v1") else "/enterprises", headers=headers
    )
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


def test_an_error_detail_names_its_field_once(world: World) -> None:
    client = browser(world, None)
    reply = client.get("/search", params={"q": "0x12"})
    assert reply.status_code == 422
    detail = page_of(reply).text
    assert "q: q:" not in detail
    assert detail.count("q:") == 1


@pytest.mark.parametrize("path", ["/enterprises", "/equipment", "/registry", "/warnings"])
def test_a_page_past_the_last_is_a_404(world: World, path: str) -> None:
    client = browser(world, "eu-regulator")
    first = client.get(path)
    assert first.status_code == 200
    past = client.get(path, params={"page": "2", "limit": "200"})
    assert past.status_code == 404
    assert page_of(past).by_id("error") is not None
