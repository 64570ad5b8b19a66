"""Events out (docs/EVENTS.md): webhooks posted over TLS to a real receiver, signed with the
service key and verified there; retried with backoff after the receiver fails; delivered
at least once (a lost acknowledgement sends the same message again); bounded; PACT's
PublishedEvent delivered to a buyer's events endpoint with its bearer token."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.core.errors import StorageError
from ledger.service.delivery import Deliverer, DeliveryLimits, ExchangeWorker
from ledger.store import webhooks as hooks
from ledger.store.chainfacts import add_attestation
from tests.api.exchange.conftest import BUYER, Buyer, PactHost
from tests.api.world import NOW, SERVICE_KEY
from tests.support.pactspec import PactSpec
from tests.support.tlsserver import Received

ALL_KINDS = list(hooks.EVENT_KINDS)


def _subscribe(host: PactHost, buyer: Buyer, principal: str = "eu-regulator") -> int:
    with host.client() as http:
        r = http.post(
            f"{host.url}/v1/subscriptions",
            json={"kind": "webhook", "url": f"{buyer.url}/hook", "events": ALL_KINDS},
            headers=host.world.headers(principal),
        )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _verify(received: Received, public_key: bytes) -> dict[str, Any]:
    """What a receiver does (Standard Webhooks, v1a): check the signature over
    id.timestamp.body with the service's published key, then read the body."""
    message_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    signed = f"{message_id}.{timestamp}.".encode() + received.body
    versions = [s.split(",", 1) for s in received.headers["webhook-signature"].split(" ")]
    key = Ed25519PublicKey.from_public_bytes(public_key)
    for version, value in versions:
        if version == "v1a":
            key.verify(base64.b64decode(value), signed)
            return dict(json.loads(received.body))
    raise AssertionError("no v1a signature")


def _service_key(host: PactHost) -> bytes:
    with host.client() as http:
        return bytes.fromhex(http.get(f"{host.url}/v1/service").json()["public_key"])


def _hooks(buyer: Buyer) -> list[Received]:
    """The webhook posts the buyer's host received (not its PACT events)."""
    return [r for r in buyer.system.received if r.headers.get("content-type") == "application/json"]


def test_webhooks_are_signed_and_cover_every_kind_of_fact(
    pact_host: PactHost, buyer: Buyer
) -> None:
    _subscribe(pact_host, buyer)
    world = pact_host.world
    with world.store.transaction() as session:
        add_attestation(
            session,
            digest_hex=world.template.receipts[
                "urn:carbonledger:carbon-record:st-tk-0101-2025-v2"
            ].digest_hex,
            attester="tuv-auditor",
            report_digest_hex="ab" * 32,
            verdict="conforms",
            observed_at=NOW,
            state="mined",
            tx_hash="0x" + "12" * 32,
        )
    worker = pact_host.worker()
    worker.step()
    public_key = _service_key(pact_host)
    bodies = [_verify(r, public_key) for r in _hooks(buyer)]
    kinds = {b["type"] for b in bodies}
    assert {
        "record.anchored",
        "record.superseded",
        "attestation.filed",
        "footprint.published",
    } <= kinds
    for body in bodies:
        assert body["format"] == "carbonledger-event/1"
    superseded = next(b for b in bodies if b["type"] == "record.superseded")
    assert superseded["data"]["record_id"] == "urn:carbonledger:carbon-record:st-tk-0101-2025-v1"
    # Told once: a second step finds nothing new.
    before = len(buyer.system.received)
    worker.step()
    assert len(buyer.system.received) == before


def test_a_forged_or_altered_delivery_does_not_verify(pact_host: PactHost, buyer: Buyer) -> None:
    _subscribe(pact_host, buyer)
    pact_host.worker().step()
    genuine = _hooks(buyer)[0]
    public_key = _service_key(pact_host)
    altered = Received(genuine.headers, genuine.body[:-1] + b" }")
    replayed_id = Received({**genuine.headers, "webhook-id": "msg_other"}, genuine.body)
    for bad in (altered, replayed_id):
        try:
            _verify(bad, public_key)
        except InvalidSignature:
            continue
        raise AssertionError("a changed delivery verified")


def _pending(host: PactHost) -> list[hooks.DeliveryRow]:
    rows = host.world.store.run(lambda s: hooks.list_deliveries(s, limit=10_000))
    return [d for d in rows if d.state == "pending"]


def test_failed_deliveries_are_retried_with_backoff_until_delivered(
    pact_host: PactHost, buyer: Buyer
) -> None:
    subscription = _subscribe(pact_host, buyer)
    worker = pact_host.worker()
    worker.pact.refresh()
    worker.emit_scanned()
    with pact_host.world.store.transaction() as session:
        for d in hooks.list_deliveries(session, limit=10_000):
            if d.subscription.id != subscription:
                hooks.mark_delivered(session, d.id, at=NOW)  # keep one subscription's only
    ours = [d for d in _pending(pact_host) if d.subscription.id == subscription]
    assert ours
    buyer.system.fail_next = 2 * len(ours)
    clock = pact_host.world.clock
    assert worker.deliverer.deliver_due()[1] == len(ours)  # all failed once
    assert worker.deliverer.deliver_due() == (0, 0, 0)  # not due yet: 2 s backoff
    clock.advance(2)
    assert worker.deliverer.deliver_due()[1] == len(ours)  # failed again
    clock.advance(3)
    assert worker.deliverer.deliver_due() == (0, 0, 0)  # 4 s now
    clock.advance(1)
    assert worker.deliverer.deliver_due()[0] == len(ours)
    assert _pending(pact_host) == []
    # The receiver saw each message three times, under one id and with the same bytes.
    by_id: dict[str, list[bytes]] = {}
    for r in _hooks(buyer):
        by_id.setdefault(r.headers["webhook-id"], []).append(r.body)
    assert {len(v) for v in by_id.values()} == {3}
    assert all(len(set(v)) == 1 for v in by_id.values())
    with pact_host.client() as http:
        r = http.get(
            f"{pact_host.url}/v1/subscriptions/{subscription}/deliveries",
            headers=pact_host.world.headers("eu-regulator"),
        )
    assert {(d["state"], d["attempts"]) for d in r.json()["items"]} == {("delivered", 3)}
    # Delivered: the earlier failure and the retry time are history, not state.
    assert {(d["last_error"], d["next_attempt_at"]) for d in r.json()["items"]} == {(None, None)}


def test_deliveries_are_bounded(pact_host: PactHost, buyer: Buyer) -> None:
    _subscribe(pact_host, buyer)
    worker = pact_host.worker()
    limits = DeliveryLimits(max_attempts=3)
    worker.deliverer.limits = limits
    buyer.system.fail_next = 10**6
    worker.pact.refresh()
    worker.emit_scanned()
    clock = pact_host.world.clock
    for _ in range(5):
        worker.deliverer.deliver_due()
        clock.advance(3600)
    states = {
        d.state for d in pact_host.world.store.run(lambda s: hooks.list_deliveries(s, limit=10_000))
    }
    assert states == {"abandoned"}
    counts: dict[str, int] = {}
    for r in buyer.system.received:
        counts[r.headers["webhook-id"]] = counts.get(r.headers["webhook-id"], 0) + 1
    assert set(counts.values()) == {3}
    # Abandoned after 72 hours too, however few the attempts.
    assert limits.max_age_s == 72 * 3600


class _LosesAcknowledgements(Deliverer):
    """The worker's store write after a successful post fails once (a crash there)."""

    lost: int | None = None

    def _mark(self, delivery_id: int, *, error: str | None, retry_at: Any) -> None:
        if error is None and self.lost is None:
            self.lost = delivery_id
            raise StorageError("lost after the post")
        super()._mark(delivery_id, error=error, retry_at=retry_at)


def test_delivery_is_at_least_once(pact_host: PactHost, buyer: Buyer) -> None:
    _subscribe(pact_host, buyer)
    base = pact_host.worker()
    base.pact.refresh()
    base.emit_scanned()
    deliverer = _LosesAcknowledgements(
        pact_host.world.store,
        clock=pact_host.world.clock,
        signing_key=SERVICE_KEY,
        http=httpx.Client(verify=pact_host.tls.client_context()),
        limits=replace(DeliveryLimits(), batch=1),
    )
    with pytest.raises(StorageError):
        deliverer.deliver_due()
    first = next(d for d in _pending(pact_host) if d.id == deliverer.lost)
    # The lease runs out, and the same message goes out again.
    pact_host.world.clock.advance(DeliveryLimits().lease_s + 1)
    while deliverer.deliver_due()[0]:
        pass
    ids = [r.headers["webhook-id"] for r in buyer.system.received]
    assert ids.count(first.message_id) == 2
    worker = ExchangeWorker(pact=base.pact, deliverer=deliverer)
    worker.step()
    assert ids.count(first.message_id) == 2


def test_published_event_reaches_the_pact_buyer(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    worker = pact_host.worker()
    worker.step()
    published = [
        json.loads(r.body)
        for r in buyer.system.received
        if r.headers.get("content-type", "").startswith("application/cloudevents+json")
    ]
    assert published
    token_requests = buyer.system.token_requests
    assert token_requests == 1  # one token reused for every event
    listed = {
        f["id"]: f
        for f in pact_host.get("/3/footprints?limit=200", pact_host.token(BUYER)).json()["data"]
    }
    announced: set[str] = set()
    for event in published:
        pact_spec.check("PublishedEvent", event)
        assert event["type"] == "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
        announced.update(event["data"]["pfIds"])
    assert announced == set(listed)


def test_subscriptions_are_https_and_owned(pact_host: PactHost, buyer: Buyer) -> None:
    headers = pact_host.world.headers("plant-mes")
    with pact_host.client() as http:
        url = f"{pact_host.url}/v1/subscriptions"
        for bad in ("http://hooks.example.com/x", "https://user:pw@hooks.example.com/x", "ftp://x"):
            r = http.post(
                url, json={"kind": "webhook", "url": bad, "events": ["claim.made"]}, headers=headers
            )
            assert r.status_code == 422, (bad, r.text)
        r = http.post(
            url,
            json={"kind": "webhook", "url": f"{buyer.url}/hook", "events": ["nope"]},
            headers=headers,
        )
        assert r.status_code == 422
        r = http.post(
            url,
            json={
                "kind": "webhook",
                "url": f"{buyer.url}/hook",
                "events": ["claim.made"],
                "principal": "rating",
            },
            headers=headers,
        )
        assert r.status_code == 403
        mine = _subscribe(pact_host, buyer, principal="plant-mes")
        assert (
            http.delete(f"{url}/{mine}", headers=pact_host.world.headers("rating")).status_code
            == 404
        )
        r = http.delete(f"{url}/{mine}", headers=headers)
        assert r.status_code == 200 and r.json()["disabled_at"] is not None
        listed = http.get(url, headers=headers).json()["items"]
        assert all("client_secret" not in s for s in listed)
    # A disabled subscription is told nothing.
    pact_host.worker().step()
    assert [
        r for r in buyer.system.received if r.headers.get("content-type") == "application/json"
    ] == []
