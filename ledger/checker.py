"""The invariant checker behind ``carbonledger check`` (docs/OPERATIONS.md §3).

Pure over the store and read-only chain reads: it changes nothing. Each check names what
is wrong so an operator knows where to look. The chain is reached through ``ChainView``
(implemented by ``anchoring.registry.Registry``), so this module stays below ``anchoring``
in the import order (tests/test_architecture.py).

Checks, in order:
1. the database's own integrity check (SQLite ``PRAGMA integrity_check`` and foreign keys,
   PostgreSQL index validity) and the schema;
2. every acknowledged record is present once, with the digest its receipt names (the
   receipts stored with the records, plus any receipts a client kept and hands in);
3. each record is in at most one batch, and its status agrees with that batch;
4. batch seqs are contiguous from 1;
5. every batch recomputes: root from its leaves (docs/FORMAT.md §4), manifest digest from its
   bytes, manifest leaves and seq, the link to the previous manifest, every stored proof;
6. no batch is anchored twice (at most one mined transaction per batch; the contract holds
   no more batches than were recorded anchored);
7. every anchored root equals the on-chain root (and leaf count and manifest digest);
8. the logHash chain recomputes, batch by batch, to the stored and the on-chain values;
9. no record is past its receipt's promised anchoring time (``anchor_by``) unanchored.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ledger.core.canonical import parse_timestamp
from ledger.core.errors import LedgerError, UnavailableError
from ledger.core.merkle import MerkleTree, log_hash, verify_inclusion
from ledger.core.receipt import Receipt
from ledger.store import Store, audit
from ledger.store.rows import StoredBatch, StoredLeaf

MAX_LISTED = 10  # problems listed per check; the count says how many there are in all


class OnchainBatchLike(Protocol):
    @property
    def root_hex(self) -> str: ...
    @property
    def leaf_count(self) -> int: ...
    @property
    def manifest_digest_hex(self) -> str: ...
    @property
    def log_hash_hex(self) -> str: ...


class ChainView(Protocol):
    """Read-only access to the AnchorRegistry."""

    def next_seq(self) -> int: ...
    def get_batch(self, seq: int) -> OnchainBatchLike | None: ...


@dataclass
class Check:
    number: int
    name: str
    status: str = "PASS"  # PASS | FAIL | SKIP
    detail: str = ""
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.status = "FAIL"
        self.problems.append(problem)

    def finish(self, passed: str) -> None:
        if self.status == "FAIL":
            shown = "; ".join(self.problems[:MAX_LISTED])
            more = len(self.problems) - MAX_LISTED
            self.detail = shown + (f"; and {more} more" if more > 0 else "")
        elif self.status == "PASS":
            self.detail = passed


@dataclass
class CheckReport:
    checks: list[Check]
    chain_unavailable: bool = False

    @property
    def ok(self) -> bool:
        return all(c.status != "FAIL" for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]


def run_checks(
    store: Store,
    chain: ChainView | None,
    *,
    receipts: Iterable[Receipt] = (),
    now: datetime | None = None,
) -> CheckReport:
    """Run every check; ``chain=None`` skips the on-chain ones, ``now=None`` the deadline."""
    checks = [
        _integrity(store),
        *_records_and_batches(store, list(receipts), now),
    ]
    report = CheckReport(checks)
    onchain = _onchain_checks(store, chain, report)
    checks.extend(onchain)
    checks.sort(key=lambda c: c.number)
    return report


def _integrity(store: Store) -> Check:
    check = Check(1, "database integrity")
    try:
        for problem in store.integrity_check():
            check.fail(problem)
    except LedgerError as exc:
        check.fail(f"the integrity check could not run: {exc.message}")
    check.finish(f"{store.dialect} integrity check ok, schema at head")
    return check


def _records_and_batches(
    store: Store, receipts: Sequence[Receipt], now: datetime | None
) -> list[Check]:
    acked = Check(2, "every acknowledged record present once")
    membership = Check(3, "each record in at most one batch, status agrees")
    contiguous = Check(4, "batch seqs contiguous from 1")
    recompute = Check(5, "every batch recomputes from its leaves")
    deadline = Check(9, "no record past its promised anchoring time")
    with store.transaction(readonly=True) as session:
        records = {r.record_id: r for r in audit.record_facts(session)}
        ids_twice = audit.duplicated_record_ids(session)
        batches = audit.all_batches(session)
        leaves = audit.leaves_by_batch(session)
    for rid in ids_twice:
        acked.fail(f"record {rid} is stored more than once")
    by_digest = {r.digest_hex: r for r in records.values()}
    for row in records.values():
        try:
            stored = Receipt.from_json(json.loads(row.receipt))
        except (LedgerError, ValueError) as exc:
            acked.fail(f"record {row.record_id}: its stored receipt does not parse ({exc})")
            continue
        if (stored.record_id, stored.digest_hex) != (row.record_id, row.digest_hex):
            acked.fail(f"record {row.record_id}: its stored receipt names another record")
        late = now is not None and parse_timestamp(stored.anchor_by) < now
        if late and row.status != "anchored":
            deadline.fail(
                f"record {row.record_id} ({row.status}) was promised by {stored.anchor_by}"
            )
    for receipt in receipts:
        found = records.get(receipt.record_id)
        if found is None:
            acked.fail(f"acknowledged record {receipt.record_id} is missing (LOST)")
        elif found.digest_hex != receipt.digest_hex:
            acked.fail(
                f"record {receipt.record_id}: stored digest {found.digest_hex}, the receipt "
                f"says {receipt.digest_hex}"
            )
    acked.finish(f"{len(records)} records, {len(receipts)} client receipts matched")
    if now is None:
        deadline.status, deadline.detail = "SKIP", "no clock given"
    else:
        deadline.finish("every unanchored record is within its merge delay")

    leaf_count = Counter(leaf.digest_hex for group in leaves.values() for leaf in group)
    for digest, n in leaf_count.items():
        if n > 1:
            membership.fail(f"digest {digest} is in {n} batches")
    states = {b.seq: b.state for b in batches}
    leaf_seq = {leaf.digest_hex: seq for seq, group in leaves.items() for leaf in group}
    for row in records.values():
        seq = leaf_seq.get(row.digest_hex)
        if row.status == "pending":
            if seq is not None or row.batch_seq is not None:
                membership.fail(f"record {row.record_id} is pending but in batch {seq}")
            continue
        if seq is None or seq != row.batch_seq:
            membership.fail(
                f"record {row.record_id} says batch {row.batch_seq}, its leaf is in {seq}"
            )
            continue
        anchored = states.get(seq) == "anchored"
        if (row.status == "anchored") != anchored:
            membership.fail(
                f"record {row.record_id} is {row.status} but batch {seq} is {states.get(seq)}"
            )
    for digest in leaf_seq:
        if digest not in by_digest:
            membership.fail(f"batch {leaf_seq[digest]} holds digest {digest} of no record")
    membership.finish(f"{len(leaf_seq)} batched records, each in exactly one batch")

    seqs = [b.seq for b in batches]
    if seqs != list(range(1, len(seqs) + 1)):
        missing = sorted(set(range(1, (max(seqs) if seqs else 0) + 1)) - set(seqs))
        contiguous.fail(f"missing seqs {missing[:MAX_LISTED]}")
    contiguous.finish(f"{len(seqs)} batches, seqs 1..{len(seqs)}")

    prev_manifest = "0" * 64
    for batch in batches:
        _recompute_batch(batch, leaves.get(batch.seq, []), prev_manifest, recompute)
        prev_manifest = batch.manifest_digest_hex
    recompute.finish(f"{len(batches)} roots, manifests and proofs recomputed")
    return [acked, membership, contiguous, recompute, deadline]


def _recompute_batch(
    batch: StoredBatch, leaves: list[StoredLeaf], prev_manifest: str, check: Check
) -> None:
    seq = batch.seq
    if len(leaves) != batch.leaf_count:
        check.fail(f"batch {seq}: {len(leaves)} leaves stored, leaf_count {batch.leaf_count}")
    if not leaves:
        return
    digests = [bytes.fromhex(leaf.digest_hex) for leaf in leaves]
    try:
        tree = MerkleTree.build(digests)
    except LedgerError as exc:
        check.fail(f"batch {seq}: its leaves do not build a tree ({exc})")
        return
    if tree.root.hex() != batch.root_hex:
        check.fail(f"batch {seq}: root {batch.root_hex}, its leaves give {tree.root.hex()}")
    if hashlib.sha256(batch.manifest).hexdigest() != batch.manifest_digest_hex:
        check.fail(f"batch {seq}: the manifest bytes do not hash to its manifest digest")
    try:
        manifest = json.loads(batch.manifest)
        if manifest.get("seq") != seq:
            check.fail(f"batch {seq}: its manifest says seq {manifest.get('seq')}")
        if manifest.get("leaves") != sorted(d.hex() for d in digests):
            check.fail(f"batch {seq}: the manifest's leaves are not the batch's digests")
        if manifest.get("prev_manifest_digest") != prev_manifest:
            check.fail(f"batch {seq}: the manifest does not link to batch {seq - 1}'s")
    except (ValueError, AttributeError) as exc:
        check.fail(f"batch {seq}: the manifest is not a JSON object ({exc})")
    root = bytes.fromhex(batch.root_hex)
    for leaf in leaves:
        try:
            verify_inclusion(
                bytes.fromhex(leaf.digest_hex), [bytes.fromhex(p) for p in leaf.proof], root
            )
        except LedgerError:
            check.fail(f"batch {seq}: the stored proof of {leaf.digest_hex} does not verify")


def _onchain_checks(store: Store, chain: ChainView | None, report: CheckReport) -> list[Check]:
    twice = Check(6, "no batch anchored twice")
    roots = Check(7, "every anchored root equals the on-chain root")
    log = Check(8, "logHash chain intact")
    with store.transaction(readonly=True) as session:
        batches = audit.all_batches(session)
        mined = audit.mined_tx_counts(session)
    for seq, n in mined.items():
        if n > 1:
            twice.fail(f"batch {seq} has {n} mined anchor transactions")
    anchored = [b for b in batches if b.state == "anchored"]
    prev = "0" * 64
    for batch in batches:
        if batch.state != "anchored":
            break  # the chain is strictly sequential: later batches cannot be anchored
        expected = log_hash(
            bytes.fromhex(prev),
            batch.seq,
            bytes.fromhex(batch.root_hex),
            batch.leaf_count,
            bytes.fromhex(batch.manifest_digest_hex),
        ).hex()
        if batch.log_hash_hex != expected:
            log.fail(
                f"batch {batch.seq}: stored logHash {batch.log_hash_hex}, recomputed {expected}"
            )
        prev = expected
    stray = [b.seq for b in anchored if b.seq > len(anchored) or b.state != "anchored"]
    if len(anchored) and anchored[-1].seq != len(anchored):
        log.fail(f"anchored batches are not a prefix of the seqs: {stray[:MAX_LISTED]}")
    if chain is None:
        for check in (roots,):
            check.status, check.detail = "SKIP", "no chain given"
        twice.finish(f"{len(anchored)} anchored batches, one mined transaction each")
        log.finish(f"{len(anchored)} log hashes recomputed (not compared on-chain)")
        return [twice, roots, log]
    try:
        onchain_count = chain.next_seq() - 1
        if onchain_count > len(batches):
            twice.fail(
                f"the contract holds {onchain_count} batches, the store knows {len(batches)}"
            )
        for batch in anchored:
            held = chain.get_batch(batch.seq)
            if held is None:
                roots.fail(f"batch {batch.seq} is recorded anchored but the contract lacks it")
                continue
            ours = (batch.root_hex, batch.leaf_count, batch.manifest_digest_hex)
            theirs = (held.root_hex, held.leaf_count, held.manifest_digest_hex)
            if ours != theirs:
                roots.fail(f"batch {batch.seq}: stored {ours}, on-chain {theirs}")
            if batch.log_hash_hex != held.log_hash_hex:
                log.fail(
                    f"batch {batch.seq}: stored logHash {batch.log_hash_hex}, on-chain "
                    f"{held.log_hash_hex}"
                )
    except UnavailableError as exc:
        report.chain_unavailable = True
        for check in (twice, roots, log):
            if check.status != "FAIL":
                check.status, check.detail = "SKIP", f"the chain did not answer: {exc.message}"
        return [twice, roots, log]
    twice.finish(
        f"{len(anchored)} anchored batches, one mined transaction each; the contract holds "
        f"{onchain_count}"
    )
    roots.finish(f"{len(anchored)} anchored roots equal the contract's")
    log.finish(f"{len(anchored)} log hashes recomputed and equal on-chain")
    return [twice, roots, log]
