"""The registry's reads: one search box, the listings of enterprises and equipment, the
warning list, the whitelist of verification bodies, the public register of green
enterprises and the home page's figures (docs/PAGES.md §1).

Every read runs on the directory's indexes (``ledger.store.listings``), never a scan of
the records, and what it returns of a record respects the caller's ``Access``: a record a
producer may not see is never a search hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import TypeVar

from ledger.core.errors import MalformedError, NotFoundError
from ledger.core.identifiers import parse_identifier
from ledger.service.directory import rebuild_indexes
from ledger.service.query import Access, LedgerQueries
from ledger.service.registrymodels import (
    BatchLag,
    DocumentMatch,
    EnterpriseRow,
    HomeFigures,
    Listing,
    SearchHit,
    SearchResult,
    WarningRow,
    WhitelistEntry,
    warning_status,
)
from ledger.store import Store, Transaction, listings
from ledger.store import batches as batch_repo
from ledger.store import records as record_repo
from ledger.store.chainmirror import accreditations
from ledger.store.directory import StoredEnterprise, StoredEquipment
from ledger.store.indexes import search_key

__all__ = [
    "GREEN_GRADES",
    "MAX_PAGE_NUMBER",
    "MAX_QUERY_CHARS",
    "RegistryQueries",
    "page_offset",
]

T = TypeVar("T")

#: The grades of the public register of green enterprises.
GREEN_GRADES = ("AAA", "AA", "A")
MAX_QUERY_CHARS = 400
#: The highest page number a listing serves (10,000 pages of 200 rows).
MAX_PAGE_NUMBER = 10_000
MAX_HITS = 50

_HEX = re.compile(r"[0-9a-fA-F]+")
_BATCH = re.compile(r"(?:#|batch\s*|批次\s*)(\d{1,19})", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,5}")


def page_offset(page: int, limit: int) -> int:
    if not 1 <= page <= MAX_PAGE_NUMBER:
        raise MalformedError(f"page must be within 1..{MAX_PAGE_NUMBER}", path="page")
    return (page - 1) * limit


def display_name(entry: StoredEnterprise) -> str:
    return entry.name_en or entry.name or entry.name_zh or entry.enterprise_id


class RegistryQueries:
    """The registry's reads over one ``Store``."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.queries = LedgerQueries(store)
        self._ready = False

    def _read(self, work: Callable[[Transaction], T]) -> T:
        if not self._ready:
            # A store made before the directory existed: fill it once from the records.
            rebuild_indexes(self.store, clock=self.clock)
            self._ready = True
        return self.store.run(work, readonly=True)

    def today(self) -> date:
        return self.clock().date()

    # -- search ------------------------------------------------------------------------

    def search(self, text: str, access: Access) -> SearchResult:
        """Whatever ``text`` names: a batch number, a transaction hash, a digest, a record
        id, an enterprise id, a Handle/OID/Ecode, or a part of an enterprise's name."""
        query = text.strip()
        if not query:
            raise MalformedError("type a name, an identifier, a record id or a hash", path="q")
        if len(query) > MAX_QUERY_CHARS:
            raise MalformedError(f"at most {MAX_QUERY_CHARS} characters", path="q")
        return self._read(lambda s: self._search(s, query, access))

    def _search(self, session: Transaction, query: str, access: Access) -> SearchResult:
        compact = "".join(query.split())
        batch = _BATCH.fullmatch(compact) or (_DIGITS.fullmatch(compact) and compact)
        if batch:
            seq = int(batch.group(1) if isinstance(batch, re.Match) else compact)
            found = batch_repo.batch_by_seq(session, seq)
            hits: tuple[SearchHit, ...] = (SearchHit("batch", str(seq)),) if found else ()
            return SearchResult(query, "batch", str(seq), hits)
        lowered = compact.lower()
        if lowered.startswith("0x"):
            return self._by_transaction(session, query, lowered, access)
        if _HEX.fullmatch(compact) and len(compact) >= 32 and not compact.isdigit():
            return self._by_digest(session, query, lowered, access)
        if query.lower().startswith("urn:"):
            return self._by_urn(session, query, access)
        try:
            identifier = parse_identifier(query, "q")
        except MalformedError:
            identifier = None
        if identifier is not None:
            subjects = listings.equipment_by_identifier(
                session, identifier.canonical, limit=MAX_HITS
            )
            if subjects:
                hits = tuple(self._equipment_hit(session, s) for s in subjects)
                return SearchResult(query, "identifier", identifier.canonical, hits)
        key = search_key(query)
        if not key:  # only punctuation: it names nothing (and must not match every name)
            return SearchResult(query, "name", key, ())
        found_by_name = listings.enterprises_by_name(session, key, limit=MAX_HITS)
        hits = tuple(
            SearchHit("enterprise", e.enterprise_id, display_name(e), e.grade)
            for e in found_by_name
        )
        return SearchResult(query, "name", key, hits)

    @staticmethod
    def _equipment_hit(session: Transaction, subject: str) -> SearchHit:
        found = listings.equipment_by_subject(session, subject)
        return SearchHit("equipment", subject, found.name if found else None)

    @staticmethod
    def _record_hit(session: Transaction, digest_hex: str, access: Access) -> SearchHit | None:
        found = record_repo.record_ids_by_digest(session, [digest_hex]).get(digest_hex)
        if found is None or not access.may_see(found[1]):
            return None
        return SearchHit("record", found[0])

    def _by_transaction(
        self, session: Transaction, query: str, lowered: str, access: Access
    ) -> SearchResult:
        body = lowered[2:]
        if len(body) != 64 or not _HEX.fullmatch(body):
            raise MalformedError(
                f"a transaction hash is 0x and 64 hex digits; this has {len(body)} characters "
                "after 0x" + ("" if _HEX.fullmatch(body or "x") else ", not all hex digits"),
                path="q",
            )
        tx = listings.transaction(session, lowered)
        hits: tuple[SearchHit, ...] = ()
        if tx is not None and tx.batch_seq is not None:
            hits = (SearchHit("batch", str(tx.batch_seq), None, tx.kind),)
        elif tx is not None and tx.digest_hex is not None:
            hit = self._record_hit(session, tx.digest_hex, access)
            hits = (replace(hit, detail=tx.kind),) if hit is not None else ()
        return SearchResult(query, "transaction", lowered, hits)

    def _by_digest(
        self, session: Transaction, query: str, lowered: str, access: Access
    ) -> SearchResult:
        if len(lowered) != 64:
            raise MalformedError(
                f"a SHA-256 digest has 64 hex digits; this has {len(lowered)}", path="q"
            )
        hits: list[SearchHit] = []
        # 64 hex digits are also a transaction hash written without its 0x.
        tx = listings.transaction(session, "0x" + lowered)
        if tx is not None:
            return self._by_transaction(session, query, "0x" + lowered, access)
        record = self._record_hit(session, lowered, access)
        if record is not None:
            hits.append(replace(record, detail="digest"))
        batch = listings.batch_by_hash(session, lowered)
        if batch is not None:
            hits.append(SearchHit("batch", str(batch.seq), None, "root"))
        for rid in listings.records_holding_document(session, lowered, limit=MAX_HITS):
            hits.append(SearchHit("record", rid, None, "document"))
        return SearchResult(query, "digest", lowered, tuple(hits))

    def _by_urn(self, session: Transaction, query: str, access: Access) -> SearchResult:
        row = record_repo.find_record(session, query)
        if row is not None and access.may_see(row.producer):
            return SearchResult(query, "record-id", query, (SearchHit("record", query),))
        enterprise = listings.enterprise_by_id(session, query)
        if enterprise is not None:
            hit = SearchHit("enterprise", query, display_name(enterprise), enterprise.grade)
            return SearchResult(query, "record-id", query, (hit,))
        return SearchResult(query, "record-id", query, ())

    # -- listings ----------------------------------------------------------------------

    def enterprises(
        self, f: listings.EnterpriseFilter, *, page: int, limit: int
    ) -> Listing[EnterpriseRow]:
        offset, today = page_offset(page, limit), self.today()

        def work(session: Transaction) -> Listing[EnterpriseRow]:
            rows, total = listings.list_enterprises(
                session, f, today=today, offset=offset, limit=limit
            )
            ids = [r.enterprise_id for r in rows]
            risks = listings.worst_risks(session, ids)
            counts = listings.equipment_counts(session, ids)
            items = tuple(
                EnterpriseRow(
                    r,
                    warning_status(r, today),
                    risks.get(r.enterprise_id),
                    counts.get(r.enterprise_id, 0),
                )
                for r in rows
            )
            return Listing(items, page, limit, total)

        return self._read(work)

    def equipment_list(
        self, f: listings.EquipmentFilter, *, page: int, limit: int
    ) -> Listing[StoredEquipment]:
        offset, today = page_offset(page, limit), self.today()

        def work(session: Transaction) -> Listing[StoredEquipment]:
            rows, total = listings.list_equipment(
                session, f, today=today, offset=offset, limit=limit
            )
            return Listing(tuple(rows), page, limit, total)

        return self._read(work)

    def warnings(self, status: str | None, *, page: int, limit: int) -> Listing[WarningRow]:
        offset, today = page_offset(page, limit), self.today()

        def work(session: Transaction) -> Listing[WarningRow]:
            rows, total = listings.warning_list(
                session, status, today=today, offset=offset, limit=limit
            )
            pks = {p for r in rows for p in (r.warning_pk, r.rectified_pk) if p is not None}
            ids = listings.record_ids_of_pks(session, pks)
            items = tuple(
                WarningRow(
                    r,
                    warning_status(r, today) or "listed",
                    (r.warning_deadline - today).days if r.warning_deadline else None,
                    ids.get(r.warning_pk) if r.warning_pk is not None else None,
                    ids.get(r.rectified_pk) if r.rectified_pk is not None else None,
                )
                for r in rows
            )
            return Listing(items, page, limit, total)

        return self._read(work)

    def whitelist(self, region: str | None) -> tuple[WhitelistEntry, ...]:
        """Accredited verification bodies (TrustRegistry, mirrored by the follower), those
        recognised for ``region`` when given; withdrawn ones last."""
        now = self.clock()
        # The same list, read the same way, as the accept path's and the desk's checks.
        bodies = self._read(accreditations)
        out = [
            WhitelistEntry(body, body.regions, body.in_force(now))
            for body in bodies
            if not region or region in body.regions
        ]
        return tuple(sorted(out, key=lambda e: (not e.valid_now, e.body.name)))

    def documents(self, sha256_hex: str, access: Access) -> tuple[DocumentMatch, ...]:
        """The anchored-or-pending archive records listing a document with this hash."""
        if len(sha256_hex) != 64 or not _HEX.fullmatch(sha256_hex) or not sha256_hex.islower():
            raise MalformedError("expected a SHA-256 as 64 lowercase hex digits", path="sha256")
        ids = self._read(lambda s: listings.records_holding_document(s, sha256_hex, limit=MAX_HITS))
        out = []
        for rid in ids:
            try:
                status = self.queries.status(rid, access)
            except NotFoundError:
                continue  # a producer's record another producer may not see
            summary = status.summary
            out.append(DocumentMatch(rid, summary.type, summary.subject, status.state))
        return tuple(out)

    # -- the home page -----------------------------------------------------------------

    def home(self) -> HomeFigures:
        today = self.today()

        def work(session: Transaction) -> HomeFigures:
            lags = tuple(
                BatchLag(
                    b,
                    (b.anchored_at - b.created_at).total_seconds()
                    if b.anchored_at is not None
                    else None,
                )
                for b in listings.latest_batches(session, limit=5)
            )
            ratings = listings.recent_ratings(session, limit=10)
            names = {f.subject: listings.enterprise_by_id(session, f.subject) for f in ratings}
            return HomeFigures(
                counts=listings.counts_by_type(session),
                batches=lags,
                warnings=listings.count_warnings(session, today=today),
                risks=listings.risks_by_region(session, ("red", "yellow")),
                ratings=tuple(
                    (f, display_name(e) if (e := names.get(f.subject)) else None) for f in ratings
                ),
                enterprises=listings.count_enterprises(session, ()),
                green=listings.count_enterprises(session, GREEN_GRADES),
            )

        return self._read(work)
