"""What the registry's reads return (``ledger.service.registry``, ``profiles``): frozen
values for the pages and the JSON API, in the caller's view.

Values taken from records carry only what the caller's view discloses: a rating seen in
the public view has its grade and reason code but no scores (``scores`` is None), so a
page cannot show what the view withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from ledger.service.readmodels import RecordState, StoredAttestation, StoredBatch
from ledger.store.chainmirror import Accreditation
from ledger.store.directory import StoredEnterprise, StoredEquipment, StoredFacet

__all__ = [
    "Attested",
    "BatchLag",
    "DocumentMatch",
    "EnterpriseDetail",
    "EnterpriseRow",
    "EquipmentDetail",
    "HomeFigures",
    "LatestEvaluation",
    "Listing",
    "RatingView",
    "SearchHit",
    "SearchResult",
    "StageFigure",
    "WarningRow",
    "WhitelistEntry",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a filtered listing: ``page`` from 1, ``total`` rows matching."""

    items: tuple[T, ...]
    page: int
    limit: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


@dataclass(frozen=True)
class SearchHit:
    """Where a search leads: ``kind`` is ``enterprise``, ``equipment``, ``record`` or
    ``batch``; ``key`` the enterprise id, subject, record id or batch seq."""

    kind: str
    key: str
    label: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SearchResult:
    """The query as read (``read_as``: ``name``, ``identifier``, ``record-id``,
    ``digest``, ``transaction``, ``batch``) and what it found."""

    query: str
    read_as: str
    normalised: str
    hits: tuple[SearchHit, ...]


def warning_status(entry: StoredEnterprise, today: date) -> str | None:
    """``listed``, ``overdue``, ``rectified`` or None (never on the warning list)."""
    if entry.warning_pk is None:
        return None
    if entry.rectified_pk is not None:
        return "rectified"
    if entry.warning_deadline is not None and entry.warning_deadline < today:
        return "overdue"
    return "listed"


@dataclass(frozen=True)
class EnterpriseRow:
    entry: StoredEnterprise
    warning: str | None
    risk: str | None
    equipment: int


@dataclass(frozen=True)
class WarningRow:
    entry: StoredEnterprise
    status: str
    days_left: int | None
    warning_record_id: str | None
    rectified_record_id: str | None


@dataclass(frozen=True)
class RatingView:
    """One credit change as the caller's view discloses it."""

    record_id: str
    issued_at: datetime
    grade: str | None
    previous_grade: str | None
    period: tuple[str, str] | None
    reason_code: str | None
    reason_text: str | None
    total: str | None
    scores: dict[str, str] | None
    previous_scores: dict[str, str] | None
    rule_id: str | None
    warning_list: bool | None
    deadline: str | None
    full: bool
    state: RecordState


@dataclass(frozen=True)
class Attested:
    record_id: str
    attestation: StoredAttestation


@dataclass(frozen=True)
class LatestEvaluation:
    """An enterprise's latest carbon-efficiency evaluation as the caller may see it
    (``ledger.service.evaluations``)."""

    record_id: str
    digest_hex: str
    period_start: str
    period_end: str
    grade: int | None
    level: str | None
    state: str


@dataclass(frozen=True)
class EnterpriseDetail:
    entry: StoredEnterprise
    prefixes: tuple[str, ...]
    warning: str | None
    days_left: int | None
    ratings: tuple[RatingView, ...]
    equipment: tuple[StoredEquipment, ...]
    conversions: tuple[StoredFacet, ...]
    risks: tuple[StoredFacet, ...]
    attestations: tuple[Attested, ...]
    #: The latest carbon-efficiency evaluation (docs/RECORDS.md §3.16), if any.
    carbon_efficiency: LatestEvaluation | None = None


@dataclass(frozen=True)
class StageFigure:
    stage: str
    figure: str


@dataclass(frozen=True)
class EquipmentDetail:
    entry: StoredEquipment
    enterprise: StoredEnterprise | None
    identifiers: tuple[tuple[str, str], ...]
    footprint_id: str | None
    stages: tuple[StageFigure, ...]
    total: str | None
    unit: str | None
    conversions: tuple[StoredFacet, ...]
    risks: tuple[StoredFacet, ...]


@dataclass(frozen=True)
class WhitelistEntry:
    body: Accreditation
    regions: tuple[str, ...]
    valid_now: bool


@dataclass(frozen=True)
class BatchLag:
    batch: StoredBatch
    #: Seconds from sealing to the anchor (None while not anchored).
    lag_s: float | None


@dataclass(frozen=True)
class HomeFigures:
    counts: dict[str, int]
    batches: tuple[BatchLag, ...]
    warnings: dict[str, int]
    risks: dict[tuple[str, str], int]
    ratings: tuple[tuple[StoredFacet, str | None], ...]
    enterprises: int
    green: int


@dataclass(frozen=True)
class DocumentMatch:
    record_id: str
    type: str
    subject: str
    state: RecordState
