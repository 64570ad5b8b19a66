"""The producer client against the real app in-process: receipts verified against the
pinned service key, retries that re-send the same bytes under the same Idempotency-Key,
no retry of a refusal, bundles parsed strictly (docs/API.md §7)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.client import LedgerClient, idempotency_key
from ledger.core.bundle import Bundle
from ledger.core.errors import MalformedError, SignatureError, UnavailableError
from ledger.core.receipt import verify_receipt
from ledger.core.signature import public_key_bytes
from ledger.examples import CR_TANK, FS_DESNZ_2025
from tests.api.world import PLANT, SERVICE_KEY, World, producer_key


def _tank(world: World, suffix: str) -> dict[str, Any]:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-{suffix}"
    return record


class LoseResponses:
    """ASGI fault: the first ``n`` POSTs reach the app, but their response is replaced by
    a 503 (a proxy timing out after the service committed: the retry must not duplicate)."""

    def __init__(self, app: Any, n: int) -> None:
        self.app, self.n = app, n
        self.seen: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        key = dict(scope["headers"]).get(b"idempotency-key", b"").decode()
        self.seen.append((key, body))
        replay = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def again() -> Any:
            return next(replay)

        if self.n <= 0:
            await self.app(scope, again, send)
            return
        self.n -= 1

        async def swallow(_message: Any) -> None:
            return None

        await self.app(scope, again, swallow)
        problem = json.dumps({"type": "about:blank", "title": "gateway", "status": 503}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/problem+json"), (b"retry-after", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": problem})


class RefuseConnections(httpx.BaseTransport):
    """Transport fault: the first ``n`` requests fail to connect."""

    def __init__(self, inner: httpx.BaseTransport, n: int) -> None:
        self.inner, self.n = inner, n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.n > 0:
            self.n -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def _client(world: World, http: httpx.Client, sleeps: list[float], **kw: Any) -> LedgerClient:
    return LedgerClient(
        "http://testserver",
        world.template.tokens["plant-mes"],
        producer_key=producer_key(PLANT),
        service_key_id=public_key_id(),
        http=http,
        sleep=sleeps.append,
        **kw,
    )


def public_key_id() -> str:
    return hashlib.sha256(public_key_bytes(SERVICE_KEY)).hexdigest()


def test_submit_returns_a_receipt_checked_against_the_pinned_key(world: World) -> None:
    record = _tank(world, "c1")
    receipt = world.client("plant-mes").submit(record)
    verify_receipt(receipt, public_key_bytes(SERVICE_KEY), record_id=record["id"])
    status = world.http.get("/v1/record/status", params={"id": record["id"]}).json()
    assert status["digest"] == receipt.digest_hex and status["state"] == "pending"


def test_a_service_with_another_key_is_not_trusted(world: World) -> None:
    client = world.client("plant-mes")
    client.service_key_id = "00" * 32
    with pytest.raises(SignatureError, match="configured"):
        client.submit(_tank(world, "c2"))


def test_a_lost_response_is_retried_with_the_same_key_and_bytes(world: World) -> None:
    faulty = LoseResponses(world.app, n=2)
    sleeps: list[float] = []
    client = _client(world, TestClient(faulty), sleeps, retries=3, backoff_s=0.5)
    record = _tank(world, "c3")
    receipt = client.submit(record)
    keys = {k for k, _ in faulty.seen}
    bodies = {b for _, b in faulty.seen}
    assert len(faulty.seen) == 3 and len(keys) == 1 and len(bodies) == 1
    assert keys == {idempotency_key(record["id"], receipt.digest_hex)}
    assert sleeps == [0.5, 1.0]
    # One record, and the receipt the client holds is the one stored.
    stored = world.http.get("/v1/record/status", params={"id": record["id"]}).json()
    assert stored["receipt"] == receipt.to_json()


def test_connection_errors_are_retried_then_given_up(world: World) -> None:
    inner = TestClient(world.app)
    sleeps: list[float] = []
    flaky = httpx.Client(transport=RefuseConnections(inner._transport, n=1))
    assert _client(world, flaky, sleeps, retries=2).submit(_tank(world, "c4")).record_id
    dead = httpx.Client(transport=RefuseConnections(inner._transport, n=10))
    with pytest.raises(UnavailableError, match="ConnectError"):
        _client(world, dead, sleeps, retries=2).submit(_tank(world, "c5"))


def test_a_refusal_is_not_retried(world: World) -> None:
    faulty = LoseResponses(world.app, n=0)
    sleeps: list[float] = []
    client = _client(world, TestClient(faulty), sleeps, retries=3)
    record = _tank(world, "c6")
    record["issued_at"] = "2031-01-01T00:00:00Z"  # far after the service clock: refused
    with pytest.raises(MalformedError) as caught:
        client.submit(record)
    assert "issued_at" in caught.value.path
    assert len(faulty.seen) == 1 and sleeps == []


def test_bulk_submission_and_receipts(world: World) -> None:
    records = [_tank(world, f"b{i}") for i in range(3)]
    receipts = world.client("plant-mes").submit_bulk(records)
    assert [r.record_id for r in receipts] == [r["id"] for r in records]


def test_get_bundle_and_receipt_of_an_anchored_record(world: World) -> None:
    client = world.client("refdata")
    bundle = client.get_bundle(FS_DESNZ_2025)
    assert isinstance(bundle, Bundle) and len(bundle.items) == 1
    receipt = client.get_receipt(FS_DESNZ_2025)
    assert receipt.digest_hex == bundle.items[0].digest.hex()
    subject_bundle = client.get_bundle(subject="desnz-2025")
    assert subject_bundle.items[0].digest == bundle.items[0].digest
