"""What the ledger service's reads return: frozen, typed values, never JSON and never ORM
objects. The HTTP edge (the API's routes, the pages) turns them into JSON or HTML.

A record appears as a ``RecordSummary`` (what anyone who may see it may know of it), plus
its view in the caller's audience (``RecordView``), its lifecycle state (``RecordState``,
``RecordStatus``) or its place in a subject's trail (``TrailEntry``). The stored bytes of a
record (its full view, its salts) never travel in a summary: a public reader's values
carry only the public view.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from ledger.core.receipt import Receipt
from ledger.core.signature import Signature
from ledger.core.view import View
from ledger.store.records import Link
from ledger.store.rows import (
    Referrer,
    StoredAttestation,
    StoredBatch,
    StoredRecord,
    StoredRevocation,
    StoredSupersession,
)

__all__ = [
    "BatchDetail",
    "LedgerCounts",
    "Page",
    "RecordState",
    "RecordStatus",
    "RecordSummary",
    "RecordView",
    "Referrer",
    "StoredAttestation",
    "StoredBatch",
    "StoredRevocation",
    "StoredSupersession",
    "TrailEntry",
]

T = TypeVar("T")


@dataclass(frozen=True)
class RecordSummary:
    """The envelope facts of an accepted record and where its anchoring stands."""

    record_id: str
    type: str
    schema_version: str
    subject: str
    producer: str
    issued_at: datetime
    accepted_at: datetime
    digest_hex: str
    status: str
    batch_seq: int | None

    @classmethod
    def of(cls, row: StoredRecord) -> RecordSummary:
        """The summary of a stored record: its envelope facts, none of its bytes."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class RecordView:
    """A record in the caller's view (full, or the public redacted view) and its
    producer's signature."""

    summary: RecordSummary
    view: View
    signature: Signature
    #: Whether the public sees this record redacted (docs/RECORDS.md §4): a full view of
    #: it is then a non-public read, which the API logs.
    confidential: bool = False


@dataclass(frozen=True)
class RecordState:
    """Where a record stands. ``state`` is what a reader acts on: a revocation mined
    on-chain outranks everything, then supersession, then anchoring (``anchoring``)."""

    state: str
    anchoring: str
    batch: StoredBatch | None
    revocation: StoredRevocation | None
    supersedes: str | None
    superseded_by: tuple[str, ...]
    supersession: StoredSupersession | None


@dataclass(frozen=True)
class RecordStatus:
    """A record's state with the signed receipt it was given (None for a caller who may
    not see the record's producer)."""

    summary: RecordSummary
    state: RecordState
    receipt: Receipt | None


@dataclass(frozen=True)
class TrailEntry:
    """One record of a subject's trail, with its links both ways; ``cursor`` is the
    acceptance-order position a next page starts after."""

    summary: RecordSummary
    state: RecordState
    refs: tuple[Link, ...]
    referenced_by: tuple[Referrer, ...]
    cursor: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_after`` is the cursor of the next page (None: last)."""

    items: tuple[T, ...]
    next_after: int | None


@dataclass(frozen=True)
class BatchDetail:
    """A batch with its manifest, parsed strictly (the sorted digests, never record ids)."""

    batch: StoredBatch
    manifest: dict[str, Any]


@dataclass(frozen=True)
class LedgerCounts:
    """Figures for the metrics: records by status, and when the oldest record not yet
    anchored was accepted (None: every record is anchored)."""

    by_status: dict[str, int]
    oldest_unanchored_accepted_at: datetime | None
