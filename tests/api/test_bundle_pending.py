"""The pending headers of trail and query bundles (docs/API.md §3.4): the count always,
the ids, percent-encoded and comma-separated, while there are at most MAX_PENDING_IDS."""

from __future__ import annotations

import copy
from urllib.parse import unquote

from api.routes.bundles import MAX_PENDING_IDS, pending_header
from ledger.client import submission_bytes
from ledger.core.view import commit
from ledger.examples import CR_TANK
from tests.api.world import JSON, PLANT, TANK_SUBJECT, World, producer_key


def _ids(value: str) -> list[str]:
    return [unquote(part) for part in value.split(",")]


def test_a_trail_bundle_names_its_pending_records(world: World) -> None:
    pending_ids = [f"{CR_TANK}-pending-{n}" for n in range(2)]
    for n, rid in enumerate(pending_ids):
        record = copy.deepcopy(world.template.records[CR_TANK])
        record["id"] = rid
        body = submission_bytes(commit(record), producer_key(PLANT))
        headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": f"pending-{n}"}
        assert world.http.post("/v1/records", content=body, headers=headers).status_code == 201
    for path, params in (
        ("/v1/trail/bundle", {"subject": TANK_SUBJECT}),
        ("/v1/bundles", {"subject": TANK_SUBJECT}),
    ):
        response = world.http.get(path, params=params, headers=world.headers("eu-regulator"))
        assert response.status_code == 200, response.text
        assert response.headers["carbonledger-pending-count"] == "2"
        assert sorted(_ids(response.headers["carbonledger-pending"])) == sorted(pending_ids)


def test_a_bundle_without_pending_records_sends_the_count_only(world: World) -> None:
    response = world.http.get(
        "/v1/trail/bundle", params={"subject": TANK_SUBJECT}, headers=world.headers("eu-regulator")
    )
    assert response.status_code == 200
    assert response.headers["carbonledger-pending-count"] == "0"
    assert "carbonledger-pending" not in response.headers


def test_ids_that_would_break_the_list_are_percent_encoded() -> None:
    ids = ("urn:x:a,b", "urn:x:c d", "urn:x:é", "hdl:20.500/x%y")
    headers = pending_header(ids)
    value = headers["Carbonledger-Pending"]
    assert value == "urn:x:a%2Cb,urn:x:c%20d,urn:x:%C3%A9,hdl:20.500/x%25y"
    assert value.isascii() and tuple(_ids(value)) == ids


def test_many_pending_records_are_counted_not_listed() -> None:
    few = tuple(f"urn:x:{n}" for n in range(MAX_PENDING_IDS))
    assert _ids(pending_header(few)["Carbonledger-Pending"]) == list(few)
    many = (*few, "urn:x:one-more")
    assert pending_header(many) == {"Carbonledger-Pending-Count": str(MAX_PENDING_IDS + 1)}
