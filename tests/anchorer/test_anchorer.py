"""The anchorer on the in-process py-evm chain: sealing rules, the outbox, the leader lock,
restarts, and the invariant checker (docs/OPERATIONS.md §1, §3)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from anchoring.anchorer import Anchorer
from ledger.checker import run_checks
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store.models import AnchorTx, Batch, Record
from tests.support.anchorenv import CrashHere, Env, RaisingCrashPoints


def states(env: Env) -> dict[int, str]:
    with env.store.transaction(readonly=True) as session:
        return {
            b.seq: b.state
            for b in batch_repo.batches_in_state(
                session, "sealed", "anchoring", "anchored", "failed", "disputed"
            )
        }


def test_seals_at_n_records_and_anchors(memory_env: Env) -> None:
    anchorer = memory_env.anchorer(batch_max_records=5, batch_max_age_s=3600)
    memory_env.accept(4)
    assert anchorer.run_once().sealed == []  # 4 < N and young: nothing is due
    memory_env.accept(7)
    report = anchorer.run_once()
    assert report.sealed == [1, 2]  # two full batches of 5; one record left pending
    assert report.anchored == [1]  # one batch in flight at a time
    assert anchorer.run_once().anchored == [2]
    assert states(memory_env) == {1: "anchored", 2: "anchored"}
    for receipt in memory_env.receipts[:10]:
        memory_env.assert_verifies_on_chain(receipt)
    checked = run_checks(memory_env.store, memory_env.registry, receipts=memory_env.receipts)
    assert checked.ok, [c.detail for c in checked.failed()]


def test_seals_when_the_oldest_record_reaches_t(memory_env: Env) -> None:
    anchorer = memory_env.anchorer(batch_max_records=100, batch_max_age_s=30)
    memory_env.accept(3)
    memory_env.clock.advance(29)
    assert anchorer.run_once().sealed == []
    memory_env.clock.advance(1)
    report = anchorer.run_once()
    assert report.sealed == [1] and report.anchored == [1]
    for receipt in memory_env.receipts:
        memory_env.assert_verifies_on_chain(receipt)


def test_restart_after_sign_persist_rebroadcasts_the_same_bytes(memory_env: Env) -> None:
    crashing = memory_env.anchorer()
    crashing.crash_points = crashing.outbox.crash_points = RaisingCrashPoints(
        "anchor.after_sign_persist"
    )
    memory_env.accept(5)
    with pytest.raises(CrashHere):
        crashing.run_once()
    with memory_env.store.transaction(readonly=True) as session:
        (stored,) = txs.txs_of_batch(session, 1)
    assert stored.state == "signed"
    crashing.close()
    report = memory_env.anchorer().run_once()
    assert report.signed == []  # never signed twice
    assert report.rebroadcast == [stored.tx_hash] and report.anchored == [1]
    with memory_env.store.transaction(readonly=True) as session:
        rows = txs.txs_of_batch(session, 1)
    assert [(r.tx_hash, r.state) for r in rows] == [(stored.tx_hash, "mined")]
    assert memory_env.registry.next_seq() == 2


def test_restart_after_broadcast_reconciles_from_the_receipt(memory_env: Env) -> None:
    crashing = memory_env.anchorer()
    crashing.crash_points = crashing.outbox.crash_points = RaisingCrashPoints(
        "anchor.after_broadcast"
    )
    memory_env.accept(5)
    with pytest.raises(CrashHere):
        crashing.run_once()
    crashing.close()
    report = memory_env.anchorer().run_once()
    assert report.signed == [] and report.anchored == [1]
    assert memory_env.registry.next_seq() == 2
    assert run_checks(memory_env.store, memory_env.registry).ok


def test_only_the_leader_anchors(memory_env: Env) -> None:
    first, second = memory_env.anchorer(), memory_env.anchorer()
    memory_env.accept(5)
    assert first.run_once().anchored == [1]
    memory_env.accept(5)
    report = second.run_once()
    assert not report.leader and report.sealed == []
    first.close()
    assert second.run_once().anchored == [2]


def test_a_batch_the_contract_holds_already_is_adopted_not_sent_again(memory_env: Env) -> None:
    """The contract's strict sequence is the last line of defence: when batch 1 is on-chain
    but the store lost its transaction rows, the anchorer records it instead of sending."""
    anchorer = memory_env.anchorer()
    memory_env.accept(5)
    anchorer.run_once()
    with memory_env.store.transaction() as session:
        batch_repo.reopen_batch(session, 1, "test: forget the anchor")
        session.execute(delete(AnchorTx).where(AnchorTx.batch_seq == 1))
    report = anchorer.run_once()
    assert report.signed == [] and report.anchored == [1]
    assert memory_env.registry.next_seq() == 2


def test_checker_names_what_is_wrong(memory_env: Env) -> None:
    anchorer = memory_env.anchorer()
    memory_env.accept(10)
    anchorer.run_once()
    anchorer.run_once()
    assert run_checks(memory_env.store, memory_env.registry, receipts=memory_env.receipts).ok
    with memory_env.store.transaction() as session:
        session.execute(update(Batch).where(Batch.seq == 2).values(root_hex="ab" * 32))
        lost = memory_env.receipts[0].record_id
        session.execute(
            update(Record).where(Record.record_id == lost).values(record_id=lost + "-renamed")
        )
    report = run_checks(memory_env.store, memory_env.registry, receipts=memory_env.receipts)
    failed = {c.number: c.detail for c in report.failed()}
    assert "batch 2: root abab" in failed[5]
    assert "batch 2: stored" in failed[7]
    assert f"acknowledged record {lost} is missing (LOST)" in failed[2]


def test_anchorer_is_constructed_with_explicit_settings(memory_env: Env) -> None:
    anchorer = memory_env.anchorer(batch_max_records=7)
    assert isinstance(anchorer, Anchorer)
    assert anchorer.limits.batch_max_records == 7
