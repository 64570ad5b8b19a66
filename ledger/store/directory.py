"""The directory: indexes over the records that the pages and the registry read without
scanning the ledger (docs/PAGES.md §5), and the enterprise register a regulator keeps.

Written in the transaction that accepts the records (``ledger.service.directory``), so an
index never lags its records; rebuilt from the stored records once when a store made
before these tables is opened (``directory_state``). What is indexed is what the public
may read of a record (grades, risk levels, regions, totals, equipment names and
identifiers), with one exception kept to exact look-ups: the SHA-256 of the documents of
BIM archive entries, so that a reader holding a document can find the record that
anchored it ("check a document").

- ``enterprises``: one row per enterprise a credit change names: its name and current
  grade (the rating accepted last, the rating in force), and its warning-list episode
  (the C rating that listed it, the deadline, the rating that lifted it). The register's
  columns (the names in English and Chinese, the region) and its Handle prefixes
  (``enterprise_prefixes``) are set by a regulator; they are not signed records.
- ``equipment``: one row per equipment subject: name, CN code, the latest footprint's
  total, the highest current export risk, the owning enterprise (by Handle prefix).
- ``equipment_identifiers``: every Handle, OID and Ecode an equipment record names, with
  a case-folded spelling for searches typed in another case.
- ``record_facets``: per record, the public facts listings filter on (region, risk level,
  grade, figure and unit, source).
- ``document_hashes``: document SHA-256 -> the archive records listing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.store.models import AutoId, Base
from ledger.store.types import MAX_ID_CHARS, MAX_SUBJECT_CHARS

__all__ = [
    "RISK_RANKS",
    "DirectoryEntry",
    "DirectoryState",
    "DocumentHash",
    "Enterprise",
    "EnterprisePrefix",
    "Equipment",
    "EquipmentIdentifier",
    "RecordFacet",
    "StoredEnterprise",
    "StoredEquipment",
    "StoredFacet",
]

#: Export risk levels from none to the worst (a red level locks exports).
RISK_RANKS = {"none": 0, "not-assessable": 1, "blue": 2, "yellow": 3, "red": 4}
MAX_NAME_CHARS = 400
INDEX_STATE = "records"


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (Index("ix_enterprises_sort_key", "sort_key", "enterprise_id"),)

    enterprise_id: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS), primary_key=True)
    #: The name its latest rating gives.
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    #: The register's names and region (a regulator's entry, not a signed record).
    name_en: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    name_zh: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    region: Mapped[str | None] = mapped_column(String(16), index=True)
    #: Every name, normalised for search (``ledger.service.directory.search_key``).
    search_text: Mapped[str] = mapped_column(Text, default="")
    sort_key: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), default="")
    grade: Mapped[str | None] = mapped_column(String(4), index=True)
    rating_pk: Mapped[int | None] = mapped_column(BigInteger)
    rated_at: Mapped[datetime | None]
    #: The C rating that put it on the warning list, and its rectification deadline.
    warning_pk: Mapped[int | None] = mapped_column(BigInteger)
    warning_since: Mapped[datetime | None]
    warning_deadline: Mapped[date | None] = mapped_column(Date, index=True)
    #: The first later rating above C: the enterprise rectified.
    rectified_pk: Mapped[int | None] = mapped_column(BigInteger)
    rectified_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    registered_by: Mapped[str | None] = mapped_column(String(200))


class EnterprisePrefix(Base):
    """A Handle prefix (naming authority, ``88.118.8``) registered to an enterprise: its
    equipment is what carries a Handle under it (docs/RECORDS.md §1.4)."""

    __tablename__ = "enterprise_prefixes"

    prefix: Mapped[str] = mapped_column(String(256), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.enterprise_id"), index=True)


class Equipment(Base):
    __tablename__ = "equipment"
    __table_args__ = (Index("ix_equipment_enterprise_id_subject", "enterprise_id", "subject"),)

    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    enterprise_id: Mapped[str | None] = mapped_column(String(MAX_SUBJECT_CHARS))
    handle_prefix: Mapped[str | None] = mapped_column(String(256), index=True)
    cn_code: Mapped[str | None] = mapped_column(String(16))
    #: The latest carbon footprint and its total.
    carbon_pk: Mapped[int | None] = mapped_column(BigInteger)
    total: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(16))
    #: The highest of its current export risk levels (one per target region).
    risk_level: Mapped[str | None] = mapped_column(String(16), index=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    last_pk: Mapped[int] = mapped_column(BigInteger)
    last_issued_at: Mapped[datetime]


class EquipmentIdentifier(Base):
    __tablename__ = "equipment_identifiers"

    scheme: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), primary_key=True)
    #: ``value`` case-folded: a Handle typed in another case finds its candidates.
    folded: Mapped[str] = mapped_column(String(256), index=True)
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS), index=True)


class RecordFacet(Base):
    __tablename__ = "record_facets"
    __table_args__ = (
        Index("ix_record_facets_type_subject_record_pk", "type", "subject", "record_pk"),
        Index("ix_record_facets_type_region_subject", "type", "region", "subject"),
    )

    record_pk: Mapped[int] = mapped_column(
        AutoId, ForeignKey("records.id"), primary_key=True, autoincrement=False
    )
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS))
    issued_at: Mapped[datetime]
    region: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(4))
    previous_grade: Mapped[str | None] = mapped_column(String(4))
    figure: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS))


class DocumentHash(Base):
    __tablename__ = "document_hashes"

    sha256_hex: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_pk: Mapped[int] = mapped_column(
        AutoId, ForeignKey("records.id"), primary_key=True, autoincrement=False
    )


class DirectoryState(Base):
    """Whether the indexes hold every stored record (false in a store upgraded to the
    migration that made them, until the first rebuild)."""

    __tablename__ = "directory_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    complete: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None]


# -- what the service hands in ----------------------------------------------------------


@dataclass(frozen=True)
class IndexedRecord:
    """What the directory keeps of one record (``ledger.service.directory.index_of``)."""

    record_pk: int
    record_id: str
    type: str
    subject: str
    issued_at: datetime
    region: str | None = None
    level: str | None = None
    grade: str | None = None
    previous_grade: str | None = None
    figure: str | None = None
    unit: str | None = None
    source_id: str | None = None
    rule_id: str | None = None
    is_equipment: bool = False
    equipment_name: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    cn_code: str | None = None
    enterprise_name: str | None = None
    warning_deadline: date | None = None
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectoryEntry:
    """A regulator's register entry of an enterprise."""

    enterprise_id: str
    name_en: str | None
    name_zh: str | None
    region: str | None
    handle_prefixes: tuple[str, ...]


# -- frozen values handed out -------------------------------------------------------------


@dataclass(frozen=True)
class StoredEnterprise:
    enterprise_id: str
    name: str | None
    name_en: str | None
    name_zh: str | None
    region: str | None
    grade: str | None
    rating_pk: int | None
    rated_at: datetime | None
    warning_pk: int | None
    warning_since: datetime | None
    warning_deadline: date | None
    rectified_pk: int | None
    rectified_at: datetime | None
    registered_at: datetime | None
    registered_by: str | None


@dataclass(frozen=True)
class StoredEquipment:
    subject: str
    name: str | None
    enterprise_id: str | None
    cn_code: str | None
    carbon_pk: int | None
    total: str | None
    unit: str | None
    risk_level: str | None
    records: int
    last_issued_at: datetime


@dataclass(frozen=True)
class StoredFacet:
    record_pk: int
    record_id: str
    type: str
    subject: str
    issued_at: datetime
    region: str | None
    level: str | None
    grade: str | None
    previous_grade: str | None
    figure: str | None
    unit: str | None
    source_id: str | None


def enterprise_value(row: Enterprise) -> StoredEnterprise:
    return StoredEnterprise(
        row.enterprise_id, row.name, row.name_en, row.name_zh, row.region, row.grade,
        row.rating_pk, row.rated_at, row.warning_pk, row.warning_since, row.warning_deadline,
        row.rectified_pk, row.rectified_at, row.registered_at, row.registered_by,
    )  # fmt: skip


def equipment_value(row: Equipment) -> StoredEquipment:
    return StoredEquipment(
        row.subject, row.name, row.enterprise_id, row.cn_code, row.carbon_pk, row.total,
        row.unit, row.risk_level, row.records, row.last_issued_at,
    )  # fmt: skip
