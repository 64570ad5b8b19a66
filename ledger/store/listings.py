"""Reading the directory (``ledger.store.directory``): searches, filtered listings and the
aggregates of an enterprise, a piece of equipment and the home page. Every query runs on
an index of the directory or of the records; none reads a record's stored bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ledger.store.directory import (
    RISK_RANKS,
    DocumentHash,
    Enterprise,
    EnterprisePrefix,
    Equipment,
    EquipmentIdentifier,
    RecordFacet,
    StoredEnterprise,
    StoredEquipment,
    StoredFacet,
    enterprise_value,
    equipment_value,
)
from ledger.store.models import (
    AnchorTx,
    Attestation,
    Batch,
    Record,
    Revocation,
    Supersession,
)
from ledger.store.rows import StoredAttestation, StoredBatch, copy_row

__all__ = [
    "EnterpriseFilter",
    "EquipmentFilter",
    "TxFound",
    "attestations_about",
    "batch_by_hash",
    "counts_by_type",
    "enterprise_by_id",
    "enterprise_prefixes",
    "enterprises_by_name",
    "equipment_by_identifier",
    "equipment_by_subject",
    "equipment_of_enterprise",
    "facets_of_subjects",
    "latest_risks",
    "list_enterprises",
    "list_equipment",
    "recent_ratings",
    "record_ids_of_pks",
    "records_holding_document",
    "risks_by_region",
    "transaction",
    "warning_list",
]


def _like(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def enterprises_by_name(session: Session, key: str, *, limit: int) -> list[StoredEnterprise]:
    """Enterprises one of whose names contains ``key`` (a ``search_key``)."""
    rows = session.scalars(
        select(Enterprise)
        .where(Enterprise.search_text.like(_like(key), escape="\\"))
        .order_by(Enterprise.sort_key, Enterprise.enterprise_id)
        .limit(limit)
    )
    return [enterprise_value(r) for r in rows]


def enterprise_by_id(session: Session, enterprise_id: str) -> StoredEnterprise | None:
    row = session.get(Enterprise, enterprise_id)
    return None if row is None else enterprise_value(row)


def enterprise_prefixes(session: Session, enterprise_id: str) -> list[str]:
    return list(
        session.scalars(
            select(EnterprisePrefix.prefix)
            .where(EnterprisePrefix.enterprise_id == enterprise_id)
            .order_by(EnterprisePrefix.prefix)
        )
    )


def equipment_by_subject(session: Session, subject: str) -> StoredEquipment | None:
    row = session.get(Equipment, subject)
    return None if row is None else equipment_value(row)


def equipment_by_identifier(session: Session, value: str, *, limit: int) -> list[str]:
    """Subjects of the equipment named ``value`` exactly, or else in another case."""
    exact = list(
        session.scalars(
            select(EquipmentIdentifier.subject).where(EquipmentIdentifier.value == value)
        )
    )
    if exact:
        return list(dict.fromkeys(exact))[:limit]
    folded = session.scalars(
        select(EquipmentIdentifier.subject)
        .where(EquipmentIdentifier.folded == value.casefold())
        .order_by(EquipmentIdentifier.subject)
        .limit(limit)
    )
    return list(dict.fromkeys(folded))


def identifiers_of(session: Session, subject: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(EquipmentIdentifier.scheme, EquipmentIdentifier.value)
        .where(EquipmentIdentifier.subject == subject)
        .order_by(EquipmentIdentifier.scheme, EquipmentIdentifier.value)
    )
    return [(str(s), str(v)) for s, v in rows]


@dataclass(frozen=True)
class EnterpriseFilter:
    grades: tuple[str, ...] = ()
    region: str | None = None
    risk: str | None = None
    #: ``listed`` (on the list, deadline not passed), ``overdue``, ``rectified``, ``clear``
    #: (never listed, or rectified).
    warning: str | None = None
    name_key: str | None = None


def _warning_clause(status: str, today: date) -> Any:
    on_list = and_(Enterprise.warning_pk.is_not(None), Enterprise.rectified_pk.is_(None))
    if status == "listed":
        return and_(on_list, Enterprise.warning_deadline >= today)
    if status == "overdue":
        return and_(on_list, Enterprise.warning_deadline < today)
    if status == "rectified":
        return Enterprise.rectified_pk.is_not(None)
    return or_(Enterprise.warning_pk.is_(None), Enterprise.rectified_pk.is_not(None))


def _enterprise_query(f: EnterpriseFilter, today: date) -> Any:
    query = select(Enterprise)
    if f.grades:
        query = query.where(Enterprise.grade.in_(f.grades))
    if f.region:
        query = query.where(Enterprise.region == f.region)
    if f.name_key:
        query = query.where(Enterprise.search_text.like(_like(f.name_key), escape="\\"))
    if f.warning:
        query = query.where(_warning_clause(f.warning, today))
    if f.risk:
        query = query.where(
            exists().where(
                Equipment.enterprise_id == Enterprise.enterprise_id,
                Equipment.risk_level == f.risk,
            )
        )
    return query


def list_enterprises(
    session: Session, f: EnterpriseFilter, *, today: date, offset: int, limit: int
) -> tuple[list[StoredEnterprise], int]:
    """A page of the enterprises matching ``f``, by name; and how many match."""
    query = _enterprise_query(f, today)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.order_by(Enterprise.sort_key, Enterprise.enterprise_id).offset(offset).limit(limit)
    )
    return [enterprise_value(r) for r in rows], total


def worst_risks(session: Session, enterprise_ids: Collection[str]) -> dict[str, str]:
    """The highest current risk level among each enterprise's equipment."""
    if not enterprise_ids:
        return {}
    rows = session.execute(
        select(Equipment.enterprise_id, Equipment.risk_level).where(
            Equipment.enterprise_id.in_(list(enterprise_ids)), Equipment.risk_level.is_not(None)
        )
    )
    out: dict[str, str] = {}
    for ent, level in rows:
        if level in RISK_RANKS and RISK_RANKS[level] >= RISK_RANKS.get(out.get(str(ent), ""), -1):
            out[str(ent)] = str(level)
    return out


@dataclass(frozen=True)
class EquipmentFilter:
    enterprise_id: str | None = None
    #: A target region: equipment with a conversion or a risk assessment for it.
    region: str | None = None
    risk: str | None = None
    grades: tuple[str, ...] = ()
    warning: str | None = None


def list_equipment(
    session: Session, f: EquipmentFilter, *, today: date, offset: int, limit: int
) -> tuple[list[StoredEquipment], int]:
    query = select(Equipment)
    if f.enterprise_id:
        query = query.where(Equipment.enterprise_id == f.enterprise_id)
    if f.risk:
        query = query.where(Equipment.risk_level == f.risk)
    if f.region:
        query = query.where(
            exists().where(
                RecordFacet.type.in_(("factor-substitution", "risk-assessment")),
                RecordFacet.region == f.region,
                RecordFacet.subject == Equipment.subject,
            )
        )
    if f.grades or f.warning:
        owners = _enterprise_query(EnterpriseFilter(grades=f.grades, warning=f.warning), today)
        query = query.where(
            Equipment.enterprise_id.in_(owners.with_only_columns(Enterprise.enterprise_id))
        )
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(Equipment.subject).offset(offset).limit(limit))
    return [equipment_value(r) for r in rows], total


def equipment_of_enterprise(
    session: Session, enterprise_id: str, *, limit: int
) -> list[StoredEquipment]:
    rows = session.scalars(
        select(Equipment)
        .where(Equipment.enterprise_id == enterprise_id)
        .order_by(Equipment.subject)
        .limit(limit)
    )
    return [equipment_value(r) for r in rows]


def _facets(session: Session, query: Any) -> list[StoredFacet]:
    rows = session.execute(query.join(Record, Record.id == RecordFacet.record_pk))
    return [
        StoredFacet(
            f.record_pk, str(rid), f.type, f.subject, f.issued_at, f.region, f.level, f.grade,
            f.previous_grade, f.figure, f.unit, f.source_id,
        )
        for f, rid in rows
    ]  # fmt: skip


def facets_of_subjects(
    session: Session, types: Sequence[str], subjects: Collection[str], *, limit: int
) -> list[StoredFacet]:
    """The facets of the records of ``types`` about ``subjects``, newest first."""
    if not subjects:
        return []
    return _facets(
        session,
        select(RecordFacet, Record.record_id)
        .where(RecordFacet.type.in_(list(types)), RecordFacet.subject.in_(list(subjects)))
        .order_by(RecordFacet.record_pk.desc())
        .limit(limit),
    )


def latest_risks(session: Session, subjects: Collection[str]) -> list[StoredFacet]:
    """The latest risk assessment of each (subject, region) among ``subjects``."""
    if not subjects:
        return []
    latest = (
        select(func.max(RecordFacet.record_pk))
        .where(RecordFacet.type == "risk-assessment", RecordFacet.subject.in_(list(subjects)))
        .group_by(RecordFacet.subject, RecordFacet.region)
    )
    return _facets(
        session,
        select(RecordFacet, Record.record_id)
        .where(RecordFacet.record_pk.in_(latest))
        .order_by(RecordFacet.subject, RecordFacet.region),
    )


def recent_ratings(session: Session, *, limit: int) -> list[StoredFacet]:
    return _facets(
        session,
        select(RecordFacet, Record.record_id)
        .where(RecordFacet.type == "credit-change")
        .order_by(RecordFacet.record_pk.desc())
        .limit(limit),
    )


def risks_by_region(session: Session, levels: Collection[str]) -> dict[tuple[str, str], int]:
    """(region, level) -> how many pieces of equipment stand at ``level`` there now."""
    latest = (
        select(func.max(RecordFacet.record_pk))
        .where(RecordFacet.type == "risk-assessment")
        .group_by(RecordFacet.subject, RecordFacet.region)
    )
    rows = session.execute(
        select(RecordFacet.region, RecordFacet.level, func.count())
        .where(RecordFacet.record_pk.in_(latest), RecordFacet.level.in_(list(levels)))
        .group_by(RecordFacet.region, RecordFacet.level)
    )
    return {(str(region), str(level)): int(n) for region, level, n in rows}


def latest_batches(session: Session, *, limit: int) -> list[StoredBatch]:
    rows = session.scalars(select(Batch).order_by(Batch.seq.desc()).limit(limit))
    return [copy_row(StoredBatch, r) for r in rows]


def count_enterprises(session: Session, grades: Collection[str]) -> int:
    query = select(func.count()).select_from(Enterprise)
    if grades:
        query = query.where(Enterprise.grade.in_(list(grades)))
    return int(session.scalar(query) or 0)


def equipment_counts(session: Session, enterprise_ids: Collection[str]) -> dict[str, int]:
    if not enterprise_ids:
        return {}
    rows = session.execute(
        select(Equipment.enterprise_id, func.count())
        .where(Equipment.enterprise_id.in_(list(enterprise_ids)))
        .group_by(Equipment.enterprise_id)
    )
    return {str(e): int(n) for e, n in rows}


def counts_by_type(session: Session) -> dict[str, int]:
    rows = session.execute(select(Record.type, func.count()).group_by(Record.type))
    return {str(t): int(n) for t, n in rows}


def warning_list(
    session: Session, status: str | None, *, today: date, offset: int, limit: int
) -> tuple[list[StoredEnterprise], int]:
    """Enterprises put on the warning list (current, overdue or rectified), by deadline."""
    query = select(Enterprise).where(Enterprise.warning_pk.is_not(None))
    if status:
        query = query.where(_warning_clause(status, today))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.order_by(Enterprise.warning_deadline, Enterprise.enterprise_id)
        .offset(offset)
        .limit(limit)
    )
    return [enterprise_value(r) for r in rows], total


def count_warnings(session: Session, *, today: date) -> dict[str, int]:
    out = {}
    for status in ("listed", "overdue", "rectified"):
        query = select(func.count()).select_from(Enterprise).where(_warning_clause(status, today))
        out[status] = int(session.scalar(query) or 0)
    return out


def record_ids_of_pks(session: Session, pks: Collection[int]) -> dict[int, str]:
    if not pks:
        return {}
    rows = session.execute(select(Record.id, Record.record_id).where(Record.id.in_(list(pks))))
    return {int(pk): str(rid) for pk, rid in rows}


def records_holding_document(session: Session, sha256_hex: str, *, limit: int) -> list[str]:
    """Ids of the records listing a document with this SHA-256, in acceptance order."""
    return [
        str(rid)
        for rid in session.scalars(
            select(Record.record_id)
            .join(DocumentHash, DocumentHash.record_pk == Record.id)
            .where(DocumentHash.sha256_hex == sha256_hex)
            .order_by(Record.id)
            .limit(limit)
        )
    ]


def batch_by_hash(session: Session, hash_hex: str) -> StoredBatch | None:
    """The batch whose root or manifest digest is ``hash_hex``."""
    row = session.scalars(
        select(Batch).where(or_(Batch.root_hex == hash_hex, Batch.manifest_digest_hex == hash_hex))
    ).first()
    return None if row is None else copy_row(StoredBatch, row)


@dataclass(frozen=True)
class TxFound:
    """What a transaction hash is: a batch's anchor (``batch_seq``) or a status or an
    attestation about a record (``digest_hex``)."""

    kind: str
    batch_seq: int | None = None
    digest_hex: str | None = None


def transaction(session: Session, tx_hash: str) -> TxFound | None:
    seq = session.scalar(
        select(AnchorTx.batch_seq).where(AnchorTx.tx_hash == tx_hash, AnchorTx.purpose == "anchor")
    )
    if seq is None:
        seq = session.scalar(select(Batch.seq).where(Batch.tx_hash == tx_hash))
    if seq is not None:
        return TxFound("anchor", batch_seq=int(seq))
    for kind, model in (
        ("revocation", Revocation),
        ("supersession", Supersession),
        ("attestation", Attestation),
    ):
        digest = session.scalar(select(model.digest_hex).where(model.tx_hash == tx_hash))
        if digest is not None:
            return TxFound(kind, digest_hex=str(digest))
    return None


def attestations_about(
    session: Session, subjects: Collection[str], *, limit: int
) -> list[tuple[str, StoredAttestation]]:
    """(record id, attestation) of the attestations of records about ``subjects``."""
    if not subjects:
        return []
    rows = session.execute(
        select(Record.record_id, Attestation)
        .join(Attestation, Attestation.digest_hex == Record.digest_hex)
        .where(Record.subject.in_(list(subjects)))
        .order_by(Attestation.id.desc())
        .limit(limit)
    )
    return [(str(rid), copy_row(StoredAttestation, a)) for rid, a in rows]
