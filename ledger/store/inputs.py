"""What recomputation at acceptance and the disclosure of views read from the store: the
stored full views of given records, and the latest record of a type about a subject.

Read-only queries over the caller's session; the caller parses what it gets (the store
hands out the canonical bytes it stored, never re-serialized).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.store.models import Record

__all__ = ["StoredView", "full_views", "latest_about", "newest_about", "newest_of_type"]

_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class StoredView:
    """A stored record's identity and its full view bytes (record + salts, canonical)."""

    record_id: str
    type: str
    digest_hex: str
    full_view: bytes


def full_views(session: Session, record_ids: Iterable[str]) -> dict[str, StoredView]:
    """The full views of those of ``record_ids`` that are stored, by record id."""
    ordered = sorted(set(record_ids))
    out: dict[str, StoredView] = {}
    columns = (Record.record_id, Record.type, Record.digest_hex, Record.full_view)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for rid, rtype, digest_hex, view in session.execute(
            select(*columns).where(Record.record_id.in_(chunk))
        ):
            out[str(rid)] = StoredView(str(rid), str(rtype), str(digest_hex), bytes(view))
    return out


def latest_about(session: Session, record_type: str, subject: str) -> StoredView | None:
    """The record of ``record_type`` about ``subject`` accepted last, or None.

    Links point to earlier records only, so the latest one is never superseded: for
    credit changes it is the rating in force.
    """
    row = session.execute(
        select(Record.record_id, Record.type, Record.digest_hex, Record.full_view)
        .where(Record.type == record_type, Record.subject == subject)
        .order_by(Record.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return StoredView(str(row[0]), str(row[1]), str(row[2]), bytes(row[3]))


def newest_about(
    session: Session, record_type: str, subject: str, *, limit: int
) -> list[StoredView]:
    """The records of ``record_type`` about ``subject``, accepted last first, at most
    ``limit`` (the risk assessments an export lock is read from)."""
    rows = session.execute(
        select(Record.record_id, Record.type, Record.digest_hex, Record.full_view)
        .where(Record.type == record_type, Record.subject == subject)
        .order_by(Record.id.desc())
        .limit(limit)
    )
    return [StoredView(str(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]


def newest_of_type(session: Session, record_type: str, *, limit: int) -> list[StoredView]:
    """The records of ``record_type``, accepted last first, at most ``limit`` (the region
    rules an assessment picks its rule from)."""
    rows = session.execute(
        select(Record.record_id, Record.type, Record.digest_hex, Record.full_view)
        .where(Record.type == record_type)
        .order_by(Record.id.desc())
        .limit(limit)
    )
    return [StoredView(str(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]
