"""One claim per unit (docs/RECORDS.md §3.11): the claims register.

Each accepted ``claim`` record puts one row here, in the transaction that accepts it:
the unit (the record's subject), the regime and the regime's exclusivity group
(``ledger.core.claims.REGIMES``). The pair (unit, group) is unique, so the store itself
refuses a second claim of a unit into the same regime, or into another regime of the same
group, even when two acceptances race; the accept path reports it as a conflict naming the
first claim. A claim is final once its record is anchored; a claim record revoked on-chain
still holds its place (a revocation withdraws the fact, it does not free the unit for a
second declaration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.store._session import flush
from ledger.store.models import Base, Record

__all__ = ["ClaimRow", "NewClaim", "add_claims", "claims_of_units", "find_claim"]


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("unit", "exclusivity_group"),)

    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(400), index=True)
    regime: Mapped[str] = mapped_column(String(32))
    exclusivity_group: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime]


@dataclass(frozen=True)
class NewClaim:
    record_id: str
    unit: str
    regime: str
    exclusivity_group: str
    claimed_at: datetime
    #: The claim record this one supersedes (not yet anchored): it gives up its place.
    replaces: str | None = None


@dataclass(frozen=True)
class ClaimRow:
    record_id: str
    digest_hex: str
    unit: str
    regime: str
    exclusivity_group: str
    claimed_at: datetime
    status: str
    producer: str


def find_claim(session: Session, unit: str, exclusivity_group: str) -> ClaimRow | None:
    """The claim holding (unit, group), if any."""
    row = session.execute(
        select(Claim, Record)
        .join(Record, Record.id == Claim.record_pk)
        .where(Claim.unit == unit, Claim.exclusivity_group == exclusivity_group)
    ).one_or_none()
    return None if row is None else _row(*row)


def add_claims(session: Session, claims: Sequence[NewClaim]) -> None:
    """Registers the claims of records stored in this transaction; ``ConstraintError``
    (``uq_claims_unit_exclusivity_group``) when a unit already holds a claim of the group."""
    if not claims:
        return
    found = session.execute(
        select(Record.record_id, Record.id).where(
            Record.record_id.in_([c.record_id for c in claims])
        )
    )
    pks = {str(record_id): int(pk) for record_id, pk in found}
    replaced = [c.replaces for c in claims if c.replaces is not None]
    if replaced:
        old = list(
            session.scalars(
                select(Claim)
                .join(Record, Record.id == Claim.record_pk)
                .where(Record.record_id.in_(replaced))
            )
        )
        for row in old:
            session.delete(row)
        flush(session)
    for c in claims:
        session.add(
            Claim(
                record_pk=pks[c.record_id],
                unit=c.unit,
                regime=c.regime,
                exclusivity_group=c.exclusivity_group,
                claimed_at=c.claimed_at,
            )
        )
    flush(session)


def claims_of_units(session: Session, units: Sequence[str]) -> list[ClaimRow]:
    """Every claim of the given units, in acceptance order."""
    if not units:
        return []
    rows = session.execute(
        select(Claim, Record)
        .join(Record, Record.id == Claim.record_pk)
        .where(Claim.unit.in_(list(units)))
        .order_by(Record.id)
    )
    return [_row(c, r) for c, r in rows]


def _row(c: Claim, r: Record) -> ClaimRow:
    return ClaimRow(
        record_id=r.record_id,
        digest_hex=r.digest_hex,
        unit=c.unit,
        regime=c.regime,
        exclusivity_group=c.exclusivity_group,
        claimed_at=c.claimed_at,
        status=r.status,
        producer=r.producer,
    )
