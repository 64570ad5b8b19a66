"""State transitions: records pending → batched → anchored, batches through anchoring,
the anchoring outbox, and the read paths the API builds on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store import ConstraintError, Store
from ledger.store.anchors import (
    mark_tx_broadcast,
    mark_tx_mined,
    mark_tx_replaced,
    record_signed_tx,
    txs_of_batch,
    unfinished_txs,
)
from ledger.store.batches import (
    SealedLeaf,
    get_batch,
    get_leaf,
    mark_anchored,
    mark_anchoring,
    mark_failed,
    next_batch_seq,
    reopen_batch,
    seal_batch,
)
from ledger.store.records import (
    Link,
    count_by_status,
    find_record,
    get_record,
    get_record_by_digest,
    insert_pending_records,
    links_of,
    list_pending,
    referrers,
    subject_trail,
)
from tests.store.conftest import T0, digest_of, new_record

BLOCK_HASH = "0x" + "ab" * 32


def _accept(store: Store, key_id: str, count: int) -> list[str]:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, n) for n in range(1, count + 1)])
    return [digest_of(f"rec-{n:04d}") for n in range(1, count + 1)]


def _seal_next(store: Store, digests: list[str]) -> int:
    with store.transaction() as session:
        seq = next_batch_seq(session)
        seal_batch(
            session,
            seq=seq,
            root_hex=digest_of(f"root-{seq}"),
            manifest=b'{"seq":%d}' % seq,
            manifest_digest_hex=digest_of(f"manifest-{seq}"),
            manifest_cid=f"bafkrei-{seq}",
            created_at=T0 + timedelta(hours=seq),
            leaves=[
                SealedLeaf(i, d, [digest_of(f"sibling-{i}"), digest_of("up")])
                for i, d in enumerate(digests)
            ],
        )
    return seq


def test_record_moves_pending_batched_anchored(store: Store, key_id: str) -> None:
    digests = _accept(store, key_id, 3)
    with store.transaction(readonly=True) as session:
        assert [r.record_id for r in list_pending(session, 10)] == [
            "rec-0001",
            "rec-0002",
            "rec-0003",
        ]
    seq = _seal_next(store, digests[:2])
    assert seq == 1
    with store.transaction(readonly=True) as session:
        assert count_by_status(session) == {"pending": 1, "batched": 2, "anchored": 0}
        assert get_record(session, "rec-0001").batch_seq == 1
        leaf = get_leaf(session, digests[1])
        assert (leaf.batch_seq, leaf.leaf_index) == (1, 1)
        assert leaf.proof == [digest_of("sibling-1"), digest_of("up")]
        assert [r.record_id for r in list_pending(session, 10)] == ["rec-0003"]
    with store.transaction() as session:
        mark_anchoring(session, seq)
        mark_anchored(
            session,
            seq,
            tx_hash="0x" + "11" * 32,
            block_number=7,
            block_hash=BLOCK_HASH,
            log_hash_hex=digest_of("log"),
            anchored_at=T0 + timedelta(hours=2),
        )
    with store.transaction(readonly=True) as session:
        assert count_by_status(session) == {"pending": 1, "batched": 0, "anchored": 2}
        batch = get_batch(session, seq)
        assert (batch.state, batch.anchored_block_number, batch.tx_hash) == (
            "anchored",
            7,
            "0x" + "11" * 32,
        )
        assert batch.anchored_at == T0 + timedelta(hours=2)
        assert next_batch_seq(session) == 2


def test_invalid_batch_transition_is_a_conflict(store: Store, key_id: str) -> None:
    seq = _seal_next(store, _accept(store, key_id, 1))
    with pytest.raises(ConflictError, match="sealed"), store.transaction() as session:
        mark_anchored(
            session,
            seq,
            tx_hash="0x" + "11" * 32,
            block_number=1,
            block_hash=BLOCK_HASH,
            log_hash_hex=digest_of("log"),
            anchored_at=T0,
        )
    with pytest.raises(NotFoundError), store.transaction() as session:
        mark_anchoring(session, 99)


def test_failed_batch_is_retried_and_reopened_after_chain_loss(store: Store, key_id: str) -> None:
    seq = _seal_next(store, _accept(store, key_id, 2))
    with store.transaction() as session:
        mark_anchoring(session, seq)
        assert mark_failed(session, seq, "rpc timeout").last_error == "rpc timeout"
        mark_anchoring(session, seq)
        mark_anchored(
            session,
            seq,
            tx_hash="0x" + "22" * 32,
            block_number=3,
            block_hash=BLOCK_HASH,
            log_hash_hex=digest_of("log"),
            anchored_at=T0,
        )
    # The dev chain lost its last seconds: the same seq goes back to sealed, its records
    # back to batched, its leaves (root, proofs) unchanged.
    with store.transaction() as session:
        batch = reopen_batch(session, seq, "contract has no batch 1")
        assert (batch.state, batch.tx_hash, batch.anchored_block_number) == ("sealed", None, None)
        assert count_by_status(session) == {"pending": 0, "batched": 2, "anchored": 0}
        assert get_leaf(session, digest_of("rec-0002")).batch_seq == seq


def test_outbox_keeps_signed_bytes_and_one_mined_tx_per_batch(store: Store, key_id: str) -> None:
    seq = _seal_next(store, _accept(store, key_id, 1))
    first, bumped = "0x" + "aa" * 32, "0x" + "bb" * 32
    with store.transaction() as session:
        mark_anchoring(session, seq)
        record_signed_tx(
            session,
            batch_seq=seq,
            nonce=0,
            raw_tx=b"\x02signed-once",
            tx_hash=first,
            max_fee_per_gas=2**200,  # beyond BIGINT: stored exactly
            priority_fee_per_gas=1_000_000_000,
            created_at=T0,
        )
    with store.transaction(readonly=True) as session:
        (pending,) = unfinished_txs(session)
        assert (pending.raw_tx, pending.max_fee_per_gas) == (b"\x02signed-once", 2**200)
    with store.transaction() as session:
        mark_tx_broadcast(session, first, at=T0)
        record_signed_tx(
            session,
            batch_seq=seq,
            nonce=0,
            raw_tx=b"\x02bumped",
            tx_hash=bumped,
            max_fee_per_gas=3 * 10**9,
            priority_fee_per_gas=2 * 10**9,
            created_at=T0,
        )
        mark_tx_replaced(session, first)
        mark_tx_mined(session, bumped, block_number=9, block_hash=BLOCK_HASH)
    # The replaced transaction cannot also be recorded as mined for the same batch.
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        mark_tx_mined(session, first, block_number=9, block_hash=BLOCK_HASH)
    assert raised.value.constraint == "uq_anchor_txs_mined_batch"
    with store.transaction(readonly=True) as session:
        states = [(t.tx_hash, t.state, t.nonce) for t in txs_of_batch(session, seq)]
        assert states == [(first, "replaced", 0), (bumped, "mined", 0)]
        assert unfinished_txs(session) == []
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        record_signed_tx(
            session,
            batch_seq=seq,
            nonce=1,
            raw_tx=b"\x02again",
            tx_hash=bumped,
            max_fee_per_gas=1,
            priority_fee_per_gas=1,
            created_at=T0,
        )
    assert raised.value.constraint == "uq_anchor_txs_tx_hash"


def test_negative_wei_is_malformed(store: Store, key_id: str) -> None:
    seq = _seal_next(store, _accept(store, key_id, 1))
    with pytest.raises(MalformedError), store.transaction() as session:
        record_signed_tx(
            session,
            batch_seq=seq,
            nonce=0,
            raw_tx=b"x",
            tx_hash="0x" + "cc" * 32,
            max_fee_per_gas=-1,
            priority_fee_per_gas=0,
            created_at=T0,
        )


def test_trail_links_and_reverse_links(store: Store, key_id: str) -> None:
    factor_set = new_record(key_id, 1, record_id="fs-eu-2026", subject="factor-set/eu")
    carbon = new_record(
        key_id,
        2,
        refs=(Link("factor-set", "fs-eu-2026", factor_set.digest_hex),),
    )
    substitution = new_record(
        key_id,
        3,
        refs=(
            Link("source", carbon.record_id, carbon.digest_hex),
            Link("factor-set", "fs-eu-2026", factor_set.digest_hex),
        ),
    )
    with store.transaction() as session:
        insert_pending_records(session, [factor_set, carbon, substitution])
    with store.transaction(readonly=True) as session:
        trail = subject_trail(session, "88.118.8/TI-HX-0042")
        assert [r.record_id for r in trail] == ["rec-0002", "rec-0003"]
        page = subject_trail(session, "88.118.8/TI-HX-0042", after_id=trail[0].id, limit=1)
        assert [r.record_id for r in page] == ["rec-0003"]
        cited = [(r.rel, r.record_id) for r in referrers(session, "fs-eu-2026")]
        assert cited == [("factor-set", "rec-0002"), ("factor-set", "rec-0003")]
        assert links_of(session, get_record_by_digest(session, substitution.digest_hex)) == list(
            substitution.refs
        )
        with pytest.raises(MalformedError):
            subject_trail(session, "x", limit=10**9)
        with pytest.raises(NotFoundError):
            get_record(session, "missing")


def test_uncommitted_records_are_invisible_to_others(
    store_url: str, store: Store, key_id: str
) -> None:
    """A record exists for everyone else only once its transaction has committed, which
    is when the accept path may acknowledge it (docs/OPERATIONS.md §1)."""
    other = Store.open(store_url)
    try:
        with store.transaction() as session:
            insert_pending_records(session, [new_record(key_id, 1)])
            with other.transaction(readonly=True) as reader:
                assert find_record(reader, "rec-0001") is None
        with other.transaction(readonly=True) as reader:
            assert find_record(reader, "rec-0001") is not None
    finally:
        other.close()


def test_integrity_check_finds_rows_changed_behind_the_store(store: Store, key_id: str) -> None:
    seq = _seal_next(store, _accept(store, key_id, 3))
    assert store.integrity_check() == []
    # Edits no repository function makes: a lost leaf, an anchored record in a sealed batch.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM batch_leaves WHERE leaf_index = 2"))
        conn.execute(text("UPDATE records SET status = 'anchored' WHERE record_id = 'rec-0001'"))
    problems = store.integrity_check()
    assert f"batch leaf_count differs from its stored leaves: {seq}" in problems
    assert "record is batched but its digest is not a leaf of its batch: rec-0003" in problems
    assert "record is anchored but its batch is not: rec-0001" in problems
    assert len(problems) == 3
