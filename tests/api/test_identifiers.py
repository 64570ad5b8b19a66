"""Handle, OID and Ecode subjects through the write API: refusals name the field, store nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from ledger.client import submission_bytes
from ledger.core.view import commit
from ledger.examples import CR_TANK
from tests.api.world import JSON, PLANT, World, producer_key

OID = "1.2.156.3001.1.42"


def _record(world: World, suffix: str, subject: str, extra: dict[str, str]) -> dict[str, Any]:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-{suffix}"
    record["subject"] = subject
    record["body"]["equipment"]["identifiers"].append(extra)
    return record


def _post(world: World, record: dict[str, Any], key: str) -> httpx.Response:
    body = submission_bytes(commit(record), producer_key(PLANT))
    headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": key}
    return world.http.post("/v1/records", content=body, headers=headers)


def _stored(world: World, record_id: str) -> bool:
    return world.http.get("/v1/record/status", params={"id": record_id}).status_code == 200


def test_an_oid_with_a_leading_zero_is_refused_naming_the_subject(world: World) -> None:
    spelled = "1.2.0156.3001.1.42"
    record = _record(world, "oid0", spelled, {"scheme": "oid", "value": spelled})
    response = _post(world, record, "ident-1")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "subject" in response.text and repr(OID) in response.text
    assert not _stored(world, record["id"])


def test_an_ecode_of_the_wrong_length_is_refused_naming_the_identifier(world: World) -> None:
    record = _record(
        world, "ecode", "88.118.8/ST-TK-0101", {"scheme": "ecode", "value": "1" + "0" * 33}
    )
    index = len(record["body"]["equipment"]["identifiers"]) - 1
    response = _post(world, record, "ident-2")
    assert response.status_code == 422
    assert f"body.equipment.identifiers[{index}].value" in response.text
    assert "Ecode version 1" in response.text
    assert not _stored(world, record["id"])


def test_an_oid_subject_is_accepted_and_found_by_its_trail(world: World) -> None:
    record = _record(world, "oid", OID, {"scheme": "oid", "value": OID})
    assert _post(world, record, "ident-3").status_code == 201
    trail = world.http.get("/v1/trail", params={"subject": OID}).json()
    assert [item["record_id"] for item in trail["items"]] == [record["id"]]
