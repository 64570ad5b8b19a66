"""Events out (docs/EVENTS.md): the background worker that tells subscribers.

One :meth:`ExchangeWorker.step` does, in order:

1. index newly anchored records as PACT footprints (``PactService.refresh``), which emits
   ``footprint.published`` events;
2. scan the ledger for facts not yet told (anchored batches, revocations and attestations
   mined on-chain, supersessions, claims) and emit one event each, once;
3. answer pending PACT RequestCreated events (RequestFulfilled or RequestRejected);
4. post every due delivery.

A delivery is posted with its stored bytes and signed by the service key (Standard
Webhooks, asymmetric ``v1a``: Ed25519 over ``webhook-id.webhook-timestamp.body``); a PACT
endpoint additionally gets a bearer token from the buyer's token endpoint (OAuth2 client
credentials). A 2xx marks it delivered; anything else (an error status, a refused
connection, a timeout) schedules the next attempt after an exponentially growing delay
(2 s, 4 s, ... at most 1 h), and after ``max_attempts`` attempts or ``max_age_s`` (72 h,
as PACT asks of its events) it is abandoned. Delivery is at least once: a crash between
a post and its mark posts again, under the same ``webhook-id``.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import parse_json
from ledger.core.clock import Clock
from ledger.core.errors import LedgerError, MalformedError
from ledger.service.exchange import PactService, emit_events
from ledger.store import Store
from ledger.store import webhooks as hooks

__all__ = [
    "SCANNED_KINDS",
    "Deliverer",
    "DeliveryError",
    "DeliveryLimits",
    "ExchangeWorker",
    "StepReport",
    "sign_delivery",
    "signed_content",
]

log = logging.getLogger("carbonledger.delivery")

#: Event kinds found by scanning the ledger (footprints are told by the PACT index).
SCANNED_KINDS = (
    "record.anchored",
    "record.revoked",
    "record.superseded",
    "attestation.filed",
    "claim.made",
)


class DeliveryError(LedgerError):
    """One attempt failed (the message says how); the delivery is tried again later."""


@dataclass(frozen=True)
class DeliveryLimits:
    batch: int = 50
    #: A claimed delivery is not taken by another worker for this long.
    lease_s: float = 60.0
    timeout_s: float = 10.0
    first_retry_s: float = 2.0
    max_retry_s: float = 3600.0
    max_attempts: int = 20
    max_age_s: float = 72 * 3600.0
    #: Facts scanned per kind and step.
    scan_batch: int = 100


@dataclass(frozen=True)
class StepReport:
    published: int = 0
    emitted: int = 0
    answered: int = 0
    delivered: int = 0
    failed: int = 0
    abandoned: int = 0


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    """The bytes a delivery signature covers (Standard Webhooks): id.timestamp.body."""
    return f"{message_id}.{timestamp}.".encode() + body


def sign_delivery(key: Ed25519PrivateKey, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1a,`` and the base64 Ed25519 signature."""
    signature = key.sign(signed_content(message_id, timestamp, body))
    return "v1a," + base64.b64encode(signature).decode("ascii")


class Deliverer:
    """Posts due deliveries through ``http`` (an ``httpx.Client``, injected)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        signing_key: Ed25519PrivateKey,
        http: httpx.Client,
        limits: DeliveryLimits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.signing_key = signing_key
        self.http = http
        self.limits = limits or DeliveryLimits()
        self._tokens: dict[int, tuple[str, datetime]] = {}

    def retry_delay_s(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt: 2 s doubling, at most 1 h."""
        limits = self.limits
        return float(min(limits.max_retry_s, limits.first_retry_s * 2 ** max(0, attempts - 1)))

    def deliver_due(self) -> tuple[int, int, int]:
        """Posts what is due; returns (delivered, failed, abandoned)."""
        now = self.clock()
        due = self.store.run(
            lambda s: hooks.claim_due_deliveries(
                s, now=now, lease_s=self.limits.lease_s, limit=self.limits.batch
            )
        )
        delivered = failed = abandoned = 0
        for delivery in due:
            try:
                self._post(delivery)
            except DeliveryError as exc:
                attempts = delivery.attempts + 1
                at = self.clock()
                age = (at - delivery.created_at).total_seconds()
                retry: datetime | None = at + timedelta(seconds=self.retry_delay_s(attempts))
                if attempts >= self.limits.max_attempts or age >= self.limits.max_age_s:
                    retry = None
                    abandoned += 1
                else:
                    failed += 1
                log.warning("delivery %s failed (attempt %d): %s", delivery.id, attempts, exc)
                self._mark(delivery.id, error=exc.message, retry_at=retry)
                continue
            self._mark(delivery.id, error=None, retry_at=None)
            delivered += 1
        return delivered, failed, abandoned

    def _mark(self, delivery_id: int, *, error: str | None, retry_at: datetime | None) -> None:
        at = self.clock()

        def work(session: Any) -> None:
            if error is None:
                hooks.mark_delivered(session, delivery_id, at=at)
            else:
                hooks.mark_failed(session, delivery_id, error=error, retry_at=retry_at)

        self.store.run(work)

    def _post(self, delivery: hooks.DeliveryRow) -> None:
        subscription = delivery.subscription
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": delivery.content_type,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_delivery(
                self.signing_key, delivery.message_id, timestamp, delivery.body
            ),
        }
        if subscription.kind == "pact":
            headers["authorization"] = f"Bearer {self._pact_token(subscription)}"
        try:
            response = self.http.post(
                subscription.url,
                content=delivery.body,
                headers=headers,
                timeout=self.limits.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        if response.status_code in (401, 403) and subscription.kind == "pact":
            self._tokens.pop(subscription.id, None)  # fetch a fresh token next time
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code} from {subscription.url}")

    def _pact_token(self, subscription: hooks.SubscriptionRow) -> str:
        """A bearer token from the buyer's token endpoint, reused until shortly before it
        expires (OAuth2 client credentials, RFC 6749 §4.4)."""
        now = self.clock()
        cached = self._tokens.get(subscription.id)
        if cached is not None and cached[1] > now:
            return cached[0]
        if not (subscription.token_url and subscription.client_id and subscription.client_secret):
            raise DeliveryError(f"subscription {subscription.id} has no token endpoint")
        try:
            response = self.http.post(
                subscription.token_url,
                data={"grant_type": "client_credentials"},
                auth=(subscription.client_id, subscription.client_secret),
                headers={"accept": "application/json"},
                timeout=self.limits.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"token endpoint: {type(exc).__name__}: {str(exc)[:300]}") from None
        if response.status_code != 200:
            raise DeliveryError(f"token endpoint answered HTTP {response.status_code}")
        try:
            body = parse_json(response.content, root="token", max_bytes=64 * 1024)
            token = body["access_token"]
            expires_in = body.get("expires_in", 300)
        except (MalformedError, KeyError, TypeError, AttributeError):
            raise DeliveryError("token endpoint answered no access_token") from None
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise DeliveryError("token endpoint answered no usable access_token")
        self._tokens[subscription.id] = (token, now + timedelta(seconds=max(0, expires_in - 30)))
        return token


class ExchangeWorker:
    """The background worker of ``carbonledger up`` (docs/EVENTS.md §4)."""

    def __init__(
        self,
        *,
        pact: PactService | None,
        deliverer: Deliverer,
        limits: DeliveryLimits | None = None,
    ) -> None:
        """``pact`` is None when no PACT data owner is configured: webhooks still flow."""
        self.pact = pact
        self.deliverer = deliverer
        self.store = deliverer.store
        self.clock = deliverer.clock
        self.limits = limits or deliverer.limits
        self.source = pact.event_source if pact is not None else "urn:carbonledger:pact"

    def emit_scanned(self) -> int:
        """Emits an event for each fact not yet told; reads first, writes only when there
        is something to tell."""
        emitted = 0
        batch = self.limits.scan_batch
        for kind in SCANNED_KINDS:

            def scan(session: Any, kind: str = kind) -> list[tuple[str, dict[str, Any]]]:
                return hooks.unemitted_facts(session, kind, limit=batch)

            facts = self.store.run(scan, readonly=True)
            if not facts:
                continue
            now = self.clock()

            def work(session: Any, kind: str = kind, now: datetime = now) -> int:
                return emit_events(
                    session,
                    kind=kind,
                    items=hooks.unemitted_facts(session, kind, limit=batch),
                    now=now,
                    pact_source=self.source,
                )

            emitted += self.store.run(work)
        return emitted

    def step(self) -> StepReport:
        published = self.pact.refresh() if self.pact is not None else 0
        emitted = self.emit_scanned()
        answered = self.pact.answer_requests() if self.pact is not None else 0
        delivered, failed, abandoned = self.deliverer.deliver_due()
        return StepReport(published, emitted, answered, delivered, failed, abandoned)

    def run_forever(
        self,
        stop: threading.Event,
        *,
        interval_s: float = 1.0,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Steps until ``stop`` is set; an error of one step is logged and the next step
        runs after the interval (a receiver or the store may come back)."""
        while not stop.is_set():
            try:
                report = self.step()
            except LedgerError as exc:
                log.error("exchange worker step failed: %s", exc.message)
                if on_error is not None:
                    on_error(exc)
                report = StepReport()
            busy = report.delivered or report.published or report.emitted or report.answered
            stop.wait(0 if busy else interval_s)
