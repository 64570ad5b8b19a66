"""Writes: Idempotency-Key semantics, body limits, revocation requests, attestations and
what the status and metrics then say (docs/API.md §3, §5, §6)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.limits import ApiLimits
from ledger.client import submission_bytes
from ledger.core.receipt import Receipt, verify_receipt
from ledger.core.signature import public_key_bytes
from ledger.core.view import commit
from ledger.examples import CR_TANK, CR_TANK_REVISED
from ledger.store.access import claim_idempotency_key
from ledger.store.chainfacts import find_revocation, mark_status_mined, mark_status_sending
from ledger.store.models import AnchorTx, Revocation
from tests.api.world import (
    JSON,
    NOW,
    PLANT,
    SERVICE_KEY,
    Template,
    World,
    open_world,
    producer_key,
    scrape,
)


def _body(world: World, rid_suffix: str) -> bytes:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-{rid_suffix}"
    return submission_bytes(commit(record), producer_key(PLANT))


def _post(world: World, body: bytes, key: str) -> httpx.Response:
    headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": key}
    return world.http.post("/v1/records", content=body, headers=headers)


def test_replay_with_the_same_key_and_body_returns_the_same_receipt_bytes(world: World) -> None:
    body = _body(world, "idem")
    first = _post(world, body, "k-1")
    world.clock.advance(30)
    again = _post(world, body, "k-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    receipt = Receipt.from_json(first.json())
    verify_receipt(receipt, public_key_bytes(SERVICE_KEY), record_id=f"{CR_TANK}-idem")
    status = world.http.get("/v1/record/status", params={"id": f"{CR_TANK}-idem"}).json()
    assert status["state"] == "pending" and status["receipt"] == receipt.to_json()


def test_the_same_key_with_another_body_is_refused(world: World) -> None:
    assert _post(world, _body(world, "a"), "k-2").status_code == 201
    other = _post(world, _body(world, "b"), "k-2")
    assert other.status_code == 422
    assert other.json()["path"] == "Idempotency-Key"
    gone = world.http.get("/v1/record/status", params={"id": f"{CR_TANK}-b"})
    assert gone.status_code == 404


def test_a_retry_while_the_first_request_runs_gets_a_conflict(world: World) -> None:
    body = _body(world, "inflight")
    fingerprint = hashlib.sha256(body).hexdigest()
    with world.store.transaction() as session:
        claim_idempotency_key(
            session,
            principal="plant-mes",
            key="k-3",
            request_sha256_hex=fingerprint,
            now=world.clock(),
        )
    assert _post(world, body, "k-3").status_code == 409
    # A claim left behind by a crash is taken over once it is stale.
    world.clock.advance(61)
    assert _post(world, body, "k-3").status_code == 201


def test_a_failed_request_does_not_burn_its_key(world: World) -> None:
    body = _body(world, "bad")
    # An unknown type is malformed (strict validation runs before authorization) ...
    broken = body.replace(b'"carbon-record"', b'"carbon-recorx"', 1)
    refused = _post(world, broken, "k-4")
    assert refused.status_code == 422 and "carbon-recorx" in refused.text
    # ... and a valid record from a principal that may not write it is forbidden.
    forbidden_headers = {**world.headers("conversion"), **JSON, "Idempotency-Key": "k-6"}
    assert (
        world.http.post("/v1/records", content=body, headers=forbidden_headers).status_code == 403
    )
    assert _post(world, body.replace(b"ed25519", b"ed25518", 1), "k-5").status_code == 422
    assert _post(world, body, "k-5").status_code == 201


def test_the_idempotency_key_header_is_required(world: World) -> None:
    response = world.http.post(
        "/v1/records", content=_body(world, "nokey"), headers=world.headers("plant-mes")
    )
    assert response.status_code == 422
    assert "idempotency-key" in response.json()["path"].lower()


def test_a_producer_submits_only_as_itself(world: World) -> None:
    headers = {**world.headers("conversion"), **JSON, "Idempotency-Key": "k"}
    response = world.http.post("/v1/records", content=_body(world, "x"), headers=headers)
    assert response.status_code == 403


@pytest.fixture
def small_world(template: Template, tmp_path: Path) -> Iterator[World]:
    w = open_world(template, tmp_path / "small", limits=ApiLimits(max_body_bytes=4096))
    try:
        yield w
    finally:
        w.store.close()


def test_a_declared_oversize_body_gets_413_before_it_is_read(small_world: World) -> None:
    headers = {**small_world.headers("plant-mes"), **JSON, "Idempotency-Key": "big"}
    response = small_world.http.post(
        "/v1/records", content=b"{" + b" " * 5000 + b"}", headers=headers
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_streamed_oversize_body_without_length_gets_413(small_world: World) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1000

    headers = {**small_world.headers("plant-mes"), **JSON, "Idempotency-Key": "big"}
    response = small_world.http.post("/v1/records", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_a_body_under_the_limit_passes_the_middleware(small_world: World) -> None:
    headers = {**small_world.headers("plant-mes"), **JSON, "Idempotency-Key": "small"}
    response = small_world.http.post("/v1/records", content=b"{}", headers=headers)
    assert response.status_code == 422  # reached the accept path, which refused it


def test_revocation_request_then_mined_makes_the_record_revoked(world: World) -> None:
    reg = world.headers("eu-regulator")
    body = {"record_id": CR_TANK, "reason_code": 7, "reason_digest": "cd" * 32}
    first = world.http.post("/v1/revocations", json=body, headers=reg)
    assert first.status_code == 202
    assert first.json()["revocation"]["state"] == "pending"
    assert world.http.post("/v1/revocations", json=body, headers=reg).status_code == 409
    digest = first.json()["digest"]
    with world.store.transaction() as session:
        row = find_revocation(session, digest)
        assert row is not None
        mark_status_sending(session, "revoke", row.id)
        mark_status_mined(
            session, "revoke", row.id, tx_hash="0x" + "11" * 32, block_number=9,
            block_hash="0x" + "22" * 32, at=NOW,
        )  # fmt: skip
    status = world.http.get("/v1/record/status", params={"id": CR_TANK}).json()
    assert status["state"] == "revoked"
    assert status["revocation"]["reason_code"] == 7


def test_revocation_refusals_store_and_send_nothing(world: World) -> None:
    reg, owner = world.headers("eu-regulator"), world.headers("plant-mes")

    def ask(headers: dict[str, str], **body: object) -> object:
        payload = {"record_id": CR_TANK, "reason_code": 1, "reason_digest": "cd" * 32, **body}
        return world.http.post("/v1/revocations", json=payload, headers=headers)

    unknown = ask(reg, record_id="urn:carbonledger:carbon-record:no-such-record")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    unlisted = ask(reg, reason_code=900)
    assert unlisted.status_code == 422 and unlisted.json()["path"] == "reason_code"
    assert "unknown reason 900" in unlisted.json()["detail"]
    # A producer may withdraw its own record, but "fraud" is a regulator's to say.
    fraud = ask(owner, reason_code=6)
    assert fraud.status_code == 403 and "regulator's to give" in fraud.json()["detail"]
    with world.store.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Revocation)) == 0
    first = ask(owner, reason_code=3)
    assert first.status_code == 202
    assert first.json()["revocation"]["reason"] == {
        "code": 3, "slug": "withdrawn-by-producer", "en": "Withdrawn by its producer",
        "zh": "由生产方撤回",
    }  # fmt: skip
    again = ask(reg, reason_code=7)
    assert again.status_code == 409 and "revocation in progress" in again.json()["detail"]
    with world.store.transaction(readonly=True) as session:
        (row,) = session.scalars(select(Revocation))
        assert (row.reason_code, row.requested_by, row.state) == (3, "plant-mes", "pending")
        sent = select(func.count()).select_from(AnchorTx).where(AnchorTx.purpose == "revoke")
        assert session.scalar(sent) == 0  # nothing sent


def test_status_shows_supersession_both_ways(world: World) -> None:
    old = world.http.get("/v1/record/status", params={"id": CR_TANK}).json()
    new = world.http.get("/v1/record/status", params={"id": CR_TANK_REVISED}).json()
    assert old["state"] == "superseded" and old["superseded_by"] == [CR_TANK_REVISED]
    assert new["supersedes"] == CR_TANK and new["state"] == "anchored"
    batch = new["batch"]
    assert batch["state"] == "anchored" and batch["tx_hash"].startswith("0x")
    assert isinstance(batch["block_number"], int)


def test_attestation_filed_by_an_auditor_is_listed_pending(world: World) -> None:
    body = {"record_id": CR_TANK, "report_digest": "ef" * 32, "verdict": "conforms-with-findings"}
    filed = world.http.post("/v1/attestations", json=body, headers=world.headers("tuv-auditor"))
    assert filed.status_code == 201
    listed = world.http.get("/v1/record/attestations", params={"id": CR_TANK}).json()
    assert [(a["attester"], a["verdict"], a["state"]) for a in listed["items"]] == [
        ("tuv-auditor", "conforms-with-findings", "pending")
    ]


def test_metrics_count_accepted_rejected_pending_and_lag(world: World) -> None:
    assert _post(world, _body(world, "m1"), "m1").status_code == 201
    assert _post(world, b"{}", "m2").status_code == 422
    world.clock.advance(42)
    samples = scrape(world)
    assert samples[("carbonledger_records_accepted_total", ())] == 1
    assert samples[("carbonledger_records_rejected_total", (("reason", "malformed"),))] == 1
    assert samples[("carbonledger_records_pending", ())] == 1
    assert samples[("carbonledger_anchoring_lag_seconds", ())] == 42
