"""Collection terminals' keys, the metering points and record types each may sign for, and
the intervals of the stored readings of each metering point (docs/CONTRACTS.md §4,
docs/RECORDS.md §3.12).

The TrustRegistry (interface version 3) is the authority on terminal keys; these rows mirror
it (``carbonledger keys terminal`` writes the chain first, the chain follower reads back what
others wrote), so the accept path checks a terminal's signatures without a chain call.
``key_id`` is the SHA-256 (lowercase hex) of the key's canonical encoding, computed here.

``reading_spans`` holds, per stored ``meter-reading`` batch, its metering point and the first
start and last end of its readings: the accept path looks for stored batches whose span
meets a new batch's and compares their readings one by one (docs/SUBMISSION.md §5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import MalformedError
from ledger.store._session import flush
from ledger.store.leader import advisory_key
from ledger.store.models import Base, Record
from ledger.store.types import MAX_ID_CHARS, MAX_SUBJECT_CHARS

__all__ = [
    "GRANT_KINDS",
    "SCHEMES",
    "ReadingSpan",
    "StoredReadingSpan",
    "StoredTerminalGrant",
    "StoredTerminalKey",
    "TerminalGrant",
    "TerminalKey",
    "add_reading_spans",
    "all_terminal_keys",
    "has_terminal_key",
    "lock_metering_points",
    "mirror_terminal_grant",
    "mirror_terminal_key",
    "mirror_terminal_revocation",
    "refresh_terminal_key",
    "spans_meeting",
    "terminal_keys",
    "withdraw_terminal_grant",
]

#: Key schemes as the ledger names them (docs/FORMAT.md §3), one per TrustRegistry scheme.
SCHEMES = ("ed25519", "sm2-sm3")
#: What a grant to a terminal key is of: a metering point, or a record type.
GRANT_KINDS = ("metering-point", "record-type")
#: The longest metering point the TrustRegistry grants (MAX_METERING_POINT_BYTES).
MAX_POINT_BYTES = 1024
_KEY_BYTES = {"ed25519": 32, "sm2-sm3": 65}


class TerminalKey(Base):
    """A collection terminal's public key with its validity window, as the TrustRegistry
    holds it: ``terminal_id_hex`` is SHA-256 of the UTF-8 bytes of the terminal's identifier,
    ``distinguishing_id_hex`` the SM2 signer's identifier (None for Ed25519)."""

    __tablename__ = "terminal_keys"
    __table_args__ = (CheckConstraint("scheme IN ('ed25519', 'sm2-sm3')", name="scheme"),)

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id_hex: Mapped[str] = mapped_column(String(64), index=True)
    scheme: Mapped[str] = mapped_column(String(16))
    public_key_hex: Mapped[str] = mapped_column(String(130), unique=True)
    distinguishing_id_hex: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    registered_tx_hash: Mapped[str | None] = mapped_column(String(66))


class TerminalGrant(Base):
    """A metering point or record type granted to a terminal key: the key may sign for it
    at ``t`` when ``granted_at <= t`` and (``withdrawn_at`` is None or ``t < withdrawn_at``)."""

    __tablename__ = "terminal_grants"
    __table_args__ = (CheckConstraint("kind IN ('metering-point', 'record-type')", name="kind"),)

    key_id: Mapped[str] = mapped_column(ForeignKey("terminal_keys.key_id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_POINT_BYTES), primary_key=True)
    granted_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    granted_tx_hash: Mapped[str | None] = mapped_column(String(66))


class ReadingSpan(Base):
    """The metering point of a stored meter-reading batch and the interval its readings
    span (first start, last end; gaps inside are possible)."""

    __tablename__ = "reading_spans"
    __table_args__ = (
        Index("ix_reading_spans_metering_point_first_start", "metering_point", "first_start"),
    )

    record_id: Mapped[str] = mapped_column(
        String(MAX_ID_CHARS), ForeignKey("records.record_id"), primary_key=True
    )
    metering_point: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS))
    first_start: Mapped[datetime]
    last_end: Mapped[datetime]


@dataclass(frozen=True)
class StoredTerminalGrant:
    kind: str
    name: str
    granted_at: datetime
    withdrawn_at: datetime | None

    def covers(self, at: datetime) -> bool:
        return self.granted_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)


@dataclass(frozen=True)
class StoredTerminalKey:
    """A terminal key and everything granted to it (withdrawn grants included)."""

    key_id: str
    terminal_id_hex: str
    scheme: str
    public_key_hex: str
    distinguishing_id_hex: str | None
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    registered_tx_hash: str | None
    grants: tuple[StoredTerminalGrant, ...]

    def is_valid_at(self, at: datetime) -> bool:
        """Inside the window and not revoked by ``at`` (docs/CONTRACTS.md §4)."""
        if at < self.valid_from or (self.valid_until is not None and at >= self.valid_until):
            return False
        return self.revoked_at is None or at < self.revoked_at

    def granted(self, kind: str, at: datetime) -> tuple[str, ...]:
        """The names of ``kind`` granted at ``at``."""
        return tuple(g.name for g in self.grants if g.kind == kind and g.covers(at))


@dataclass(frozen=True)
class StoredReadingSpan:
    """A batch's span; ``digest_hex`` is the stored record's (empty for a new batch)."""

    record_id: str
    metering_point: str
    first_start: datetime
    last_end: datetime
    digest_hex: str = ""


def _key_id(scheme: str, public_key_hex: str) -> str:
    try:
        raw = bytes.fromhex(public_key_hex)
    except ValueError:
        raise MalformedError("not hex", path="public_key_hex") from None
    if scheme not in _KEY_BYTES:
        raise MalformedError(f"unknown scheme {scheme!r}", path="scheme")
    if len(raw) != _KEY_BYTES[scheme] or raw.hex() != public_key_hex:
        raise MalformedError(
            f"expected {_KEY_BYTES[scheme]} bytes of lowercase hex for {scheme}",
            path="public_key_hex",
        )
    return hashlib.sha256(raw).hexdigest()


def _grant_kind(kind: str, name: str) -> None:
    if kind not in GRANT_KINDS:
        raise MalformedError(f"unknown grant kind {kind!r}", path="kind")
    if not 1 <= len(name.encode("utf-8")) <= MAX_POINT_BYTES:
        raise MalformedError(f"a {kind} is 1 to {MAX_POINT_BYTES} bytes", path="name")


# -- the mirror --------------------------------------------------------------------------


def mirror_terminal_key(
    session: Session,
    *,
    terminal_id_hex: str,
    scheme: str,
    public_key_hex: str,
    distinguishing_id_hex: str | None,
    valid_from: datetime,
    valid_until: datetime | None,
    tx_hash: str | None,
) -> str:
    """Create, or bring in line with the chain, the row of a terminal key; its key id."""
    key_id = _key_id(scheme, public_key_hex)
    if valid_until is not None and valid_until <= valid_from:
        raise MalformedError("valid_until must be after valid_from", path="valid_until")
    row = session.get(TerminalKey, key_id)
    if row is None:
        row = TerminalKey(
            key_id=key_id,
            terminal_id_hex=terminal_id_hex,
            scheme=scheme,
            public_key_hex=public_key_hex,
            distinguishing_id_hex=distinguishing_id_hex,
            valid_from=valid_from,
            valid_until=valid_until,
            registered_tx_hash=tx_hash,
        )
        session.add(row)
    else:
        row.valid_until = valid_until
        row.registered_tx_hash = row.registered_tx_hash or tx_hash
    flush(session)
    return key_id


def has_terminal_key(session: Session, key_id: str) -> bool:
    return session.get(TerminalKey, key_id) is not None


def mirror_terminal_revocation(session: Session, key_id: str, *, effective_at: datetime) -> None:
    """The chain's ``revokedAt`` of a stored terminal key (unknown keys are not the store's)."""
    row = session.get(TerminalKey, key_id)
    if row is not None:
        row.revoked_at = effective_at
        flush(session)


def mirror_terminal_grant(
    session: Session,
    key_id: str,
    kind: str,
    name: str,
    *,
    granted_at: datetime,
    tx_hash: str | None = None,
) -> None:
    """Mirror a grant (a repeat of one already mirrored changes nothing)."""
    _grant_kind(kind, name)
    if session.get(TerminalGrant, (key_id, kind, name)) is None:
        session.add(
            TerminalGrant(
                key_id=key_id,
                kind=kind,
                name=name,
                granted_at=granted_at,
                granted_tx_hash=tx_hash,
            )
        )
        flush(session)


def withdraw_terminal_grant(
    session: Session, key_id: str, kind: str, name: str, *, at: datetime
) -> None:
    row = session.get(TerminalGrant, (key_id, kind, name))
    if row is not None and row.withdrawn_at is None:
        row.withdrawn_at = at
        flush(session)


def refresh_terminal_key(
    session: Session,
    key_id: str,
    *,
    valid_until: datetime | None,
    revoked_at: datetime | None,
    grants: Mapping[tuple[str, str], tuple[datetime, datetime | None]],
) -> None:
    """Overwrite a stored terminal key's window end, revocation and grants ((kind, name) ->
    (granted, withdrawn)) with the chain's current ones (after a deep reorg, or to complete
    a registration interrupted between the chain and the store)."""
    row = session.get(TerminalKey, key_id)
    if row is None:
        return
    row.valid_until, row.revoked_at = valid_until, revoked_at
    query = select(TerminalGrant).where(TerminalGrant.key_id == key_id)
    for stale in list(session.scalars(query)):
        if (stale.kind, stale.name) not in grants:
            session.delete(stale)
    for (kind, name), (granted_at, withdrawn_at) in grants.items():
        mirror_terminal_grant(session, key_id, kind, name, granted_at=granted_at)
        grant = session.get(TerminalGrant, (key_id, kind, name))
        if grant is not None:
            grant.granted_at, grant.withdrawn_at = granted_at, withdrawn_at
    flush(session)


# -- reads -------------------------------------------------------------------------------


def _stored(session: Session, rows: Iterable[TerminalKey]) -> dict[str, StoredTerminalKey]:
    keys = {row.key_id: row for row in rows}
    grants: dict[str, list[StoredTerminalGrant]] = {k: [] for k in keys}
    ids = sorted(keys)
    for start in range(0, len(ids), 500):
        query = (
            select(TerminalGrant)
            .where(TerminalGrant.key_id.in_(ids[start : start + 500]))
            .order_by(TerminalGrant.key_id, TerminalGrant.granted_at, TerminalGrant.name)
        )
        for g in session.scalars(query):
            grants[g.key_id].append(
                StoredTerminalGrant(g.kind, g.name, g.granted_at, g.withdrawn_at)
            )
    return {
        kid: StoredTerminalKey(
            key_id=row.key_id,
            terminal_id_hex=row.terminal_id_hex,
            scheme=row.scheme,
            public_key_hex=row.public_key_hex,
            distinguishing_id_hex=row.distinguishing_id_hex,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            revoked_at=row.revoked_at,
            registered_tx_hash=row.registered_tx_hash,
            grants=tuple(grants[kid]),
        )
        for kid, row in keys.items()
    }


def terminal_keys(session: Session, key_ids: Collection[str]) -> dict[str, StoredTerminalKey]:
    """The registered terminal keys among ``key_ids``, by key id, with their grants."""
    ids = sorted(set(key_ids))
    rows: list[TerminalKey] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows += session.scalars(select(TerminalKey).where(TerminalKey.key_id.in_(chunk)))
    return _stored(session, rows)


def all_terminal_keys(session: Session) -> list[StoredTerminalKey]:
    """Every terminal key, by terminal and then by the start of its window."""
    order = (TerminalKey.terminal_id_hex, TerminalKey.valid_from, TerminalKey.key_id)
    return list(_stored(session, session.scalars(select(TerminalKey).order_by(*order))).values())


# -- reading spans -----------------------------------------------------------------------


def lock_metering_points(session: Session, points: Collection[str]) -> None:
    """Serialize the writers of ``points`` until the transaction ends. SQLite's write
    transactions are serialized already (``BEGIN IMMEDIATE``); on PostgreSQL two
    transactions accepting readings of one metering point would not see each other's
    uncommitted spans, so each takes a transaction-level advisory lock per point."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for point in sorted(set(points)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"),
            {"k": advisory_key(f"metering-point:{point}")},
        )


def spans_meeting(
    session: Session, metering_point: str, start: datetime, end: datetime
) -> list[StoredReadingSpan]:
    """The stored batches of ``metering_point`` whose span meets ``[start, end)``."""
    query = (
        select(ReadingSpan, Record.digest_hex)
        .join(Record, Record.record_id == ReadingSpan.record_id)
        .where(
            ReadingSpan.metering_point == metering_point,
            ReadingSpan.first_start < end,
            ReadingSpan.last_end > start,
        )
        .order_by(ReadingSpan.first_start)
    )
    return [
        StoredReadingSpan(r.record_id, r.metering_point, r.first_start, r.last_end, digest)
        for r, digest in session.execute(query)
    ]


def add_reading_spans(session: Session, spans: Iterable[StoredReadingSpan]) -> None:
    """Record the spans of newly stored batches (in the transaction that stores them)."""
    for span in spans:
        session.add(
            ReadingSpan(
                record_id=span.record_id,
                metering_point=span.metering_point,
                first_start=span.first_start,
                last_end=span.last_end,
            )
        )
    flush(session)
