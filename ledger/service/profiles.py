"""An enterprise and a piece of equipment at a glance (docs/PAGES.md §1): the directory's
indexes for what they list, and the records themselves, in the caller's view, for what a
page shows of each rating and of the latest footprint.

A rating's scores appear only when the caller's view discloses them (regulators, an
auditor or an authorised reader granted the enterprise): the values are read from the
view, never from the stored record, so nothing the view withholds reaches a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

from ledger.core.errors import NotFoundError
from ledger.core.view import Commitment, reconstruct
from ledger.service.directory import rebuild_indexes
from ledger.service.disclosure import confidential_sets
from ledger.service.evaluations import latest_evaluation
from ledger.service.limits import MAX_PAGE
from ledger.service.query import Access, commitment_of, record_state, view_of
from ledger.service.registrymodels import (
    Attested,
    EnterpriseDetail,
    EquipmentDetail,
    LatestEvaluation,
    RatingView,
    StageFigure,
    warning_status,
)
from ledger.store import Store, Transaction, listings
from ledger.store import records as record_repo
from ledger.store.rows import StoredRecord

__all__ = ["ProfileQueries"]

T = TypeVar("T")

#: Ratings shown on an enterprise page (an enterprise is rated about once a year).
MAX_RATINGS = 100
_STAGE_ORDER = (
    "raw_material",
    "manufacturing_surface_treatment",
    "transport",
    "operation_maintenance",
    "end_of_life",
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _scores(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping) or not value:
        return None
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


class ProfileQueries:
    """Enterprise and equipment aggregates over one ``Store``."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self._ready = False

    def _read(self, work: Callable[[Transaction], T]) -> T:
        if not self._ready:
            rebuild_indexes(self.store, clock=self.clock)
            self._ready = True
        return self.store.run(work, readonly=True)

    def subjects_of(self, enterprise_id: str) -> tuple[str, ...]:
        """The enterprise's own subject and its equipment's (whose data a grant covers)."""

        def work(session: Transaction) -> tuple[str, ...]:
            kit = listings.equipment_of_enterprise(session, enterprise_id, limit=10_000)
            return (enterprise_id, *(e.subject for e in kit))

        return self._read(work)

    def enterprise_of(self, subject: str) -> str | None:
        """The enterprise a subject belongs to: itself, or its equipment's owner."""

        def work(session: Transaction) -> str | None:
            if listings.enterprise_by_id(session, subject) is not None:
                return subject
            found = listings.equipment_by_subject(session, subject)
            return found.enterprise_id if found is not None else None

        return self._read(work)

    # -- the enterprise ----------------------------------------------------------------

    def enterprise(self, enterprise_id: str, access: Access) -> EnterpriseDetail:
        today = self.clock().date()

        def work(session: Transaction) -> EnterpriseDetail:
            entry = listings.enterprise_by_id(session, enterprise_id)
            if entry is None:
                raise NotFoundError(f"no enterprise {enterprise_id!r}")
            kit = listings.equipment_of_enterprise(session, enterprise_id, limit=MAX_PAGE)
            subjects = [e.subject for e in kit]
            return EnterpriseDetail(
                entry=entry,
                prefixes=tuple(listings.enterprise_prefixes(session, enterprise_id)),
                warning=warning_status(entry, today),
                days_left=_days_left(entry.warning_deadline, today),
                ratings=self._ratings(session, enterprise_id, access),
                equipment=tuple(kit),
                conversions=tuple(
                    listings.facets_of_subjects(
                        session, ("factor-substitution",), subjects, limit=MAX_PAGE
                    )
                ),
                risks=tuple(listings.latest_risks(session, subjects)),
                attestations=tuple(
                    Attested(rid, a)
                    for rid, a in listings.attestations_about(
                        session, [enterprise_id, *subjects], limit=MAX_PAGE
                    )
                ),
                carbon_efficiency=latest_evaluation(session, enterprise_id, access),
            )

        return self._read(work)

    def latest_evaluation(self, enterprise_id: str, access: Access) -> LatestEvaluation | None:
        """The enterprise's latest carbon-efficiency evaluation (docs/RECORDS.md §3.16)."""
        return self._read(lambda session: latest_evaluation(session, enterprise_id, access))

    def _ratings(
        self, session: Transaction, enterprise_id: str, access: Access
    ) -> tuple[RatingView, ...]:
        rows = record_repo.records_matching(
            session,
            subject=enterprise_id,
            record_type="credit-change",
            producer=access.owner,
            limit=MAX_RATINGS,
        )
        views = [self._rating(session, row, access) for row in rows]
        # Each against the one it follows: the rating accepted before it.
        out = []
        for i, view in enumerate(views):
            before = views[i - 1] if i else None
            previous = before.scores if before is not None and view.full else None
            out.append(replace(view, previous_scores=previous))
        return tuple(reversed(out))

    @staticmethod
    def _rating(session: Transaction, row: StoredRecord, access: Access) -> RatingView:
        view = view_of(row, access)
        body = _mapping(reconstruct(view).get("body"))
        period = _mapping(body.get("period"))
        reason = _mapping(body.get("reason"))
        start, end = _text(period.get("start")), _text(period.get("end"))
        warning = body.get("warning_list")
        return RatingView(
            record_id=row.record_id,
            issued_at=row.issued_at,
            grade=_text(body.get("grade")),
            previous_grade=_text(body.get("previous_grade")),
            period=(start, end) if start and end else None,
            reason_code=_text(reason.get("code")),
            reason_text=_text(reason.get("text")),
            total=_text(body.get("total")),
            scores=_scores(body.get("scores")),
            previous_scores=None,
            rule_id=_text(_mapping(body.get("rule")).get("id")),
            warning_list=warning if isinstance(warning, bool) else None,
            deadline=_text(body.get("rectification_deadline")),
            full=isinstance(view, Commitment),
            state=record_state(session, row, access),
        )

    # -- a piece of equipment ------------------------------------------------------------

    def equipment(self, subject: str, access: Access) -> EquipmentDetail:
        def work(session: Transaction) -> EquipmentDetail:
            entry = listings.equipment_by_subject(session, subject)
            if entry is None:
                raise NotFoundError(f"no equipment {subject!r}")
            enterprise = (
                listings.enterprise_by_id(session, entry.enterprise_id)
                if entry.enterprise_id
                else None
            )
            footprint = self._footprint(session, entry.carbon_pk, access)
            stages: tuple[StageFigure, ...] = ()
            total = unit = footprint_id = None
            if footprint is not None:
                footprint_id, totals = footprint
                total, unit = _text(totals.get("total")), _text(totals.get("unit"))
                by_stage = _mapping(totals.get("by_stage"))
                order = {s: i for i, s in enumerate(_STAGE_ORDER)}
                stages = tuple(
                    StageFigure(str(k), str(v))
                    for k, v in sorted(by_stage.items(), key=lambda kv: order.get(kv[0], 99))
                    if isinstance(v, str)
                )
            return EquipmentDetail(
                entry=entry,
                enterprise=enterprise,
                identifiers=tuple(listings.identifiers_of(session, subject)),
                footprint_id=footprint_id,
                stages=stages,
                total=total,
                unit=unit,
                conversions=tuple(
                    listings.facets_of_subjects(
                        session, ("factor-substitution",), [subject], limit=MAX_PAGE
                    )
                ),
                risks=tuple(listings.latest_risks(session, [subject])),
            )

        return self._read(work)

    @staticmethod
    def _footprint(
        session: Transaction, carbon_pk: int | None, access: Access
    ) -> tuple[str, Mapping[str, Any]] | None:
        """The latest footprint's id and totals, as the caller's view discloses them."""
        if carbon_pk is None:
            return None
        record_id = listings.record_ids_of_pks(session, [carbon_pk]).get(carbon_pk)
        row = record_repo.find_record(session, record_id) if record_id else None
        if row is None or not access.may_see(row.producer):
            return None
        hidden: frozenset[str] = frozenset()
        if not access.sees_full(row.producer, row.subject):
            hidden = confidential_sets(session, [commitment_of(row).record])
        view = view_of(row, access, confidential_sets=hidden)
        return row.record_id, _mapping(_mapping(reconstruct(view).get("body")).get("totals"))


def _days_left(deadline: date | None, today: date) -> int | None:
    return None if deadline is None else (deadline - today).days
