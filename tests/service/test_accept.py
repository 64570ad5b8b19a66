"""The accept path on a real store: every example record type accepted, receipts that
verify, idempotent replays, conflicts naming both digests, bulk calls all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ledger.core.canonical import canonicalize, format_timestamp, parse_json
from ledger.core.receipt import Receipt, verify_receipt
from ledger.core.signature import public_key_bytes
from ledger.core.view import Commitment, commit
from ledger.crashpoints import CrashPoints
from ledger.examples import CR_TANK, CR_TANK_REVISED, FS_DESNZ_2025, RULE_UK
from ledger.service import (
    AFTER_COMMIT,
    LedgerService,
    ManualClock,
    RecordConflictError,
    RefusedRecordError,
    receipt_bytes,
)
from ledger.store import Store
from ledger.store.models import Record, RecordRef
from ledger.store.records import links_of
from tests.service.conftest import (
    MAX_MERGE_DELAY_S,
    NOW,
    PRODUCER_KEYS,
    SERVICE_KEY,
    Examples,
    bulk,
    dump,
    submission,
    submission_json,
)

SERVICE_PUBLIC = public_key_bytes(SERVICE_KEY)


def check_receipt(receipt: Receipt, item: Commitment) -> None:
    verify_receipt(receipt, SERVICE_PUBLIC, digest_hex=item.digest_hex, record_id=item.record["id"])


def test_every_example_type_is_accepted_in_dependency_order(
    service: LedgerService, store: Store, examples: Examples, clock: ManualClock
) -> None:
    receipts = {}
    for item in examples.all():
        receipts[item.record["id"]] = service.accept(submission(item))
        clock.advance(1)
    types = {examples[rid].record["type"] for rid in examples.order}
    assert len(types) == 7  # docs/RECORDS.md: every record type
    with store.transaction(readonly=True) as session:
        for rid in examples.order:
            item, receipt = examples[rid], receipts[rid]
            check_receipt(receipt, item)
            row = session.scalars(select(Record).where(Record.record_id == rid)).one()
            assert row.status == "pending" and row.batch_seq is None
            assert row.digest_hex == item.digest_hex
            assert row.full_view == canonicalize(item.to_json())
            assert row.receipt == receipt_bytes(receipt)
            assert parse_json(row.full_view)["record"] == item.record
            assert [
                (link.rel, link.ref_id, link.ref_digest_hex) for link in links_of(session, row)
            ] == [(r["rel"], r["id"], r["digest"]) for r in item.record["refs"]]
    first = receipts[examples.order[0]]
    assert first.accepted_at == format_timestamp(NOW)
    assert first.anchor_by == format_timestamp(NOW + timedelta(seconds=MAX_MERGE_DELAY_S))


def test_supersedes_is_stored(service: LedgerService, store: Store, examples: Examples) -> None:
    for item in examples.all():
        service.accept(submission(item))
    with store.transaction(readonly=True) as session:
        revised = session.scalars(select(Record).where(Record.record_id == CR_TANK_REVISED)).one()
        assert revised.supersedes == CR_TANK


def test_bulk_of_every_example_with_refs_inside_the_bulk(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    items = examples.all()
    receipts = service.accept_bulk(bulk(*(submission_json(i, _key(i)) for i in items)))
    assert [r.record_id for r in receipts] == examples.order
    for receipt, item in zip(receipts, items, strict=True):
        check_receipt(receipt, item)
    assert len({r.accepted_at for r in receipts}) == 1  # one transaction, one acceptance time
    assert len(dump(store)["records"]) == len(items)


def test_bulk_with_a_reference_to_a_later_record_is_refused_whole(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    before = dump(store)
    set_, rule = examples[FS_DESNZ_2025], examples[RULE_UK]
    with pytest.raises(RefusedRecordError) as refused:
        service.accept_bulk(
            bulk(submission_json(rule, _key(rule)), submission_json(set_, _key(set_)))
        )
    assert refused.value.record_id == RULE_UK and refused.value.index == 0
    assert refused.value.field.startswith("refs[") and refused.value.field.endswith("].id")
    assert "later in the same bulk" in str(refused.value) and RULE_UK in str(refused.value)
    assert dump(store) == before


def test_replay_returns_the_stored_receipt_byte_for_byte(
    service: LedgerService, store: Store, examples: Examples, clock: ManualClock
) -> None:
    item = examples[FS_DESNZ_2025]
    first = service.accept(submission(item))
    before = dump(store)
    clock.advance(3600)
    again = service.accept(submission(item))
    assert receipt_bytes(again) == receipt_bytes(first)
    # The same record with its salts listed in another order has the same digest.
    shuffled = Commitment(item.record, dict(reversed(list(item.salts.items()))))
    assert receipt_bytes(service.accept(submission(shuffled))) == receipt_bytes(first)
    # Inside a bulk, next to a new record, the replay keeps its receipt too.
    rule = examples[RULE_UK]
    needed = [examples[r["id"]] for r in rule.record["refs"] if r["id"] != FS_DESNZ_2025]
    items = [*needed, item, rule]
    receipts = service.accept_bulk(bulk(*(submission_json(i, _key(i)) for i in items)))
    assert receipt_bytes(receipts[len(needed)]) == receipt_bytes(first)
    assert receipts[-1].accepted_at == format_timestamp(NOW + timedelta(seconds=3600))
    assert dump(store)["records"][: len(before["records"])] == before["records"]


def test_same_id_other_content_is_a_conflict_naming_both_digests(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    item = examples[FS_DESNZ_2025]
    service.accept(submission(item))
    before = dump(store)
    other = commit(item.record)  # new salts: the same record under another digest
    with pytest.raises(RecordConflictError) as conflict:
        service.accept(submission(other))
    message = str(conflict.value)
    assert FS_DESNZ_2025 in message
    assert item.digest_hex in message and other.digest_hex in message
    assert conflict.value.stored_digest_hex == item.digest_hex
    assert conflict.value.submitted_digest_hex == other.digest_hex
    assert dump(store) == before


def test_same_id_twice_in_one_bulk(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    item = examples[FS_DESNZ_2025]
    twice = service.accept_bulk(
        bulk(submission_json(item, _key(item)), submission_json(item, _key(item)))
    )
    assert receipt_bytes(twice[0]) == receipt_bytes(twice[1])
    assert len(dump(store)["records"]) == 1
    other = commit(examples[RULE_UK].record)
    rule = examples[RULE_UK]
    with pytest.raises(RecordConflictError):
        service.accept_bulk(
            bulk(submission_json(rule, _key(rule)), submission_json(other, _key(other)))
        )


def test_crash_point_is_passed_after_commit_only(
    store: Store, clock: ManualClock, examples: Examples
) -> None:
    points = CrashPoints()
    service = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=60,
        crash_points=points,
    )  # fmt: skip
    item = examples[FS_DESNZ_2025]
    with pytest.raises(RefusedRecordError):
        service.accept(submission(commit({**item.record, "type": "nonsense"})))
    assert AFTER_COMMIT not in points.seen
    service.accept(submission(item))
    assert AFTER_COMMIT in points.seen


def test_refs_are_indexed_for_reverse_links(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    for item in examples.all():
        service.accept(submission(item))
    with store.transaction(readonly=True) as session:
        citing = session.scalars(
            select(RecordRef.record_pk).where(RecordRef.ref_id == FS_DESNZ_2025)
        ).all()
    assert len(citing) >= 2  # the UK rule and the UK substitution


def _key(item: Commitment) -> Ed25519PrivateKey:
    return PRODUCER_KEYS[item.record["producer"]]


def test_the_stored_full_view_is_canonical_whatever_order_the_salts_came_in(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    """Salts listed in canonical order are stored as sent; in any other order they are put
    in canonical order first: the same bytes either way, RFC 8785 (``canonicalize``)."""
    in_order, shuffled = examples[FS_DESNZ_2025], examples[RULE_UK]
    service.accept(submission(in_order))
    service.accept(
        submission(Commitment(shuffled.record, dict(reversed(list(shuffled.salts.items())))))
    )
    with store.transaction(readonly=True) as session:
        stored = {r.record_id: r.full_view for r in session.scalars(select(Record))}
    for item in (in_order, shuffled):
        assert stored[item.record["id"]] == canonicalize(item.to_json())
