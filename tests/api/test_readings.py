"""Meter readings through the write API (docs/API.md, docs/SUBMISSION.md §5): a batch signed
by a registered terminal is accepted (201); every bad one is a 422 problem+json whose
``path`` names the field, and nothing of it is stored."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ledger.client import submission_bytes
from ledger.core.keys import public_key_of
from ledger.core.readings import terminal_id_hex
from ledger.core.signature import public_key_bytes
from ledger.core.view import commit
from ledger.examples import efficiency as ex
from ledger.examples import factors as ref
from ledger.examples.builder import RecordBook
from ledger.service import LedgerService
from ledger.store.access import add_principal, issue_api_key
from ledger.store.producers import add_producer, add_producer_key, grant_key_type, key_id_of
from ledger.store.terminals import mirror_terminal_grant, mirror_terminal_key
from tests.api.world import (
    KEYS_FROM,
    MAX_MERGE_DELAY_S,
    SERVICE_KEY,
    World,
    producer_key,
)

GRID = next(t for t in ex.terminals() if t.field == "electricity_import")
EDGE = "edge-gateway"
READING = "meter-reading"


@pytest.fixture
def plant(world: World) -> Iterator[tuple[World, dict[str, str], str]]:
    """The API world plus the plant's gateway principal, its producer key, the grid meter's
    terminal key and the meter templates (accepted directly by the service)."""
    edge_key = producer_key(ex.PRODUCER_METERING)
    with world.store.transaction() as session:
        add_producer(session, ex.PRODUCER_METERING, created_at=KEYS_FROM)
        add_producer_key(
            session, producer=ex.PRODUCER_METERING,
            public_key_hex=public_key_bytes(edge_key).hex(), valid_from=KEYS_FROM,
            record_types=("meter-reading", "metadata-template"),
        )  # fmt: skip
        add_principal(
            session, EDGE, role="producer", producer=ex.PRODUCER_METERING,
            record_types=["meter-reading"], grants=[], created_at=KEYS_FROM,
        )  # fmt: skip
        token = issue_api_key(session, EDGE, created_at=KEYS_FROM).token
        public = public_key_of(GRID.key)
        ident = public.distinguishing_id
        kid = mirror_terminal_key(
            session, terminal_id_hex=terminal_id_hex(GRID.id), scheme=public.scheme,
            public_key_hex=public.raw.hex(), distinguishing_id_hex=ident.hex() if ident else None,
            valid_from=KEYS_FROM, valid_until=None, tx_hash=None,
        )  # fmt: skip
        for kind, name in (
            ("metering-point", GRID.metering_point),
            ("record-type", "meter-reading"),
        ):
            mirror_terminal_grant(session, kid, kind, name, granted_at=KEYS_FROM)
        # The reference desk publishes the meter templates (a type the API world's desk key
        # is not granted among the carbon-record examples).
        desk = key_id_of(public_key_bytes(producer_key(ref.PRODUCER_REFDATA)).hex())
        grant_key_type(session, desk, "metadata-template", granted_at=KEYS_FROM)
    service = LedgerService(
        store=world.store, service_key=SERVICE_KEY, clock=world.clock,
        max_merge_delay_s=MAX_MERGE_DELAY_S,
    )  # fmt: skip

    def accepted(record: dict[str, Any]) -> str:
        c = commit(record)
        mine = record["producer"] == ex.PRODUCER_METERING
        key = edge_key if mine else producer_key(record["producer"])
        return service.accept(submission_bytes(c, key)).digest_hex

    book = RecordBook(accepted)
    book.add(ex.public_meter_template())
    book.add(ex.industry_meter_template(book.digests))
    book.add(ex.enterprise_meter_template(book.digests))
    yield world, book.digests, token


def post(world: World, token: str, record: dict[str, Any], idem: str) -> httpx.Response:
    body = submission_bytes(commit(record), producer_key(ex.PRODUCER_METERING))
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": idem,
    }
    return world.http.post("/v1/records", content=body, headers=headers)


def stored(world: World, record_id: str) -> bool:
    return world.http.get("/v1/record/status", params={"id": record_id}).status_code == 200


def hours(first: int, count: int, qty: str = "100") -> list[Any]:
    start = ex.PERIOD_START + timedelta(hours=first)
    return [(start + timedelta(hours=h), start + timedelta(hours=h + 1), qty) for h in range(count)]


def test_a_signed_batch_is_accepted_and_bad_ones_are_422_naming_the_field(
    plant: tuple[World, dict[str, str], str],
) -> None:
    world, digests, token = plant
    rid = "urn:carbonledger:meter-reading:mp-grid-01-api"
    good = ex.signed_batch(GRID, rid, hours(0, 4), digests)
    assert post(world, token, good, "r-good").status_code == 201, "accepted"

    def bad(name: str, record: dict[str, Any], path: str, words: str) -> None:
        response = post(world, token, record, f"r-{name}")
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["path"] == f"record {record['id']}: {path}", (name, problem)
        assert words in problem["detail"], (name, problem)
        assert not stored(world, record["id"]), name

    def batch(name: str, readings: list[Any], **options: Any) -> dict[str, Any]:
        return ex.signed_batch(GRID, f"{rid}-{name}", readings, digests, **options)

    altered = batch("altered", hours(4, 2))
    altered["body"]["readings"][1]["quantity"] = "99"
    bad("altered", altered, "body.readings[1].signature", "does not verify")
    bad("overlap", batch("overlap", hours(3, 2)), "body.readings[0].start", f"{rid} (stored)")
    bad("range", batch("range", hours(6, 1, "1200.5")), "body.readings[0].quantity", "maximum")
    bad("unit", batch("unit", hours(6, 1, "0.5"), unit="MWh"), "body.unit", "not allowed")
    bad(
        "point",
        batch("point", hours(6, 1), metering_point="88.118.8/MP-GAS-01", template=None),
        "body.metering_point",
        "may not sign for metering point 88.118.8/MP-GAS-01",
    )
    stray = copy.deepcopy(batch("stray", hours(6, 1)))
    stray["body"]["terminal"]["public_key"] = public_key_of(
        ex.terminals()[1].key
    ).raw.hex()  # the gas meter's key, not registered here
    bad("stray", stray, "body.terminal.public_key", "registered in the TrustRegistry")
    for name, point, words in (
        ("oid", "1.2.156.0123", "canonical spelling '1.2.156.123'"),
        ("ecode", "1" * 34, "got 34"),
    ):
        record = batch(name, hours(6, 1), template=None)
        record["subject"] = record["body"]["metering_point"] = point
        bad(name, record, "body.metering_point", words)
    assert stored(world, rid)
