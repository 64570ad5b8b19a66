"""One claim per unit at acceptance (docs/RECORDS.md §3.11).

A ``claim`` record is checked against the claims register before it is stored: its source
must be a carbon record or conversion about the same unit and not revoked (revocation
requested or on chain), and the unit must hold no
claim of the regime's exclusivity group (``ledger.core.claims.REGIMES``), neither stored
nor earlier in the same bulk. The one exception is a correction: a claim superseding the
unit's claim of that group takes its place while that claim is not yet anchored; once it
is anchored the claim is final. The register row is written in the same transaction as
the record, and its unique constraint refuses whatever a race lets through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ledger.core.canonical import format_timestamp
from ledger.core.claims import REGIMES
from ledger.core.errors import ConflictError
from ledger.core.records import Record
from ledger.service.revocation import revocation_phrase
from ledger.store import Store
from ledger.store import claims as register
from ledger.store.chainfacts import revocation_of

__all__ = ["ClaimBook", "DoubleClaimError"]

SOURCE_TYPES = ("carbon-record", "factor-substitution")


class DoubleClaimError(ConflictError):
    """The unit already holds a claim that excludes this one (409)."""

    def __init__(self, message: str, *, record_id: str) -> None:
        super().__init__(message)
        self.record_id = record_id


class _Target(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def digest_hex(self) -> str: ...


class ClaimBook:
    """The claims of one acceptance (a single record or a bulk), checked then registered."""

    def __init__(self) -> None:
        self._new: dict[tuple[str, str], register.NewClaim] = {}

    def check(self, session: Any, record: Record, targets: Mapping[str, _Target]) -> None:
        """Refuses a claim that would give its unit a second claim of the group."""
        if record.type != "claim":
            return
        regime = REGIMES[record.body["regime"]]
        source_id = record.body["source"]["id"]
        source = targets.get(source_id)
        if source is None or source.type not in SOURCE_TYPES:
            what = "unknown" if source is None else f"a {source.type}"
            raise DoubleClaimError(
                f"record {record.id}: body.source: a claim rests on a carbon record or a "
                f"conversion, and {source_id} is {what}",
                record_id=record.id,
            )
        revocation = revocation_of(session, source.digest_hex)
        if revocation is not None:
            raise DoubleClaimError(
                f"record {record.id}: body.source: {source_id} is revoked (revocation "
                f"{revocation_phrase(revocation.state)}): a claim cannot rest on a revoked figure",
                record_id=record.id,
            )
        if source.subject != record.subject:
            raise DoubleClaimError(
                f"record {record.id}: body.source: {source_id} is about {source.subject}, "
                f"not the claimed unit {record.subject}",
                record_id=record.id,
            )
        key = (record.subject, regime.group)
        replaces = None
        earlier = self._new.get(key)
        if earlier is not None:
            raise DoubleClaimError(
                f"record {record.id}: unit {record.subject} is claimed into {earlier.regime} by "
                f"{earlier.record_id} earlier in this bulk; {regime.code} excludes it",
                record_id=record.id,
            )
        held = register.find_claim(session, record.subject, regime.group)
        if held is not None:
            link = record.supersedes
            if link is None or link.id != held.record_id:
                raise DoubleClaimError(
                    f"record {record.id}: unit {record.subject} is already claimed into "
                    f"{held.regime} by {held.record_id} (exclusivity group {regime.group}): "
                    "one claim per unit",
                    record_id=record.id,
                )
            if held.status == "anchored":
                raise DoubleClaimError(
                    f"record {record.id}: the claim {held.record_id} it corrects is anchored, "
                    "and an anchored claim is final",
                    record_id=record.id,
                )
            replaces = held.record_id
        self._new[key] = register.NewClaim(
            record_id=record.id,
            unit=record.subject,
            regime=regime.code,
            exclusivity_group=regime.group,
            claimed_at=record.issued_at,
            replaces=replaces,
        )

    def register(self, session: Any, stored: Sequence[str]) -> None:
        """Writes the register rows of the claims among the ``stored`` record ids."""
        ids = set(stored)
        register.add_claims(session, [c for c in self._new.values() if c.record_id in ids])


def claims_of_unit(store: Store, unit: str) -> list[dict[str, Any]]:
    """The register's claims of one unit, oldest first: which regime, by which record,
    and whether the record is anchored yet (then the claim is final)."""
    rows = store.run(lambda s: register.claims_of_units(s, [unit]), readonly=True)
    return [
        {
            "record_id": r.record_id,
            "regime": r.regime,
            "regime_name": REGIMES[r.regime].name,
            "claimed_at": format_timestamp(r.claimed_at),
            "final": r.status == "anchored",
        }
        for r in rows
    ]
