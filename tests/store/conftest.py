"""Fixtures of the storage suite: every test runs against SQLite and PostgreSQL alike.

``store_url`` is a fresh SQLite file in ``tmp_path`` or a fresh database on the throwaway
PostgreSQL cluster of ``tests/pgfixture.py`` (skipped, with the reason, when PostgreSQL is
not installed). When the test opens ``store``, the database is a copy of the session's
migrated template (tests/storefixtures.py); otherwise, or when the test is marked
``empty_database`` (the migration tests: ``store`` migrates it), it is empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.core.clock import ManualClock
from ledger.store import Store
from ledger.store.producers import add_producer, add_producer_key
from ledger.store.records import Link, NewRecord
from tests.storefixtures import fresh_store_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PRODUCER = "svc-carbon"
PUBLIC_KEY_HEX = hashlib.sha256(b"test producer key").hexdigest()  # any 32 bytes will do


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    migrated = "store" in request.fixturenames and not request.node.get_closest_marker(
        "empty_database"
    )
    return fresh_store_url(request, backend, tmp_path / "data", migrated=migrated)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    opened = Store.open(store_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def key_id(store: Store) -> str:
    with store.transaction() as session:
        add_producer(session, PRODUCER, created_at=T0)
        key = add_producer_key(
            session,
            producer=PRODUCER,
            public_key_hex=PUBLIC_KEY_HEX,
            valid_from=T0,
            record_types=(),
        )
        return key.key_id


def digest_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def new_record(
    key_id: str,
    n: int,
    *,
    record_id: str | None = None,
    digest_hex: str | None = None,
    subject: str = "88.118.8/TI-HX-0042",
    refs: tuple[Link, ...] = (),
) -> NewRecord:
    rid = record_id or f"rec-{n:04d}"
    return NewRecord(
        record_id=rid,
        type="carbon-record",
        schema_version="1",
        subject=subject,
        producer=PRODUCER,
        issued_at=T0 + timedelta(minutes=n),
        digest_hex=digest_hex or digest_of(rid),
        full_view=b'{"id":"' + rid.encode() + b'"}',
        key_id=key_id,
        signature=bytes(64),
        accepted_at=T0 + timedelta(minutes=n, seconds=1),
        receipt=b'{"record_id":"' + rid.encode() + b'"}',
        refs=refs,
    )
