"""Events out (docs/EVENTS.md): subscriptions, the events the ledger emits, and the
delivery outbox.

- ``subscriptions``: a principal's endpoint, ``webhook`` (signed JSON posts) or ``pact`` (a
  PACT buyer's events endpoint, reached with an OAuth2 token from its token endpoint), and
  the event kinds it wants;
- ``outbox_events``: each fact worth telling, once: the pair (kind, key) is unique, so the
  scan that finds a fact again adds nothing;
- ``deliveries``: one row per (event or PACT answer, subscription) with the exact bytes to
  post. A worker claims due rows, posts them, and marks them delivered on a 2xx only; a
  failure schedules the next attempt with exponential backoff until the attempts or the
  age run out (``abandoned``). A crash between a post and its mark sends it again: delivery
  is at least once, and receivers deduplicate by the delivery's message id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import MalformedError, NotFoundError
from ledger.store._session import execute, flush
from ledger.store.claims import Claim
from ledger.store.models import Attestation, AutoId, Base, Batch, Record, Revocation

__all__ = [
    "DELIVERY_STATES",
    "EVENT_KINDS",
    "SUBSCRIPTION_KINDS",
    "DeliveryRow",
    "EventRow",
    "SubscriptionRow",
    "add_event",
    "add_events",
    "add_subscription",
    "claim_due_deliveries",
    "delivery_counts",
    "disable_subscription",
    "enqueue_deliveries",
    "enqueue_delivery",
    "list_deliveries",
    "list_subscriptions",
    "mark_delivered",
    "mark_failed",
    "pact_subscription_of",
]

SUBSCRIPTION_KINDS = ("webhook", "pact")
#: The facts a subscription can ask for (docs/EVENTS.md §2).
EVENT_KINDS = (
    "record.anchored",
    "record.revoked",
    "record.superseded",
    "attestation.filed",
    "footprint.published",
    "claim.made",
)
DELIVERY_STATES = ("pending", "delivered", "abandoned")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint(_in("kind", SUBSCRIPTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    #: For ``pact``: the buyer's token endpoint and the credentials we hold there.
    token_url: Mapped[str | None] = mapped_column(String(2000))
    client_id: Mapped[str | None] = mapped_column(String(200))
    client_secret: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("state", DELIVERY_STATES), name="state"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    event_pk: Mapped[int | None] = mapped_column(ForeignKey("outbox_events.id"))
    #: The ``webhook-id`` of every attempt: receivers deduplicate by it.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    principal: str
    kind: str
    url: str
    events: tuple[str, ...]
    token_url: str | None
    client_id: str | None
    client_secret: str | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class EventRow:
    id: int
    kind: str
    key: str
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    subscription: SubscriptionRow
    message_id: str
    content_type: str
    body: bytes
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


def _subscription(s: Subscription) -> SubscriptionRow:
    return SubscriptionRow(
        id=s.id,
        principal=s.principal,
        kind=s.kind,
        url=s.url,
        events=tuple(s.events),
        token_url=s.token_url,
        client_id=s.client_id,
        client_secret=s.client_secret,
        created_at=s.created_at,
        disabled_at=s.disabled_at,
    )


def _delivery(d: Delivery, s: Subscription) -> DeliveryRow:
    return DeliveryRow(
        id=d.id,
        subscription=_subscription(s),
        message_id=d.message_id,
        content_type=d.content_type,
        body=d.body,
        state=d.state,
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        last_error=d.last_error,
    )


# -- subscriptions -------------------------------------------------------------------


def add_subscription(
    session: Session,
    *,
    principal: str,
    kind: str,
    url: str,
    events: Sequence[str],
    created_at: datetime,
    token_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> SubscriptionRow:
    if kind not in SUBSCRIPTION_KINDS:
        raise MalformedError(f"expected one of {', '.join(SUBSCRIPTION_KINDS)}", path="kind")
    unknown = [e for e in events if e not in EVENT_KINDS]
    if unknown or not events:
        raise MalformedError(
            f"expected one or more of {', '.join(EVENT_KINDS)}; got {unknown or 'none'}",
            path="events",
        )
    if kind == "pact" and not (token_url and client_id and client_secret):
        raise MalformedError(
            "a pact subscription needs the buyer's token URL, client id and secret",
            path="token_url",
        )
    row = Subscription(
        principal=principal,
        kind=kind,
        url=url,
        events=list(dict.fromkeys(events)),
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        created_at=created_at,
        disabled_at=None,
    )
    session.add(row)
    flush(session)
    return _subscription(row)


def list_subscriptions(session: Session, *, principal: str | None = None) -> list[SubscriptionRow]:
    query = select(Subscription).order_by(Subscription.id)
    if principal is not None:
        query = query.where(Subscription.principal == principal)
    return [_subscription(s) for s in session.scalars(query)]


def disable_subscription(
    session: Session, subscription_id: int, *, principal: str | None, at: datetime
) -> SubscriptionRow:
    row = session.get(Subscription, subscription_id)
    if row is None or (principal is not None and row.principal != principal):
        raise NotFoundError(f"no subscription {subscription_id}")
    if row.disabled_at is None:
        row.disabled_at = at
        flush(session)
    return _subscription(row)


def pact_subscription_of(session: Session, principal: str) -> SubscriptionRow | None:
    """The active PACT endpoint of a principal (the newest, if several)."""
    row = session.scalars(
        select(Subscription)
        .where(
            Subscription.principal == principal,
            Subscription.kind == "pact",
            Subscription.disabled_at.is_(None),
        )
        .order_by(Subscription.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _subscription(row)


# -- events and deliveries ------------------------------------------------------------


def add_event(
    session: Session, *, kind: str, key: str, payload: Mapping[str, Any], now: datetime
) -> EventRow | None:
    """Records a fact once; None when (kind, key) is already recorded."""
    if kind not in EVENT_KINDS:
        raise MalformedError(f"unknown event kind {kind!r}", path="kind")
    known = session.scalar(
        select(OutboxEvent.id).where(OutboxEvent.kind == kind, OutboxEvent.key == key)
    )
    if known is not None:
        return None
    row = OutboxEvent(kind=kind, key=key, payload=dict(payload), created_at=now)
    session.add(row)
    flush(session)
    return EventRow(row.id, row.kind, row.key, row.payload, row.created_at)


def add_events(
    session: Session, *, kind: str, items: Sequence[tuple[str, Mapping[str, Any]]], now: datetime
) -> list[EventRow]:
    """Records the facts ``(key, payload)`` of one kind not yet recorded; returns the new
    ones (one look-up and one multi-row insert)."""
    if kind not in EVENT_KINDS:
        raise MalformedError(f"unknown event kind {kind!r}", path="kind")
    wanted = list(dict.fromkeys(key for key, _ in items))
    known: set[str] = set()
    for start in range(0, len(wanted), 500):
        known.update(
            session.scalars(
                select(OutboxEvent.key).where(
                    OutboxEvent.kind == kind, OutboxEvent.key.in_(wanted[start : start + 500])
                )
            )
        )
    fresh: dict[str, Mapping[str, Any]] = {}
    for key, payload in items:
        if key not in known and key not in fresh:
            fresh[key] = payload
    if not fresh:
        return []
    table = Base.metadata.tables[OutboxEvent.__tablename__]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    values = [
        {"kind": kind, "key": key, "payload": dict(payload), "created_at": now}
        for key, payload in fresh.items()
    ]
    ids = [int(pk) for pk in execute(session, statement, values).scalars()]
    return [
        EventRow(pk, kind, key, payload, now)
        for pk, (key, payload) in zip(ids, fresh.items(), strict=True)
    ]


@dataclass(frozen=True)
class NewDelivery:
    subscription_id: int
    message_id: str
    content_type: str
    body: bytes
    event_pk: int | None = None


def enqueue_deliveries(session: Session, items: Sequence[NewDelivery], *, now: datetime) -> None:
    """Queues deliveries, due at once (one multi-row insert)."""
    if not items:
        return
    table = Base.metadata.tables[Delivery.__tablename__]
    execute(
        session,
        insert(table),
        [
            {
                "subscription_id": d.subscription_id,
                "event_pk": d.event_pk,
                "message_id": d.message_id,
                "content_type": d.content_type,
                "body": d.body,
                "state": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "delivered_at": None,
                "last_error": None,
            }
            for d in items
        ],
    )


def subscribers_of(session: Session, kind: str) -> list[SubscriptionRow]:
    rows = session.scalars(
        select(Subscription).where(Subscription.disabled_at.is_(None)).order_by(Subscription.id)
    )
    return [_subscription(s) for s in rows if kind in s.events]


def enqueue_delivery(
    session: Session,
    *,
    subscription_id: int,
    message_id: str,
    content_type: str,
    body: bytes,
    now: datetime,
    event_pk: int | None = None,
) -> None:
    session.add(
        Delivery(
            subscription_id=subscription_id,
            event_pk=event_pk,
            message_id=message_id,
            content_type=content_type,
            body=body,
            state="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            delivered_at=None,
            last_error=None,
        )
    )
    flush(session)


def claim_due_deliveries(
    session: Session, *, now: datetime, lease_s: float, limit: int
) -> list[DeliveryRow]:
    """Pending deliveries due by ``now``, oldest first; each is pushed ``lease_s`` into
    the future in the same transaction, so a second worker does not take it meanwhile."""
    rows = session.execute(
        select(Delivery, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    ).all()
    out = []
    for delivery, subscription in rows:
        delivery.next_attempt_at = now + timedelta(seconds=lease_s)
        out.append(_delivery(delivery, subscription))
    flush(session)
    return out


def mark_delivered(session: Session, delivery_id: int, *, at: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == "pending")
        .values(
            state="delivered",
            delivered_at=at,
            attempts=Delivery.attempts + 1,
            # No attempt is due any more, and an earlier failure is no longer the state.
            next_attempt_at=at,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def mark_failed(
    session: Session, delivery_id: int, *, error: str, retry_at: datetime | None
) -> None:
    """One failed attempt: retried at ``retry_at``, or abandoned when it is None."""
    values: dict[str, Any] = {"attempts": Delivery.attempts + 1, "last_error": error[:2000]}
    if retry_at is None:
        values["state"] = "abandoned"
    else:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def list_deliveries(
    session: Session, *, subscription_id: int | None = None, limit: int = 200
) -> list[DeliveryRow]:
    query = (
        select(Delivery, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    return [_delivery(d, s) for d, s in session.execute(query)]


def delivery_counts(session: Session) -> dict[str, int]:
    return {
        str(state): int(n)
        for state, n in session.execute(
            select(Delivery.state, func.count()).group_by(Delivery.state)
        )
    }


# -- facts not yet told ----------------------------------------------------------------


def _told(kind: str, key_column: Any) -> Any:
    return ~exists().where(OutboxEvent.kind == kind, OutboxEvent.key == key_column)


def _anchored(session: Session, limit: int) -> list[tuple[str, dict[str, Any]]]:
    out = []
    batches = session.scalars(
        select(Batch)
        .where(Batch.state == "anchored", _told("record.anchored", Batch.manifest_digest_hex))
        .order_by(Batch.seq)
        .limit(limit)
    )
    for b in batches:
        records = session.execute(
            select(Record.record_id, Record.digest_hex, Record.type, Record.subject)
            .where(Record.batch_seq == b.seq)
            .order_by(Record.id)
        )
        payload = {
            "batch_seq": b.seq,
            "root": b.root_hex,
            "manifest_digest": b.manifest_digest_hex,
            "tx_hash": b.tx_hash,
            "block_number": b.anchored_block_number,
            "records": [
                {"record_id": rid, "digest": d, "type": t, "subject": sub}
                for rid, d, t, sub in records
            ],
        }
        out.append((b.manifest_digest_hex, payload))
    return out


def _revoked(session: Session, limit: int) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        select(Revocation, Record.record_id)
        .join(Record, Record.digest_hex == Revocation.digest_hex)
        .where(Revocation.state == "mined", _told("record.revoked", Revocation.digest_hex))
        .order_by(Revocation.id)
        .limit(limit)
    )
    return [
        (
            rev.digest_hex,
            {
                "record_id": record_id,
                "digest": rev.digest_hex,
                "reason_code": rev.reason_code,
                "reason_digest": rev.reason_digest_hex,
                "tx_hash": rev.tx_hash,
                "block_number": rev.block_number,
            },
        )
        for rev, record_id in rows
    ]


def _superseded(session: Session, limit: int) -> list[tuple[str, dict[str, Any]]]:
    records = session.scalars(
        select(Record)
        .where(
            Record.supersedes.is_not(None),
            Record.status == "anchored",
            _told("record.superseded", Record.record_id),
        )
        .order_by(Record.id)
        .limit(limit)
    )
    return [
        (
            rec.record_id,
            {
                "record_id": rec.supersedes,
                "superseded_by": rec.record_id,
                "superseded_by_digest": rec.digest_hex,
                "subject": rec.subject,
                "type": rec.type,
            },
        )
        for rec in records
    ]


def _attested(session: Session, limit: int) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        select(Attestation, Record.record_id)
        .join(Record, Record.digest_hex == Attestation.digest_hex)
        .where(
            Attestation.state == "mined",
            Attestation.tx_hash.is_not(None),
            _told("attestation.filed", Attestation.tx_hash),
        )
        .order_by(Attestation.id)
        .limit(limit)
    )
    return [
        (
            str(att.tx_hash),
            {
                "record_id": record_id,
                "digest": att.digest_hex,
                "attester": att.attester,
                "report_digest": att.report_digest_hex,
                "verdict": att.verdict,
                "tx_hash": att.tx_hash,
                "block_number": att.block_number,
            },
        )
        for att, record_id in rows
    ]


def _claimed(session: Session, limit: int) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        select(Claim, Record)
        .join(Record, Record.id == Claim.record_pk)
        .where(Record.status == "anchored", _told("claim.made", Record.record_id))
        .order_by(Record.id)
        .limit(limit)
    )
    return [
        (
            rec.record_id,
            {
                "record_id": rec.record_id,
                "digest": rec.digest_hex,
                "unit": claim.unit,
                "regime": claim.regime,
                "batch_seq": rec.batch_seq,
            },
        )
        for claim, rec in rows
    ]


_SCANS = {
    "record.anchored": _anchored,
    "record.revoked": _revoked,
    "record.superseded": _superseded,
    "attestation.filed": _attested,
    "claim.made": _claimed,
}


def unemitted_facts(session: Session, kind: str, *, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """(key, payload) of facts of ``kind`` that have no outbox event yet, oldest first.

    ``record.anchored``: an anchored batch (key: its manifest digest) with its records;
    ``record.revoked``: a revocation mined on-chain (key: the digest);
    ``record.superseded``: an anchored record superseding another (key: its id);
    ``attestation.filed``: an attestation mined on-chain (key: its transaction hash);
    ``claim.made``: an anchored claim record (key: its id). Footprints are told by the PACT
    index itself (``footprint.published``).
    """
    scan = _SCANS.get(kind)
    if scan is None:
        raise MalformedError(f"no scan for event kind {kind!r}", path="kind")
    return scan(session, limit)
