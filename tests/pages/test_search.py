"""The search box (docs/PAGES.md §1.1): a name is found whatever its hyphens, spaces,
punctuation and case, in the query as in the index; a transaction hash with or without
its ``0x``, in any case."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.world import ENTERPRISE, World
from tests.pages.conftest import browser

NAME_EN = "Example Anti-Corrosion Equipment Co., Ltd."
NAME_ZH = "示例防腐·设备有限公司"
ENTERPRISE_PAGE = "/enterprise?id=" + quote(ENTERPRISE, safe="")


def _register(world: World) -> None:
    reply = world.http.put(
        "/v1/enterprise",
        params={"id": ENTERPRISE},
        headers=world.headers("eu-regulator"),
        json={"name_en": NAME_EN, "name_zh": NAME_ZH, "region": "CN"},
    )
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    "query",
    [
        "Anti Corrosion",
        "anticorrosion",
        "ANTI-CORROSION equipment",
        "anti–corrosion",  # an en dash for the hyphen
        "co ltd",
        "Co.,Ltd.",
        "防腐设备",  # the Chinese name has a middle dot between them
        "防腐 · 设备",
    ],
)
def test_a_name_is_found_whatever_its_punctuation_and_spaces(world: World, query: str) -> None:
    _register(world)
    reply = browser(world, None).get("/search", params={"q": query})
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == ENTERPRISE_PAGE
    found = world.http.get("/v1/search", params={"q": query}).json()
    assert [h["key"] for h in found["hits"]] == [ENTERPRISE]


def test_punctuation_alone_finds_nothing(world: World) -> None:
    _register(world)
    reply = browser(world, None).get("/search", params={"q": "-- ,"})
    assert reply.status_code == 404


def test_a_transaction_hash_is_found_without_0x_and_in_upper_case(world: World) -> None:
    batch = world.http.get("/v1/batches").json()["items"][0]
    tx = batch["tx_hash"]
    target = f"/batch?seq={batch['seq']}"
    client = browser(world, None)
    for query in (tx, tx.upper(), tx[2:], tx[2:].upper(), "0X" + tx[2:].upper()):
        reply = client.get("/search", params={"q": query})
        assert reply.status_code == 303, (query, reply.text)
        assert reply.headers["location"] == target, query
