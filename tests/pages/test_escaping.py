"""Pages escape every value, cap every page size and answer errors with a short HTML page
(docs/PAGES.md §3, §4)."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from api.pages.render import TEMPLATES_DIR
from ledger.examples import BIM_TANK_INSPECTION, CR_TANK
from tests.api.world import TANK_SUBJECT, World
from tests.pages.conftest import browser, page_of

HOSTILE_SUBJECT = '88.118.8/XSS-"><img/src=x/onerror=alert(1)><script>alert(2)</script>'
HOSTILE_DESCRIPTION = '<script>alert("d")</script>"><img src=x onerror=alert(3)>'
HOSTILE_DOCUMENT = "\"><img src=x onerror=alert(4)>'.pdf"
HOSTILE_ID = "urn:carbonledger:bim-archive:xss-probe"


def hostile_record(world: World) -> dict[str, Any]:
    """A real, accepted bim-archive whose subject and texts are markup."""
    record = copy.deepcopy(world.template.records[BIM_TANK_INSPECTION])
    record["id"] = HOSTILE_ID
    record["subject"] = HOSTILE_SUBJECT
    record["body"]["equipment"]["identifiers"][0]["value"] = HOSTILE_SUBJECT
    record["body"]["event"]["description"] = HOSTILE_DESCRIPTION
    record["body"]["documents"][0]["name"] = HOSTILE_DOCUMENT
    world.client("plant-mes").submit(record)
    return record


@pytest.mark.parametrize("principal", [None, "eu-regulator"])
def test_record_text_is_shown_literally_never_as_markup(
    world: World, principal: str | None
) -> None:
    hostile_record(world)
    client = browser(world, principal)
    for reply in (
        client.get("/record", params={"id": HOSTILE_ID}),
        client.get("/trail", params={"subject": HOSTILE_SUBJECT}),
    ):
        assert reply.status_code == 200
        page = page_of(reply)
        assert page.count("script") == 0 and page.count("img") == 0
        assert not any(k.startswith("on") for _n, attrs in page.tags for k in attrs)
        assert HOSTILE_SUBJECT in page.text
    record_page = page_of(client.get("/record", params={"id": HOSTILE_ID}))
    if principal == "eu-regulator":
        assert HOSTILE_DESCRIPTION in record_page.text and HOSTILE_DOCUMENT in record_page.text
    else:  # the public view withholds the description and the documents
        assert HOSTILE_DESCRIPTION not in record_page.text


def test_templates_never_mark_values_safe() -> None:
    for path in TEMPLATES_DIR.glob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b", source), path
        assert "autoescape false" not in source and "Markup(" not in source, path


def test_huge_page_sizes_are_clamped_and_said_so(world: World) -> None:
    client = browser(world, None)
    for url, params in (
        ("/trail", {"subject": TANK_SUBJECT, "limit": "1000000"}),
        ("/batches", {"limit": "1000000000"}),
        ("/batch", {"seq": "1", "limit": "1000000"}),
    ):
        reply = client.get(url, params=params)
        assert reply.status_code == 200
        assert page_of(reply).by_id("clamped") is not None


@pytest.mark.parametrize(
    "url,params,status",
    [
        ("/trail", {"subject": TANK_SUBJECT, "limit": "0"}, 422),
        ("/trail", {"subject": TANK_SUBJECT, "limit": "ten"}, 422),
        ("/trail", {"subject": TANK_SUBJECT, "after": "-1"}, 422),
        ("/trail", {"subject": TANK_SUBJECT, "limit": "9" * 40}, 422),
        ("/trail", {}, 422),
        ("/trail", {"subject": "x" * 401}, 422),
        ("/record", {}, 422),
        ("/record", {"id": "urn:carbonledger:carbon-record:nothing-here"}, 404),
        ("/batch", {"seq": "0"}, 422),
        ("/batch", {"seq": "999"}, 404),
        ("/batch", {}, 422),
    ],
)
def test_errors_are_short_html_pages(
    world: World, url: str, params: dict[str, str], status: int
) -> None:
    reply = browser(world, None).get(url, params=params)
    assert reply.status_code == status
    page = page_of(reply)
    error = page.by_id("error")
    assert error is not None and error["data-status"] == str(status)
    assert "Traceback" not in reply.text and "sqlalchemy" not in reply.text.lower()


def test_trail_pages_follow_the_cursor_without_overlap(world: World) -> None:
    client = browser(world, None)
    seen: list[str] = []
    url = "/trail?" + urlencode({"subject": TANK_SUBJECT, "limit": "2"})
    for _ in range(5):
        page = page_of(client.get(url))
        seen += [
            str(a["data-record-id"]) for n, a in page.tags if n == "tr" and "data-record-id" in a
        ]
        nxt = page.by_id("next-page")
        if nxt is None:
            break
        url = str(nxt["href"])
    assert len(seen) == len(set(seen)) == 5 and CR_TANK in seen
