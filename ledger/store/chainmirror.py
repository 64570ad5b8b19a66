"""The chain follower's part of the store: the registry events it read, its cursor, the
block hashes it stopped at (to find where a reorg forked), and the accredited bodies.

The follower writes a range of events, the facts derived from them and its new cursor in
one transaction, so a restart resumes exactly after the last range it finished; a deep
reorg is undone by ``rollback_above`` (events, facts and cursor above the fork point) in one
transaction too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger.core.canonical import format_timestamp
from ledger.store._session import execute, flush
from ledger.store.chainfacts import unmirror_attestations_above, unmirror_statuses_above
from ledger.store.models import AccreditedBody, ChainBlock, ChainCursor, ChainEvent

#: The chain follower's cursor name (``anchoring.follower``): its lag, for the status
#: command and the metrics, is ``position(session, FOLLOWER).lag_blocks``.
FOLLOWER = "follower"
#: Block hashes kept per reader to find a fork point (a reorg deeper than this many ranges
#: makes the reader start again from the deployment).
KEPT_BLOCKS = 256


@dataclass(frozen=True)
class Position:
    """Where a reader stands: the last block it read (and its hash), the head it saw."""

    block_number: int
    block_hash: str
    head_block: int
    updated_at: datetime

    @property
    def lag_blocks(self) -> int:
        return max(self.head_block - self.block_number, 0)


@dataclass(frozen=True)
class NewEvent:
    """One decoded registry event, as the follower stores it."""

    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    contract: str
    event: str
    args: dict[str, Any]


def position(session: Session, reader: str) -> Position | None:
    row = session.get(ChainCursor, reader)
    if row is None:
        return None
    return Position(row.block_number, row.block_hash, row.head_block, row.updated_at)


def advance(
    session: Session, reader: str, *, block_number: int, block_hash: str, head: int, at: datetime
) -> None:
    """Move the cursor to ``block_number`` (read), remember its hash, keep the newest
    ``KEPT_BLOCKS`` hashes."""
    row = session.get(ChainCursor, reader)
    if row is None:
        row = ChainCursor(name=reader)
        session.add(row)
    row.block_number, row.block_hash, row.head_block, row.updated_at = (
        block_number,
        block_hash,
        head,
        at,
    )
    if session.get(ChainBlock, (reader, block_number)) is None:
        session.add(ChainBlock(reader=reader, number=block_number, hash=block_hash))
    flush(session)
    stale = list(
        session.scalars(
            select(ChainBlock.number)
            .where(ChainBlock.reader == reader)
            .order_by(ChainBlock.number.desc())
            .offset(KEPT_BLOCKS)
        )
    )
    if stale:
        execute(
            session,
            delete(ChainBlock)
            .where(ChainBlock.reader == reader, ChainBlock.number <= max(stale))
            .execution_options(synchronize_session=False),
        )


def note_head(session: Session, reader: str, *, head: int, at: datetime) -> None:
    """Record the head seen without moving the cursor (nothing K deep to read yet)."""
    row = session.get(ChainCursor, reader)
    if row is not None:
        row.head_block, row.updated_at = head, at
        flush(session)


def stopping_points(session: Session, reader: str) -> list[tuple[int, str]]:
    """(number, hash) of the blocks the reader stopped at, newest first."""
    rows = session.execute(
        select(ChainBlock.number, ChainBlock.hash)
        .where(ChainBlock.reader == reader)
        .order_by(ChainBlock.number.desc())
    )
    return [(int(n), str(h)) for n, h in rows]


def record_events(session: Session, events: Sequence[NewEvent]) -> None:
    session.add_all(
        ChainEvent(
            block_number=e.block_number,
            block_hash=e.block_hash,
            log_index=e.log_index,
            tx_hash=e.tx_hash,
            contract=e.contract,
            event=e.event,
            args=e.args,
        )
        for e in events
    )
    flush(session)


def events_above(session: Session, block_number: int) -> list[NewEvent]:
    rows = session.scalars(
        select(ChainEvent)
        .where(ChainEvent.block_number > block_number)
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    )
    return [
        NewEvent(r.block_number, r.block_hash, r.log_index, r.tx_hash, r.contract, r.event, r.args)
        for r in rows
    ]


def rollback_above(
    session: Session, reader: str, *, block_number: int, block_hash: str, at: datetime
) -> list[NewEvent]:
    """Undo everything read above ``block_number`` (a reorg forked there): the events (they
    are returned, for the caller to re-read what they touched), the statuses and
    attestations mirrored from them, the stopping points; the cursor goes back to it."""
    undone = events_above(session, block_number)
    execute(
        session,
        delete(ChainEvent)
        .where(ChainEvent.block_number > block_number)
        .execution_options(synchronize_session=False),
    )
    execute(
        session,
        delete(ChainBlock)
        .where(ChainBlock.reader == reader, ChainBlock.number > block_number)
        .execution_options(synchronize_session=False),
    )
    unmirror_statuses_above(session, block_number, at=at)
    unmirror_attestations_above(session, block_number)
    row = session.get(ChainCursor, reader)
    if row is not None:
        row.block_number, row.block_hash, row.updated_at = block_number, block_hash, at
    flush(session)
    return undone


def mirror_body(
    session: Session,
    *,
    address: str,
    name: str,
    scope: str,
    regions: str,
    valid_from: datetime,
    valid_until: datetime,
    withdrawn: bool,
    block_number: int,
) -> None:
    row = session.get(AccreditedBody, address)
    if row is None:
        row = AccreditedBody(address=address)
        session.add(row)
    row.name, row.scope, row.regions = name, scope, regions
    row.valid_from, row.valid_until = valid_from, valid_until
    row.withdrawn, row.block_number = withdrawn, block_number
    flush(session)


def withdraw_body(session: Session, address: str, *, block_number: int) -> None:
    row = session.get(AccreditedBody, address)
    if row is not None:
        row.withdrawn, row.block_number = True, block_number
        flush(session)


@dataclass(frozen=True)
class Accreditation:
    """A mirrored TrustRegistry accreditation (``regions``: the recognised region codes)."""

    address: str
    name: str
    scope: str
    regions: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    withdrawn: bool

    def to_json(self) -> dict[str, Any]:
        """As the API and ``carbonledger bodies`` show it."""
        return {
            "address": self.address,
            "name": self.name,
            "scope": self.scope,
            "regions": list(self.regions),
            "valid_from": format_timestamp(self.valid_from),
            "valid_until": format_timestamp(self.valid_until),
            "withdrawn": self.withdrawn,
        }

    def in_force(self, at: datetime) -> bool:
        """Not withdrawn, and ``at`` inside its validity (half-open)."""
        return not self.withdrawn and self.valid_from <= at < self.valid_until

    def recognises(self, region: str, at: datetime) -> bool:
        """Recognised for ``region`` and in force at ``at``."""
        return region in self.regions and self.in_force(at)


def _accreditation(row: AccreditedBody) -> Accreditation:
    # The registry's regions are comma-separated (docs/CONTRACTS.md §4), read as the
    # verifier's check 11 reads them: nothing else separates two regions.
    return Accreditation(
        row.address,
        row.name,
        row.scope,
        tuple(r.strip() for r in row.regions.split(",") if r.strip()),
        row.valid_from,
        row.valid_until,
        row.withdrawn,
    )


def accreditations_named(session: Session, name: str) -> list[Accreditation]:
    """The mirrored accreditations of bodies named ``name`` (a name may be reused)."""
    rows = session.scalars(select(AccreditedBody).where(AccreditedBody.name == name))
    return [_accreditation(row) for row in rows]


def accreditations(session: Session) -> list[Accreditation]:
    """Every mirrored accreditation, by name then address: the whitelist, the one list
    that the API, the pages and ``carbonledger bodies`` show."""
    rows = session.scalars(
        select(AccreditedBody).order_by(AccreditedBody.name, AccreditedBody.address)
    )
    return [_accreditation(row) for row in rows]
