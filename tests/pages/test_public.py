"""The public registry never leaks a hidden field (docs/PAGES.md §2): the text of every
value the public view withholds, of every record of the example ledger, is absent from
every page and every API answer an anonymous reader can fetch, in both languages."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from babel.messages.pofile import read_po

from api.pages.i18n import Reader, catalogue_path
from ledger.examples import BIM_TANK_INSPECTION
from tests.api.world import ENTERPRISE, World
from tests.pages.conftest import browser

#: Shorter values ("A", "kg", "2025") occur in any page for reasons of their own.
MIN_CHARS = 5


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _hidden_texts(world: World) -> dict[str, str]:
    """text -> the record whose public view withholds it, for every value no public view
    of any record discloses."""
    disclosed: set[str] = set()
    full: dict[str, set[str]] = {}
    for record_id, record in world.template.records.items():
        reply = world.http.get("/v1/record", params={"id": record_id})
        assert reply.status_code == 200, reply.text
        disclosed |= set(_leaves(reply.json()))
        full[record_id] = set(_leaves(record))
    # Words of the pages themselves ("document") and parts of a disclosed text ("0.2790"
    # in "0.02790") are not a leak when they appear.
    known = "\n".join(disclosed | {m for pair in _messages() for m in pair})
    english, chinese = Reader("en", "UTC"), Reader("zh", "Asia/Shanghai")
    hidden: dict[str, str] = {}
    for record_id, texts in full.items():
        for text in texts - disclosed:
            for shown in {text, english.number(text), chinese.number(text)}:
                if len(shown) >= MIN_CHARS and shown not in known:
                    hidden[shown] = record_id
    return hidden


def _messages() -> Iterator[tuple[str, str]]:
    with catalogue_path("zh").open("rb") as source:
        for message in read_po(source):
            if message.id:
                yield str(message.id), str(message.string)


def _public_answers(world: World) -> Iterator[tuple[str, str]]:
    records = list(world.template.records)
    subjects = sorted({str(r["subject"]) for r in world.template.records.values()})
    equipment = [s for s in subjects if "/" in s]  # Handles; the rest are reference data
    batches = [b["seq"] for b in world.http.get("/v1/batches").json()["items"]]
    pages = ["/", "/enterprises", "/equipment", "/registry", "/warnings", "/whitelist"]
    pages += ["/batches", "/check", "/enterprise?id=" + quote(ENTERPRISE)]
    pages += [f"/batch?seq={seq}" for seq in batches]
    pages += ["/record?id=" + quote(r) for r in records]
    pages += ["/trail?subject=" + quote(s) for s in subjects]
    pages += ["/equipment/view?subject=" + quote(s) for s in equipment]
    api = ["/v1/enterprises", "/v1/registry", "/v1/equipment", "/v1/warnings", "/v1/whitelist"]
    api += ["/v1/batches", "/v1/enterprise?id=" + quote(ENTERPRISE), "/v1/search?q=Example"]
    api += [f"/v1/batches/{seq}" for seq in batches]
    for rid in records:
        api += [f"/v1/{what}?id={quote(rid)}" for what in ("record", "record/status")]
        api += ["/v1/record/attestations?id=" + quote(rid), "/v1/record/bundle?id=" + quote(rid)]
    for s in subjects:
        api += ["/v1/trail?subject=" + quote(s), "/v1/trail/bundle?subject=" + quote(s)]
    api += ["/v1/equipment/item?subject=" + quote(s) for s in equipment]
    client = browser(world, None)
    for url in pages:
        for lang in ("en", "zh"):
            reply = client.get(url + ("&" if "?" in url else "?") + "lang=" + lang)
            assert reply.status_code == 200, (url, reply.text[:300])
            yield url, reply.text
    for url in api:
        reply = world.http.get(url)
        assert reply.status_code == 200, (url, reply.text[:300])
        yield url, reply.text


def test_no_hidden_value_in_any_public_page_or_api_answer(world: World) -> None:
    hidden = _hidden_texts(world)
    # The example ledger withholds real data: the scores of a rating, supplier factors.
    assert len(hidden) > 50 and "86.50" in hidden
    leaks = {
        (url, text, record_id)
        for url, body in _public_answers(world)
        for text, record_id in hidden.items()
        if text in body
    }
    assert leaks == set()


def test_the_registry_lists_green_enterprises_without_an_account(world: World) -> None:
    reply = browser(world, None).get("/registry")
    assert reply.status_code == 200 and ENTERPRISE in reply.text
    items = world.http.get("/v1/registry").json()["items"]
    assert [i["enterprise"]["id"] if "enterprise" in i else i["id"] for i in items] == [ENTERPRISE]


def test_a_bulk_indexes_a_new_piece_of_equipment_once(world: World) -> None:
    # Two archive entries about one new piece of equipment in one bulk: one directory row
    # counting both, found by its Handle in any case.
    subject = "88.118.8/BULK-0001"
    records = []
    for n in (1, 2):
        record = copy.deepcopy(world.template.records[BIM_TANK_INSPECTION])
        record["id"] = f"urn:carbonledger:bim-archive:bulk-{n}"
        record["subject"] = subject
        record["body"]["equipment"]["identifiers"][0]["value"] = subject
        records.append(record)
    world.client("plant-mes").submit_bulk(records)
    item = world.http.get("/v1/equipment/item", params={"subject": subject}).json()
    assert item["equipment"]["records"] == 2, item
    found = world.http.get("/v1/search", params={"q": subject.lower()}).json()
    assert [h["key"] for h in found["hits"]] == [subject]
