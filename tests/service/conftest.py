"""Fixtures of the accept-path suite: a real store (SQLite file, and PostgreSQL when its
binaries are installed), registered producer keys, the example records of every type with
freshly drawn salts, and helpers to build submissions and dump the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ledger.core.canonical import canonicalize
from ledger.core.signature import private_key_from_seed, public_key_bytes, sign_digest
from ledger.core.view import Commitment, commit
from ledger.examples import example_records
from ledger.service import SUBMISSION_FORMAT, LedgerService, ManualClock
from ledger.store import Store
from ledger.store.models import Producer, ProducerKey, Record, RecordRef
from ledger.store.producers import add_producer, add_producer_key
from ledger.store.terminals import ReadingSpan, TerminalGrant, TerminalKey
from tests.storefixtures import fresh_store_url
from tests.support.ledgerdata import example_types

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
MAX_MERGE_DELAY_S = 600
PRODUCERS = (
    "urn:carbonledger:producer:reference-data-desk",
    "urn:carbonledger:producer:example-plant-mes",
    "urn:carbonledger:producer:conversion-service",
    "urn:carbonledger:producer:credit-rating-desk",
)


def seeded_key(label: str) -> Ed25519PrivateKey:
    return private_key_from_seed(hashlib.sha256(f"test key {label}".encode()).digest())


SERVICE_KEY = seeded_key("service")
PRODUCER_KEYS = {name: seeded_key(name) for name in PRODUCERS}


def submission_json(
    commitment: Commitment, key: Ed25519PrivateKey, *, digest: bytes | None = None
) -> dict[str, Any]:
    signature = sign_digest(key, digest if digest is not None else commitment.digest)
    return {
        "format": SUBMISSION_FORMAT,
        "view": commitment.to_json(),
        "signature": signature.to_json(),
    }


def submission(commitment: Commitment, key: Ed25519PrivateKey | None = None) -> bytes:
    """The bytes a producer sends for ``commitment``, signed with its producer's key."""
    key = key or PRODUCER_KEYS.get(commitment.record["producer"]) or seeded_key("nobody")
    return canonicalize(submission_json(commitment, key))


def bulk(*items: dict[str, Any]) -> bytes:
    return canonicalize({"format": "carbonledger-submission-batch/1", "submissions": list(items)})


@dataclass
class Examples:
    """Every example record in dependency order, committed with random salts."""

    order: list[str]
    commitments: dict[str, Commitment]

    def __getitem__(self, record_id: str) -> Commitment:
        return self.commitments[record_id]

    def all(self) -> list[Commitment]:
        return [self.commitments[rid] for rid in self.order]


@pytest.fixture
def examples() -> Examples:
    commitments: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        commitments[record["id"]] = commit(record)
        return commitments[record["id"]].digest_hex

    records = example_records(digest_of)
    return Examples(list(records), commitments)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database; a copy of the session's migrated template when the test opens
    ``store`` (tests/storefixtures.py)."""
    migrated = "store" in request.fixturenames
    return fresh_store_url(request, request.param, tmp_path / "data", migrated=migrated)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def register_keys(store: Store) -> None:
    with store.transaction() as session:
        for name, key in PRODUCER_KEYS.items():
            add_producer(session, name, created_at=KEYS_FROM)
            add_producer_key(
                session,
                producer=name,
                public_key_hex=public_key_bytes(key).hex(),
                valid_from=KEYS_FROM,
                record_types=example_types().get(name, ()),
            )


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    opened = Store.open(store_url, clock=clock)
    try:
        register_keys(opened)
        yield opened
    finally:
        opened.close()


@pytest.fixture
def service(store: Store, clock: ManualClock) -> LedgerService:
    return LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=MAX_MERGE_DELAY_S
    )


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the accept path may write, row by row, for before/after comparisons."""
    tables: dict[str, Any] = {
        "records": Record,
        "record_refs": RecordRef,
        "producers": Producer,
        "producer_keys": ProducerKey,
        "reading_spans": ReadingSpan,
        "terminal_keys": TerminalKey,
        "terminal_grants": TerminalGrant,
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.transaction(readonly=True) as session:
        for name, model in tables.items():
            columns = [c.key for c in model.__table__.columns]
            rows = session.scalars(select(model)).all()
            out[name] = sorted((tuple(getattr(r, c) for c in columns) for r in rows), key=repr)
    return out


def accept_in_order(service: LedgerService, items: list[Commitment]) -> None:
    for item in items:
        service.accept(submission(item))


__all__ = [
    "KEYS_FROM",
    "MAX_MERGE_DELAY_S",
    "NOW",
    "PRODUCER_KEYS",
    "SERVICE_KEY",
    "Examples",
    "accept_in_order",
    "bulk",
    "dump",
    "seeded_key",
    "submission",
    "submission_json",
]
