"""Uniqueness by constraints (docs/FORMAT.md §4, docs/OPERATIONS.md §1): each violation is a
ConflictError that names the constraint, and a failed transaction stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.core.errors import ConflictError
from ledger.store import ConstraintError, Store
from ledger.store.batches import SealedLeaf, seal_batch
from ledger.store.models import Batch, BatchLeaf, Record, RecordRef
from ledger.store.records import Link, insert_pending_records
from tests.store.conftest import T0, digest_of, new_record


def _count(store: Store, model: type) -> int:
    with store.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _seal(store: Store, seq: int, digests: list[str]) -> None:
    with store.transaction() as session:
        seal_batch(
            session,
            seq=seq,
            root_hex=digest_of(f"root-{seq}"),
            manifest=b'{"seq":%d}' % seq,
            manifest_digest_hex=digest_of(f"manifest-{seq}-{len(digests)}-{digests[0]}"),
            manifest_cid=f"bafkrei{seq}",
            created_at=T0 + timedelta(hours=seq),
            leaves=[SealedLeaf(i, d, [digest_of(f"node-{i}")]) for i, d in enumerate(digests)],
        )


def test_record_id_is_stored_once(store: Store, key_id: str) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, 1)])
    again = new_record(key_id, 2, record_id="rec-0001", digest_hex=digest_of("other"))
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        insert_pending_records(session, [again])
    assert raised.value.constraint == "uq_records_record_id"
    assert isinstance(raised.value, ConflictError)
    assert _count(store, Record) == 1


def test_digest_is_stored_once(store: Store, key_id: str) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, 1)])
    same_digest = new_record(key_id, 2, digest_hex=digest_of("rec-0001"))
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        insert_pending_records(session, [same_digest])
    assert raised.value.constraint == "uq_records_digest_hex"


def test_bulk_insert_is_all_or_nothing(store: Store, key_id: str) -> None:
    rows = [
        new_record(key_id, 1, refs=(Link("source", "rec-0000", digest_of("rec-0000")),)),
        new_record(key_id, 2),
        new_record(key_id, 3, record_id="rec-0001", digest_hex=digest_of("dup")),
    ]
    with pytest.raises(ConstraintError), store.transaction() as session:
        insert_pending_records(session, rows)
    assert _count(store, Record) == 0
    assert _count(store, RecordRef) == 0
    with store.transaction() as session:
        stored = insert_pending_records(session, rows[:2])
    assert [r.id for r in stored] == sorted(r.id for r in stored)
    assert _count(store, Record) == 2


def test_record_needs_a_registered_key(store: Store, key_id: str) -> None:
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        insert_pending_records(session, [new_record("00" * 32, 1)])
    assert raised.value.constraint == "fk_records_key_id_producer_keys" or (
        raised.value.constraint == ""  # SQLite does not name failed foreign keys
    )
    assert _count(store, Record) == 0


def test_batch_seq_is_stored_once(store: Store, key_id: str) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, n) for n in (1, 2)])
    _seal(store, 1, [digest_of("rec-0001")])
    with pytest.raises(ConstraintError) as raised:
        _seal(store, 1, [digest_of("rec-0002")])
    assert raised.value.constraint == "pk_batches"
    assert _count(store, Batch) == 1
    with store.transaction(readonly=True) as session:
        record = session.scalars(select(Record).where(Record.record_id == "rec-0002")).one()
        assert (record.status, record.batch_seq) == ("pending", None)


def test_digest_is_in_at_most_one_batch(store: Store, key_id: str) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, n) for n in (1, 2)])
    _seal(store, 1, [digest_of("rec-0001")])
    with pytest.raises(ConstraintError) as raised:
        _seal(store, 2, [digest_of("rec-0002"), digest_of("rec-0001")])
    assert raised.value.constraint == "uq_batch_leaves_digest_hex"
    assert _count(store, Batch) == 1
    assert _count(store, BatchLeaf) == 1


def test_batch_of_unknown_digest_is_refused(store: Store, key_id: str) -> None:
    with pytest.raises(ConflictError):
        _seal(store, 1, [digest_of("never accepted")])
    assert _count(store, Batch) == 0


def test_zero_batch_seq_is_refused(store: Store, key_id: str) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, 1)])
    with pytest.raises(ConstraintError) as raised:
        _seal(store, 0, [digest_of("rec-0001")])
    assert raised.value.constraint == "ck_batches_seq_positive"
