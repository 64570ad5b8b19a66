"""Building evidence bundles (``carbonledger-bundle/1``, docs/FORMAT.md §6)
from the store, in the caller's view.

A bundle holds only what can be proven: items whose batch is anchored. Asked for one record
that is not anchored yet, the exporter refuses with ``NotYetAnchoredError`` (a conflict
naming the receipt's ``anchor_by``) instead of handing out an item without a proof. For a
subject's trail or a query, records not yet anchored are left out and counted
(``ExportResult.pending``), so the bundle stays verifiable as a whole.

The closure: every record an item links (every rel: ``source``, ``factor-set``, ``rule``,
``archive``, ``carbon-record``, ``supersedes``, ``previous``, ``template``, ``benchmark``,
``meter-reading``; recursively, so a conversion brings its source, the rule, the rule's
factor sets..., a correction the record it corrects, a rating the rating it follows, an
evaluation its readings and the templates its template extends) is added in the same
item shape, so that the verifier finds every reference in the bundle and recomputation
(calc/1) needs nothing else. A record in the closure that is not anchored refuses the
export, since without it the item cannot be checked.

Views follow ``ledger.service.query.Access``: full for whoever may read the record in full,
else what the public sees (``ledger.core.policy.public_view``: reference data and figures
resting on public data in full, confidential records redacted). What a caller sees in
full, it may recompute: the closure reached from an item shown in full is shown in full
too (an auditor granted a subject gets the factor sets and sources of its figures); the
rest of the closure follows the caller's own access. Every item is checked against
its batch root before it leaves (``BundleItem.verify_against``), so a damaged store row is
a 500 here rather than a bundle that fails at the auditor's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.core.bundle import MAX_ITEMS, BatchHeader, Bundle, BundleItem, ChainRef, ServiceKey
from ledger.core.canonical import parse_json
from ledger.core.errors import (
    ConflictError,
    LedgerError,
    MalformedError,
    NotFoundError,
    StorageError,
)
from ledger.core.receipt import Receipt
from ledger.core.signature import Signature, key_id
from ledger.core.types.vocab import REF_RELS
from ledger.core.view import View
from ledger.service.disclosure import confidential_sets
from ledger.service.query import Access, commitment_of, view_of
from ledger.store import Store, Transaction
from ledger.store import batches as batch_repo
from ledger.store import records as record_repo
from ledger.store.rows import StoredBatch, StoredLeaf, StoredRecord

__all__ = [
    "CLOSURE_RELS",
    "MAX_BUNDLE_ITEMS",
    "BundleExporter",
    "ExportResult",
    "NotYetAnchoredError",
    "check_bundle_limit",
]

#: Every rel a record may link with (docs/RECORDS.md §1.2): the closure follows them all.
CLOSURE_RELS = frozenset(REF_RELS)
MAX_CLOSURE = 2000
#: Items in one trail or query bundle (docs/API.md §5). A bundle is what an auditor takes
#: away to verify offline in one run, so it may hold far more than a page of a listing
#: (200); the API serves at most 10,000 per request (one response held in memory), within
#: the bundle format's own item limit (docs/FORMAT.md §6, ``ledger.core.bundle.MAX_ITEMS``),
#: so that no bundle the API hands out is refused for its item count.
MAX_BUNDLE_ITEMS = min(10_000, MAX_ITEMS)


def check_bundle_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BUNDLE_ITEMS:
        raise MalformedError(f"limit must be within 1..{MAX_BUNDLE_ITEMS}", path="limit")
    return limit


class NotYetAnchoredError(ConflictError):
    """The record is accepted but its batch is not anchored: nothing can prove it yet."""

    def __init__(self, record_id: str, anchor_by: str | None) -> None:
        when = f"; its receipt promises anchoring by {anchor_by}" if anchor_by else ""
        super().__init__(f"record {record_id} is not yet anchored{when}")
        self.record_id = record_id
        self.anchor_by = anchor_by


@dataclass(frozen=True)
class ExportResult:
    bundle: Bundle
    #: Record ids left out because they are not anchored yet (trail and query exports).
    pending: tuple[str, ...] = ()


def _hex_bytes(value: str | None, what: str) -> bytes:
    if value is None:
        raise StorageError(f"anchored batch without {what}")
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _header(batch: StoredBatch) -> BatchHeader:
    if batch.anchored_block_number is None:
        raise StorageError(f"batch {batch.seq} is anchored without a block number")
    return BatchHeader(
        root=bytes.fromhex(batch.root_hex),
        manifest_digest=bytes.fromhex(batch.manifest_digest_hex),
        leaf_count=batch.leaf_count,
        tx_hash=_hex_bytes(batch.tx_hash, "a transaction hash"),
        block_number=batch.anchored_block_number,
        block_hash=_hex_bytes(batch.anchored_block_hash, "a block hash"),
    )


def _anchor_by(row: StoredRecord) -> str | None:
    try:
        value = parse_json(row.receipt, root="receipt").get("anchor_by")
    except (LedgerError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class BundleExporter:
    """Bundles over one store, for one deployment (its chain coordinates)."""

    def __init__(
        self, store: Store, *, chain: ChainRef, service_public_key: bytes | None = None
    ) -> None:
        """``service_public_key``: the key the receipts are signed with. Without it bundles
        carry no receipts: a bundle holds nothing its reader cannot check."""
        self.store = store
        self.chain = chain
        self.service = (
            ServiceKey(key_id(service_public_key), service_public_key)
            if service_public_key is not None
            else None
        )

    def for_record(self, record_id: str, access: Access) -> ExportResult:
        def work(session: Transaction) -> ExportResult:
            row = record_repo.find_record(session, record_id)
            if row is None or not access.may_see(row.producer):
                raise NotFoundError(f"no record with id {record_id!r}")
            return self._build(session, [row], access, strict=True)

        return self.store.run(work, readonly=True)

    def for_records(self, record_ids: Sequence[str], access: Access) -> ExportResult:
        """The bundle of the named records (all anchored, all visible), with their closure."""
        check_bundle_limit(len(record_ids))

        def work(session: Transaction) -> ExportResult:
            found = record_repo.records_by_ids(session, set(record_ids))
            for rid in record_ids:
                row = found.get(rid)
                if row is None or not access.may_see(row.producer):
                    raise NotFoundError(f"no record with id {rid!r}")
            rows = sorted(found.values(), key=lambda r: r.id)
            return self._build(session, rows, access, strict=True)

        return self.store.run(work, readonly=True)

    def for_subject(self, subject: str, access: Access, *, limit: int) -> ExportResult:
        return self.for_query(access, subject=subject, limit=limit)

    def for_query(
        self,
        access: Access,
        *,
        subject: str | None = None,
        record_type: str | None = None,
        producer: str | None = None,
        batch_seq: int | None = None,
        after: int = 0,
        limit: int,
        record_ids: Sequence[str] | None = None,
    ) -> ExportResult:
        """Records matching every given filter, in acceptance order, at most ``limit`` of them
        (up to ``MAX_BUNDLE_ITEMS``); ``record_ids`` keeps exactly those records."""
        check_bundle_limit(limit)

        def work(session: Transaction) -> ExportResult:
            if access.owner is not None and producer not in (None, access.owner):
                raise NotFoundError("no record matches the query")
            rows = record_repo.records_matching(
                session,
                subject=subject,
                record_type=record_type,
                producer=producer if access.owner is None else access.owner,
                batch_seq=batch_seq,
                after=after,
                limit=limit,
                record_ids=record_ids,
            )
            if not rows:
                raise NotFoundError("no record matches the query")
            return self._build(session, rows, access, strict=False)

        return self.store.run(work, readonly=True)

    # -- building ------------------------------------------------------------------

    def _build(
        self, session: Transaction, rows: Sequence[StoredRecord], access: Access, *, strict: bool
    ) -> ExportResult:
        batches = self._anchored_batches(session, {r.batch_seq for r in rows})
        items_rows: list[StoredRecord] = []
        pending: list[str] = []
        for row in rows:
            if row.batch_seq in batches:
                items_rows.append(row)
            elif strict:
                raise NotYetAnchoredError(row.record_id, _anchor_by(row))
            else:
                pending.append(row.record_id)
        if not items_rows:
            first = rows[0]
            raise NotYetAnchoredError(first.record_id, _anchor_by(first))
        full_items = [r for r in items_rows if access.sees_full(r.producer, r.subject)]
        others = [r for r in items_rows if not access.sees_full(r.producer, r.subject)]
        seen = {r.record_id for r in items_rows}
        # Inputs of what the caller sees in full are shown in full: gathered first.
        full_closure = self._closure(session, full_items, seen)
        closure_rows = full_closure + self._closure(session, others, seen)
        in_full = {r.record_id for r in full_closure}
        batches.update(
            self._anchored_batches(session, {r.batch_seq for r in closure_rows} - set(batches))
        )
        for row in closure_rows:
            if row.batch_seq not in batches:
                raise NotYetAnchoredError(row.record_id, _anchor_by(row))
        public = [
            commitment_of(r).record
            for r in (*items_rows, *closure_rows)
            if r.type in ("carbon-record", "factor-substitution")
            and r.record_id not in in_full
            and not access.sees_full(r.producer, r.subject)
        ]
        hidden_sets = confidential_sets(session, public)
        leaves = batch_repo.leaves_of_digests(
            session, [r.digest_hex for r in (*items_rows, *closure_rows)]
        )

        def item(row: StoredRecord) -> BundleItem:
            view = view_of(
                row, access, confidential_sets=hidden_sets, full=row.record_id in in_full
            )
            return self._item(row, view, leaves, batches)

        items = tuple(item(r) for r in items_rows)
        closure = tuple(item(r) for r in closure_rows)
        used = {i.batch_seq for i in (*items, *closure)}
        receipts = (
            tuple(Receipt.from_json(parse_json(r.receipt, root="receipt")) for r in items_rows)
            if self.service is not None
            else None
        )
        bundle = Bundle(
            chain=self.chain,
            items=items,
            batches={seq: _header(batches[seq]) for seq in sorted(used)},
            closure=closure,
            receipts=receipts,
            service=self.service,
        )
        return ExportResult(bundle, tuple(pending))

    @staticmethod
    def _anchored_batches(session: Transaction, seqs: set[int | None]) -> dict[int, StoredBatch]:
        return batch_repo.anchored_batches(session, {s for s in seqs if s is not None})

    @staticmethod
    def _closure(
        session: Transaction, items: Sequence[StoredRecord], seen: set[str]
    ) -> list[StoredRecord]:
        """Every record ``items`` link, transitively, that is not in ``seen`` (which
        grows by what is found), in the order found."""
        frontier = [r.id for r in items]
        found: list[StoredRecord] = []
        while frontier:
            targets = record_repo.link_targets_of(session, frontier, CLOSURE_RELS)
            new_ids = [t for t in dict.fromkeys(targets) if t not in seen]
            if not new_ids:
                break
            rows = record_repo.records_by_ids(session, new_ids)
            frontier = []
            for rid in new_ids:
                seen.add(rid)
                row = rows.get(rid)
                # A reference to a record this service never accepted cannot be closed here;
                # the verifier reports what is missing.
                if row is not None:
                    found.append(row)
                    frontier.append(row.id)
            if len(found) > MAX_CLOSURE:
                raise ConflictError(f"the closure exceeds {MAX_CLOSURE} records")
        return found

    @staticmethod
    def _item(
        row: StoredRecord,
        view: View,
        leaves: dict[str, StoredLeaf],
        batches: dict[int, StoredBatch],
    ) -> BundleItem:
        leaf = leaves.get(row.digest_hex)
        if leaf is None or row.batch_seq is None:
            raise StorageError(f"record {row.record_id} is anchored but has no leaf")
        proof = tuple(bytes.fromhex(p) for p in leaf.proof)
        item = BundleItem(
            view=view,
            digest=bytes.fromhex(row.digest_hex),
            signature=Signature(row.key_id, row.signature),
            batch_seq=row.batch_seq,
            proof=proof,
        )
        try:
            item.verify_against(bytes.fromhex(batches[row.batch_seq].root_hex))
        except LedgerError as exc:
            raise StorageError(f"record {row.record_id}: stored evidence does not verify") from exc
        return item
