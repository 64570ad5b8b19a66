"""Revocation requests: checked, then stored for the anchorer to write on-chain.

A request names a stored record's digest and a listed reason (``ledger.core.reasons``);
the store keeps it ``pending`` and the anchorer sends AnchorRegistry ``revoke`` through its
outbox (docs/OPERATIONS.md §1), after which the record's status is ``revoked``. Who may ask
is the caller's business (the API: regulators, and producers for their own records with
the reasons a producer may give); what is refused here is what no one may do: an unlisted
reason, or a digest that is revoked or being revoked already (``ConflictError``, nothing
stored, nothing sent).
"""

from __future__ import annotations

from datetime import datetime

from ledger.core.errors import ConflictError, MalformedError
from ledger.core.reasons import Reason
from ledger.store import Store, Transaction
from ledger.store.chainfacts import find_revocation
from ledger.store.chainfacts import request_revocation as store_request

__all__ = ["request_revocation", "revocation_phrase"]


def revocation_phrase(state: str) -> str:
    """How far a revocation has gone, in the words of a refusal: "on chain" once mined,
    "requested, <state>" before."""
    return "on chain" if state == "mined" else f"requested, {state}"


def request_revocation(
    store: Store,
    *,
    digest_hex: str,
    reason: Reason,
    reason_digest_hex: str,
    requested_by: str,
    now: datetime,
) -> None:
    """Store a revocation request of ``digest_hex`` (a stored record's digest)."""
    if len(reason_digest_hex) != 64 or reason_digest_hex.strip("0123456789abcdef"):
        raise MalformedError("expected 64 lowercase hex characters", path="reason_digest")

    def work(session: Transaction) -> None:
        existing = find_revocation(session, digest_hex)
        if existing is not None:
            what = "is revoked" if existing.state == "mined" else "has a revocation in progress"
            raise ConflictError(
                f"record digest {digest_hex} {what} (reason code {existing.reason_code}, "
                f"{existing.state}); nothing was sent"
            )
        store_request(
            session,
            digest_hex=digest_hex,
            reason_code=reason.code,
            reason_digest_hex=reason_digest_hex,
            requested_at=now,
            requested_by=requested_by,
        )

    store.run(work)
