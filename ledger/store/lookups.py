"""The look-ups of the accept path, one query per kind for a whole bulk (never one per
record): receipts already given, producer keys, the records links point at, and which
records are superseded already.

Each takes the session of the accepting transaction and returns frozen values
(``ledger.store.rows``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.store.models import Producer, ProducerKey, Record
from ledger.store.rows import LinkTarget, StoredKey, copy_row

__all__ = [
    "link_targets",
    "producer_exists",
    "producer_keys",
    "stored_receipts",
    "superseded_among",
]

_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def stored_receipts(session: Session, record_ids: Collection[str]) -> dict[str, tuple[str, bytes]]:
    """For each stored record among ``record_ids``: its digest and its receipt bytes."""
    out: dict[str, tuple[str, bytes]] = {}
    for chunk in _chunks(record_ids):
        rows = session.execute(
            select(Record.record_id, Record.digest_hex, Record.receipt).where(
                Record.record_id.in_(chunk)
            )
        )
        for record_id, digest_hex, receipt in rows:
            out[str(record_id)] = (str(digest_hex), bytes(receipt))
    return out


def producer_keys(session: Session, key_ids: Collection[str]) -> dict[str, StoredKey]:
    """The registered producer keys among ``key_ids``, by key id."""
    out: dict[str, StoredKey] = {}
    for chunk in _chunks(key_ids):
        for key in session.scalars(select(ProducerKey).where(ProducerKey.key_id.in_(chunk))):
            out[key.key_id] = copy_row(StoredKey, key)
    return out


def producer_exists(session: Session, producer: str) -> bool:
    return session.get(Producer, producer) is not None


def link_targets(session: Session, record_ids: Collection[str]) -> dict[str, LinkTarget]:
    """What a link check needs of each stored record among ``record_ids``."""
    out: dict[str, LinkTarget] = {}
    columns = (Record.record_id, Record.digest_hex, Record.type, Record.subject, Record.producer)
    for chunk in _chunks(record_ids):
        for row in session.execute(select(*columns).where(Record.record_id.in_(chunk))):
            out[str(row[0])] = LinkTarget(*(str(v) for v in row))
    return out


def superseded_among(session: Session, record_ids: Collection[str]) -> set[str]:
    """The records among ``record_ids`` that a stored record supersedes already."""
    out: set[str] = set()
    for chunk in _chunks(record_ids):
        rows = session.scalars(select(Record.supersedes).where(Record.supersedes.in_(chunk)))
        out.update(str(r) for r in rows if r is not None)
    return out
