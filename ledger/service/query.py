"""Read queries over the store: a record in the caller's view, its status, the trail of a
subject, batches with their manifests, attestations (docs/RECORDS.md, docs/FORMAT.md §2.2).

Who sees what is an ``Access`` value, decided by the caller (the API maps roles to it) and
enforced here, below the routes, so that no read path can forget it:

- ``owner`` set (a producer): only that producer's records exist; any other is "not found"
  (never "forbidden", which would confirm that it exists), and those it sees it sees in full.
- otherwise a record is shown in full when ``sees_full`` says so (regulators: every record;
  auditors: the subjects they are granted) and as the public redacted view otherwise
  (``ledger.core.policy``): what every anonymous caller may read.

Everything returned is a read model (``ledger.service.readmodels``); the queries themselves
are the store's (``ledger.store.records``, ``batches``, ``chainfacts``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError, NotFoundError, StorageError
from ledger.core.policy import is_confidential, public_view
from ledger.core.receipt import Receipt
from ledger.core.signature import Signature
from ledger.core.view import Commitment, View, parse_view
from ledger.service.disclosure import confidential_sets
from ledger.service.limits import MAX_PAGE
from ledger.service.readmodels import (
    BatchDetail,
    LedgerCounts,
    Page,
    RecordState,
    RecordStatus,
    RecordSummary,
    RecordView,
    StoredAttestation,
    StoredBatch,
    TrailEntry,
)
from ledger.store import Store, Transaction, chainfacts
from ledger.store import batches as batch_repo
from ledger.store import records as record_repo
from ledger.store.rows import StoredRecord

__all__ = [
    "PUBLIC",
    "REGULATOR",
    "Access",
    "LedgerQueries",
    "check_limit",
    "commitment_of",
    "record_state",
    "view_of",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    """What a caller may read. ``full_subjects=None`` means every record in full."""

    owner: str | None = None
    full_subjects: frozenset[str] | None = frozenset()

    def may_see(self, producer: str) -> bool:
        return self.owner is None or producer == self.owner

    def sees_full(self, producer: str, subject: str) -> bool:
        if self.owner is not None:
            return producer == self.owner
        if self.full_subjects is None:
            return True
        return subject in self.full_subjects or "*" in self.full_subjects

    def audience(self, producer: str, subject: str) -> str:
        return "regulator" if self.sees_full(producer, subject) else "public"


PUBLIC = Access()
REGULATOR = Access(full_subjects=None)


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise MalformedError(f"limit must be within 1..{MAX_PAGE}", path="limit")
    return limit


def commitment_of(row: StoredRecord) -> Commitment:
    """The full view stored with the record (canonical bytes, docs/FORMAT.md §2.3)."""
    try:
        view = parse_view(parse_json(row.full_view, root="full_view"), path="full_view")
    except MalformedError as exc:
        raise StorageError(f"record {row.record_id}: stored full view unreadable: {exc}") from None
    if not isinstance(view, Commitment):
        raise StorageError(f"record {row.record_id}: stored view is not a full view")
    return view


def view_of(
    row: StoredRecord,
    access: Access,
    *,
    confidential_sets: Collection[str] = (),
    full: bool = False,
) -> View:
    """The row in the caller's view: full when ``access`` (or ``full``, for the inputs of
    a figure the caller sees in full) allows it, else what the public sees
    (``ledger.core.policy.public_view``, given the confidential factor sets it links)."""
    commitment = commitment_of(row)
    if full or access.sees_full(row.producer, row.subject):
        return commitment
    return public_view(commitment, confidential_sets=confidential_sets)


def _visible(session: Transaction, record_id: str, access: Access) -> StoredRecord:
    row = record_repo.find_record(session, record_id)
    if row is None or not access.may_see(row.producer):
        raise NotFoundError(f"no record with id {record_id!r}")
    return row


def record_state(session: Transaction, row: StoredRecord, access: Access) -> RecordState:
    batch = batch_repo.batch_by_seq(session, row.batch_seq) if row.batch_seq is not None else None
    revocation = chainfacts.revocation_of(session, row.digest_hex)
    supersession = chainfacts.supersession_of(session, row.digest_hex)
    superseded_by = tuple(
        r.record_id
        for r in record_repo.records_superseding(session, row.record_id, limit=MAX_PAGE)
        if access.may_see(r.producer)
    )
    # A revocation the registry holds outranks everything, then supersession (a stored
    # link, or the registry's status), then how far anchoring has come.
    if revocation is not None and revocation.state == "mined":
        state = "revoked"
    elif superseded_by or (supersession is not None and supersession.state == "mined"):
        state = "superseded"
    else:
        state = row.status
    return RecordState(
        state=state,
        anchoring=row.status,
        batch=batch,
        revocation=revocation,
        supersedes=row.supersedes,
        superseded_by=superseded_by,
        supersession=supersession,
    )


class LedgerQueries:
    """The read side of the ledger service over one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _read(self, work: Callable[[Transaction], T]) -> T:
        return self.store.run(work, readonly=True)

    def record(self, record_id: str, access: Access) -> RecordView:
        """The record in the caller's view, with its producer's signature."""

        def work(session: Transaction) -> RecordView:
            row = _visible(session, record_id, access)
            record = commitment_of(row).record
            hidden_sets = confidential_sets(session, [record])
            return RecordView(
                summary=RecordSummary.of(row),
                view=view_of(row, access, confidential_sets=hidden_sets),
                signature=Signature(row.key_id, row.signature),
                confidential=is_confidential(record, confidential_sets=hidden_sets),
            )

        return self._read(work)

    def status(self, record_id: str, access: Access) -> RecordStatus:
        """Where the record stands: pending, batched, anchored (seq, tx, block), revoked,
        superseded; with the signed receipt it was given."""

        def work(session: Transaction) -> RecordStatus:
            row = _visible(session, record_id, access)
            receipt = (
                Receipt.from_json(parse_json(row.receipt, root="receipt"))
                if access.may_see(row.producer)
                else None
            )
            return RecordStatus(RecordSummary.of(row), record_state(session, row, access), receipt)

        return self._read(work)

    def trail(self, subject: str, access: Access, *, after: int, limit: int) -> Page[TrailEntry]:
        """Every record about ``subject`` in acceptance order, with supersession and
        conversion links both ways."""
        check_limit(limit)

        def work(session: Transaction) -> Page[TrailEntry]:
            rows = record_repo.subject_trail(
                session, subject, after_id=after, limit=limit + 1, producer=access.owner
            )
            more = len(rows) > limit
            rows = rows[:limit]
            items = tuple(
                TrailEntry(
                    summary=RecordSummary.of(row),
                    state=record_state(session, row, access),
                    refs=tuple(record_repo.links_of(session, row)),
                    referenced_by=tuple(
                        r
                        for r in record_repo.referrers(session, row.record_id, limit=MAX_PAGE)
                        if access.may_see(r.producer)
                    ),
                    cursor=row.id,
                )
                for row in rows
            )
            return Page(items, rows[-1].id if more and rows else None)

        return self._read(work)

    def batches(self, *, after: int, limit: int) -> Page[StoredBatch]:
        check_limit(limit)

        def work(session: Transaction) -> Page[StoredBatch]:
            rows = batch_repo.batches_after(session, after=after, limit=limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            return Page(tuple(rows), rows[-1].seq if more and rows else None)

        return self._read(work)

    def batch(self, seq: int) -> BatchDetail:
        """A batch with its manifest (the sorted digests, never record ids: docs/FORMAT.md §4)."""

        def work(session: Transaction) -> BatchDetail:
            row = batch_repo.batch_by_seq(session, seq)
            if row is None:
                raise NotFoundError(f"no batch {seq}")
            return BatchDetail(row, parse_json(row.manifest, root="manifest"))

        return self._read(work)

    def attestations(self, record_id: str, access: Access) -> tuple[StoredAttestation, ...]:
        def work(session: Transaction) -> tuple[StoredAttestation, ...]:
            row = _visible(session, record_id, access)
            return tuple(chainfacts.attestations_of(session, row.digest_hex, limit=MAX_PAGE))

        return self._read(work)

    def digest_of(self, record_id: str, access: Access) -> str:
        return self._read(lambda s: _visible(s, record_id, access).digest_hex)

    def record_ids_by_digest(self, digests_hex: list[str], access: Access) -> dict[str, str]:
        """digest -> record id, for the digests whose record ``access`` may see (a batch
        manifest lists digests, never ids)."""
        found = self._read(lambda s: record_repo.record_ids_by_digest(s, digests_hex))
        return {d: rid for d, (rid, producer) in found.items() if access.may_see(producer)}

    def counts(self) -> LedgerCounts:
        """Figures for the metrics endpoint: records by status and the anchoring lag."""

        def work(session: Transaction) -> LedgerCounts:
            return LedgerCounts(
                by_status={k: n for k, n in record_repo.count_by_status(session).items() if n},
                oldest_unanchored_accepted_at=record_repo.oldest_unanchored_accepted_at(session),
            )

        return self._read(work)

    def ping(self) -> None:
        self._read(batch_repo.count_batches)
