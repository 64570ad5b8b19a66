"""Writing the directory (``ledger.store.directory``): the indexes of accepted records, in
the accepting transaction, and a regulator's register entries.

Records are indexed in acceptance order, so what an index keeps "latest" of (a rating, a
footprint, a risk assessment per region) is the one accepted last: the rating in force
(docs/RECORDS.md §3.6).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ledger.store._session import execute, flush
from ledger.store.directory import (
    INDEX_STATE,
    RISK_RANKS,
    DirectoryEntry,
    DirectoryState,
    DocumentHash,
    Enterprise,
    EnterprisePrefix,
    Equipment,
    EquipmentIdentifier,
    IndexedRecord,
    RecordFacet,
)
from ledger.store.models import Record

__all__ = [
    "clear_indexes",
    "handle_prefix",
    "index_records",
    "is_index_complete",
    "mark_index_complete",
    "register_enterprise",
    "rule_regions",
    "search_key",
]

#: The identifier schemes a search finds equipment by (docs/RECORDS.md §1.4).
SEARCHABLE_SCHEMES = ("handle", "oid", "ecode")


def search_key(text: str) -> str:
    """``text`` as names are compared in a search: Unicode NFKC (full-width letters are
    the ASCII ones), case-folded, and only its letters, digits and combining marks, so
    that white space, hyphens and punctuation never decide a match ("Anti-Corrosion",
    "anti corrosion" and "ANTICORROSION" are one key; "防腐·设备" is "防腐设备")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LNM")


def _sort_key(text: str) -> str:
    """``text`` as names are ordered: NFKC, case-folded, without white space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace())


def handle_prefix(identifier: str) -> str | None:
    """The naming authority of a Handle in canonical spelling (``88.118.8`` of
    ``88.118.8/TI-HX-0042``); None for an OID or an Ecode."""
    prefix, slash, _suffix = identifier.partition("/")
    return prefix if slash and prefix else None


def _names(row: Enterprise) -> list[str]:
    return [n for n in (row.name, row.name_en, row.name_zh) if n]


def _refresh_names(row: Enterprise) -> None:
    names = _names(row)
    row.search_text = "\n".join(dict.fromkeys(search_key(n) for n in names))
    row.sort_key = _sort_key(row.name_en or row.name or row.name_zh or row.enterprise_id)[:400]


class _Pending:
    """Rows added in this call and not flushed yet: a bulk indexes them without
    autoflushing the whole session before each look-up (which made indexing cost more
    than the rest of acceptance), and a subject seen twice in one bulk is one row."""

    def __init__(self) -> None:
        self.equipment: dict[str, Equipment] = {}
        self.enterprises: dict[str, Enterprise] = {}
        self.identifiers: set[tuple[str, str]] = set()


def _enterprise_row(
    session: Session, enterprise_id: str, pending: dict[str, Enterprise] | None = None
) -> Enterprise:
    row = (pending or {}).get(enterprise_id) or session.get(Enterprise, enterprise_id)
    if row is None:
        row = Enterprise(enterprise_id=enterprise_id, search_text="", sort_key="")
        session.add(row)
    if pending is not None:
        pending[enterprise_id] = row
    return row


def _owner_of(session: Session, prefix: str | None) -> str | None:
    if prefix is None:
        return None
    return session.scalar(
        select(EnterprisePrefix.enterprise_id).where(EnterprisePrefix.prefix == prefix)
    )


def rule_regions(session: Session, rule_ids: Iterable[str]) -> dict[str, str]:
    """The region of each stored region rule among ``rule_ids``."""
    wanted = list(dict.fromkeys(rule_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Record.record_id, RecordFacet.region)
        .join(RecordFacet, RecordFacet.record_pk == Record.id)
        .where(Record.record_id.in_(wanted), RecordFacet.region.is_not(None))
    )
    return {str(rid): str(region) for rid, region in rows}


def _index_rating(session: Session, item: IndexedRecord, pending: _Pending) -> None:
    row = _enterprise_row(session, item.subject, pending.enterprises)
    row.name = item.enterprise_name or row.name
    _refresh_names(row)
    row.grade, row.rating_pk, row.rated_at = item.grade, item.record_pk, item.issued_at
    if item.grade == "C":
        row.warning_pk, row.warning_since = item.record_pk, item.issued_at
        row.warning_deadline = item.warning_deadline
        row.rectified_pk = row.rectified_at = None
    elif row.warning_pk is not None and row.rectified_pk is None:
        row.rectified_pk, row.rectified_at = item.record_pk, item.issued_at


def _index_equipment(session: Session, item: IndexedRecord, pending: _Pending) -> None:
    row = pending.equipment.get(item.subject) or session.get(Equipment, item.subject)
    if row is None:
        row = Equipment(subject=item.subject, records=0)
        session.add(row)
    pending.equipment[item.subject] = row
    row.records = (row.records or 0) + 1
    row.last_pk, row.last_issued_at = item.record_pk, item.issued_at
    row.name = item.equipment_name or row.name
    row.cn_code = item.cn_code or row.cn_code
    if item.type == "carbon-record":
        row.carbon_pk, row.total, row.unit = item.record_pk, item.figure, item.unit
    prefix = handle_prefix(item.subject) or next(
        (handle_prefix(v) for s, v in item.identifiers if s == "handle"), None
    )
    if prefix is not None and row.handle_prefix is None:
        row.handle_prefix = prefix
        row.enterprise_id = _owner_of(session, prefix)
    for scheme, value in ((s, v) for s, v in item.identifiers if s in SEARCHABLE_SCHEMES):
        if (scheme, value) in pending.identifiers:
            continue
        pending.identifiers.add((scheme, value))
        if session.get(EquipmentIdentifier, (scheme, value)) is None:
            session.add(
                EquipmentIdentifier(
                    scheme=scheme, value=value, folded=value.casefold(), subject=item.subject
                )
            )


def _refresh_risk(session: Session, subject: str) -> None:
    """The equipment's risk: the highest level among the latest assessment per region."""
    latest = (
        select(func.max(RecordFacet.record_pk))
        .where(RecordFacet.type == "risk-assessment", RecordFacet.subject == subject)
        .group_by(RecordFacet.region)
    )
    levels = session.scalars(select(RecordFacet.level).where(RecordFacet.record_pk.in_(latest)))
    known = [lv for lv in levels if lv in RISK_RANKS]
    worst = max(known, key=RISK_RANKS.__getitem__) if known else None
    session.execute(update(Equipment).where(Equipment.subject == subject).values(risk_level=worst))


def index_records(session: Session, items: Sequence[IndexedRecord]) -> None:
    """Index ``items`` (records just accepted, in acceptance order) in the caller's
    transaction."""
    pending = _Pending()
    with session.no_autoflush:
        _index_all(session, items, pending)
    flush(session)


def _index_all(session: Session, items: Sequence[IndexedRecord], pending: _Pending) -> None:
    # The facets, one per record, go in multi-row inserts rather than through the ORM's unit
    # of work, whose bookkeeping per object cost more than the insert itself; they are
    # written before anything reads them back (the risk of a subject).
    facets: list[dict[str, object]] = []
    for item in items:
        facets.append({name: getattr(item, name) for name in _FACET_COLUMNS})
        if item.type == "credit-change":
            _index_rating(session, item, pending)
        elif item.is_equipment:
            _index_equipment(session, item, pending)
        for sha256_hex in dict.fromkeys(item.documents):
            session.add(DocumentHash(sha256_hex=sha256_hex, record_pk=item.record_pk))
        if item.type == "risk-assessment":
            _insert_facets(session, facets)
            flush(session)
            _refresh_risk(session, item.subject)
    _insert_facets(session, facets)


#: The columns of ``record_facets``, each read from the ``IndexedRecord`` attribute of its name.
_FACET_COLUMNS = (
    "record_pk", "type", "subject", "issued_at", "region", "level", "grade",
    "previous_grade", "figure", "unit", "source_id",
)  # fmt: skip


def _insert_facets(session: Session, facets: list[dict[str, object]]) -> None:
    """Writes the ``facets`` gathered so far and empties the list."""
    if facets:
        execute(session, insert(RecordFacet), facets)
        facets.clear()


def register_enterprise(session: Session, entry: DirectoryEntry, *, at: datetime, by: str) -> None:
    """Set an enterprise's register entry (names, region, Handle prefixes) and attach the
    equipment under its prefixes to it."""
    row = _enterprise_row(session, entry.enterprise_id)
    row.name_en, row.name_zh, row.region = entry.name_en, entry.name_zh, entry.region
    row.registered_at, row.registered_by = at, by
    _refresh_names(row)
    flush(session)
    old = set(
        session.scalars(
            select(EnterprisePrefix.prefix).where(
                EnterprisePrefix.enterprise_id == entry.enterprise_id
            )
        )
    )
    new = set(entry.handle_prefixes)
    if old - new:
        session.execute(delete(EnterprisePrefix).where(EnterprisePrefix.prefix.in_(old - new)))
        session.execute(
            update(Equipment)
            .where(Equipment.handle_prefix.in_(old - new))
            .values(enterprise_id=None)
        )
    for prefix in sorted(new - old):
        session.add(EnterprisePrefix(prefix=prefix, enterprise_id=entry.enterprise_id))
    flush(session)
    if new:
        session.execute(
            update(Equipment)
            .where(Equipment.handle_prefix.in_(new))
            .values(enterprise_id=entry.enterprise_id)
        )


def is_index_complete(session: Session) -> bool:
    row = session.get(DirectoryState, INDEX_STATE)
    return row is None or bool(row.complete)


def clear_indexes(session: Session) -> None:
    """Empties the record indexes (not the register) before a rebuild; keeps the
    enterprises' register columns and the prefixes."""
    for model in (DocumentHash, EquipmentIdentifier, RecordFacet, Equipment):
        session.execute(delete(model))
    session.execute(
        update(Enterprise).values(
            name=None, grade=None, rating_pk=None, rated_at=None, warning_pk=None,
            warning_since=None, warning_deadline=None, rectified_pk=None, rectified_at=None,
        )
    )  # fmt: skip


def mark_index_complete(session: Session, *, at: datetime) -> None:
    row = session.get(DirectoryState, INDEX_STATE, with_for_update=True)
    if row is None:
        session.add(DirectoryState(name=INDEX_STATE, complete=True, updated_at=at))
    else:
        row.complete, row.updated_at = True, at
    flush(session)
