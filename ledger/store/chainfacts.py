"""Record statuses and attestations: facts that live on the chain, mirrored for reads.

Revocations and supersessions are *written* by the anchorer through its outbox (the same
discipline as anchors, docs/OPERATIONS.md §1): a row is ``pending`` until its transaction is
signed and stored, ``broadcast`` while that transaction is in flight, ``mined`` once the
registry holds the status K blocks deep, and ``failed`` while the chain refuses it (retried
from ``next_attempt_at``, never dropped). The chain follower also *reads* them back: a
status written by someone else directly on the chain arrives as a ``mined`` row with
``source`` ``chain``. Attestations are only read (a body files them from its own address).

The two status tables share their states and moves, so one set of functions serves both,
keyed by ``purpose`` (``revoke`` or ``supersede``, as in the outbox's ``anchor_txs``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ledger.core.errors import MalformedError, NotFoundError
from ledger.store._session import execute, flush, move_state
from ledger.store.anchors import mark_tx_broadcast, txs_of_target
from ledger.store.models import (
    CHAIN_TX_STATES,
    Attestation,
    BatchLeaf,
    Record,
    Revocation,
    Supersession,
)
from ledger.store.rows import StoredAttestation, StoredRevocation, StoredSupersession, copy_row

STATUS_MODELS: dict[str, type[Revocation] | type[Supersession]] = {
    "revoke": Revocation,
    "supersede": Supersession,
}

#: The moves of a status row (compare-and-set, ``move_state``). ``mined → broadcast`` and
#: ``mined → pending`` are a reorg deeper than the confirmations taking the status off the
#: chain again (its own transaction goes out again, or a fresh one is signed).
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("broadcast", "mined", "failed"),
    "broadcast": ("mined", "failed", "pending"),
    "failed": ("broadcast", "mined", "pending", "failed"),
    "mined": ("pending", "broadcast"),
}


@dataclass(frozen=True)
class StatusChange:
    """A status the outbox is to write: ``purpose`` and the row's ``id`` name it."""

    purpose: str
    id: int
    digest_hex: str
    state: str
    attempts: int
    reason_code: int = 0
    reason_digest_hex: str = ""
    successor_digest_hex: str = ""
    successor_seq: int = 0


def _model(purpose: str) -> type[Revocation] | type[Supersession]:
    try:
        return STATUS_MODELS[purpose]
    except KeyError:
        raise MalformedError(f"unknown status purpose {purpose!r}", path="purpose") from None


StatusRow = Revocation | Supersession
#: Digests per ``IN (…)`` query: well under every backend's bound on bound parameters.
_IN_CHUNK = 500


def _rows(session: Session, statement: Any) -> list[StatusRow]:
    """The status rows ``statement`` selects (typed: a select over either status model)."""
    return list(cast(Iterable[StatusRow], session.scalars(statement)))


def _change(purpose: str, row: StatusRow) -> StatusChange:
    if isinstance(row, Revocation):
        return StatusChange(
            purpose, row.id, row.digest_hex, row.state, row.attempts,
            reason_code=row.reason_code, reason_digest_hex=row.reason_digest_hex,
        )  # fmt: skip
    return StatusChange(
        purpose, row.id, row.digest_hex, row.state, row.attempts,
        successor_digest_hex=row.successor_digest_hex, successor_seq=row.successor_seq,
    )  # fmt: skip


# -- requests ---------------------------------------------------------------------------


def request_revocation(
    session: Session,
    *,
    digest_hex: str,
    reason_code: int,
    reason_digest_hex: str,
    requested_at: datetime,
    requested_by: str | None = None,
) -> Revocation:
    """A new revocation request, ``pending``. Raises ``ConstraintError``
    (``uq_revocations_digest_hex``) when the digest has one already."""
    row = Revocation(
        digest_hex=digest_hex,
        reason_code=reason_code,
        reason_digest_hex=reason_digest_hex,
        requested_at=requested_at,
        requested_by=requested_by,
        state="pending",
        source="request",
    )
    session.add(row)
    flush(session)
    return row


def find_revocation(session: Session, digest_hex: str) -> Revocation | None:
    return session.scalars(
        select(Revocation).where(Revocation.digest_hex == digest_hex)
    ).one_or_none()


def find_supersession(session: Session, digest_hex: str) -> Supersession | None:
    return session.scalars(
        select(Supersession).where(Supersession.digest_hex == digest_hex)
    ).one_or_none()


def queue_supersessions(session: Session, seq: int | None, *, at: datetime) -> int:
    """Queue "superseded by" for every record of batch ``seq`` that supersedes another
    (called in the transaction that records the batch as anchored); ``seq=None``: of every
    anchored record, for those anchored before the anchorer wrote supersessions. Returns
    how many were queued."""
    query = (
        select(Record.digest_hex, Record.supersedes, BatchLeaf.batch_seq)
        .join(BatchLeaf, BatchLeaf.digest_hex == Record.digest_hex)
        .where(Record.supersedes.is_not(None))
    )
    if seq is None:
        query = query.where(Record.status == "anchored").order_by(Record.id)
    else:
        query = query.where(Record.batch_seq == seq)
    rows = session.execute(query).all()
    queued = 0
    for successor_hex, predecessor_id, batch_seq in rows:
        predecessor = session.scalar(
            select(Record.digest_hex).where(Record.record_id == predecessor_id)
        )
        if predecessor is None or find_supersession(session, str(predecessor)) is not None:
            continue
        session.add(
            Supersession(
                digest_hex=str(predecessor),
                successor_digest_hex=str(successor_hex),
                successor_seq=int(batch_seq),
                requested_at=at,
                state="pending",
                source="request",
            )
        )
        queued += 1
    flush(session)
    return queued


# -- the outbox's view --------------------------------------------------------------------


def due_status_changes(session: Session, *, now: datetime, limit: int) -> list[StatusChange]:
    """Statuses to send now, oldest request first: ``pending`` ones, and ``failed`` ones
    whose back-off has passed."""
    out: list[tuple[datetime, StatusChange]] = []
    for purpose, model in STATUS_MODELS.items():
        rows = _rows(
            session,
            select(model)
            .where(
                or_(
                    model.state == "pending",
                    (model.state == "failed")
                    & or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
                )
            )
            .order_by(model.requested_at, model.id)
            .limit(limit),
        )
        out += [(row.requested_at, _change(purpose, row)) for row in rows]
    out.sort(key=lambda pair: (pair[0], pair[1].purpose, pair[1].id))
    return [change for _, change in out[:limit]]


def status_changes_in_flight(session: Session) -> list[StatusChange]:
    """Statuses whose transaction is signed and stored, not yet K blocks deep."""
    out = []
    for purpose, model in STATUS_MODELS.items():
        rows = _rows(session, select(model).where(model.state == "broadcast").order_by(model.id))
        out += [_change(purpose, row) for row in rows]
    return out


def get_status_change(session: Session, purpose: str, id_: int) -> StatusChange:
    row = cast(StatusRow | None, session.get(_model(purpose), id_))
    if row is None:
        raise NotFoundError(f"no {purpose} status {id_}")
    return _change(purpose, row)


def _move(session: Session, purpose: str, id_: int, to: str, **values: Any) -> None:
    model = _model(purpose)
    move_state(
        session,
        model.id,
        id_,
        transitions=STATUS_TRANSITIONS,
        to=to,
        what=f"{purpose} status {id_}",
        **values,
    )


def mark_status_sending(session: Session, purpose: str, id_: int) -> None:
    """Its transaction is signed and stored (in the same transaction as this move)."""
    model = _model(purpose)
    _move(session, purpose, id_, "broadcast", attempts=model.attempts + 1, last_error=None)


def mark_status_mined(
    session: Session,
    purpose: str,
    id_: int,
    *,
    tx_hash: str | None,
    block_number: int,
    block_hash: str | None,
    at: datetime,
    **chain_values: Any,
) -> None:
    """The registry holds the status K blocks deep (``at`` is that block's timestamp);
    ``chain_values`` overwrite what the chain says differently (the reason code of a
    revocation someone else made first)."""
    when = "revoked_at" if purpose == "revoke" else "superseded_at"
    _move(
        session, purpose, id_, "mined",
        tx_hash=tx_hash, block_number=block_number, block_hash=block_hash,
        last_error=None, next_attempt_at=None, **{when: at}, **chain_values,
    )  # fmt: skip


def mark_status_failed(
    session: Session,
    purpose: str,
    id_: int,
    *,
    error: str,
    retry_at: datetime,
    count_attempt: bool,
) -> None:
    """The chain refuses it: kept, retried from ``retry_at``. ``count_attempt`` when no
    transaction was sent (a refusal at estimation is an attempt of its own)."""
    model = _model(purpose)
    extra: dict[str, Any] = {"attempts": model.attempts + 1} if count_attempt else {}
    _move(session, purpose, id_, "failed", last_error=error, next_attempt_at=retry_at, **extra)


def mark_status_pending(session: Session, purpose: str, id_: int, *, reason: str) -> None:
    """Back to waiting for a fresh transaction (its nonce went to another, or a deep reorg
    took the status off the chain)."""
    _move(
        session, purpose, id_, "pending",
        last_error=reason, tx_hash=None, block_number=None, block_hash=None,
    )  # fmt: skip


# -- the follower's view --------------------------------------------------------------------


@dataclass(frozen=True)
class MinedAt:
    """Where the follower read a fact: transaction, block and that block's timestamp."""

    tx_hash: str
    block_number: int
    block_hash: str
    at: datetime


def _mirror_status(
    session: Session, purpose: str, digest_hex: str, values: dict[str, Any], mined: MinedAt
) -> None:
    """A status read from the chain: a new ``chain`` row, or the request it settles (with
    the chain's ``values``). A request whose transaction is in flight is the outbox's."""
    model = _model(purpose)
    row = cast(
        StatusRow | None,
        session.scalars(select(model).where(model.digest_hex == digest_hex)).one_or_none(),
    )
    when = "revoked_at" if purpose == "revoke" else "superseded_at"
    if row is None:
        session.add(
            model(
                digest_hex=digest_hex, requested_at=mined.at, state="mined", source="chain",
                tx_hash=mined.tx_hash, block_number=mined.block_number,
                block_hash=mined.block_hash, **{when: mined.at}, **values,
            )
        )  # fmt: skip
        flush(session)
    elif row.state in ("pending", "failed"):
        mark_status_mined(
            session, purpose, row.id, tx_hash=mined.tx_hash, block_number=mined.block_number,
            block_hash=mined.block_hash, at=mined.at, **values,
        )  # fmt: skip


def mirror_revocation(
    session: Session, *, digest_hex: str, reason_code: int, reason_digest_hex: str, mined: MinedAt
) -> None:
    """A ``DigestRevoked`` read from the chain."""
    values = {"reason_code": reason_code, "reason_digest_hex": reason_digest_hex}
    _mirror_status(session, "revoke", digest_hex, values, mined)


def mirror_supersession(
    session: Session, *, digest_hex: str, successor_hex: str, successor_seq: int, mined: MinedAt
) -> None:
    """A ``DigestSuperseded`` read from the chain."""
    values = {"successor_digest_hex": successor_hex, "successor_seq": successor_seq}
    _mirror_status(session, "supersede", digest_hex, values, mined)


def unmirror_statuses_above(
    session: Session, block_number: int, *, at: datetime
) -> list[StatusChange]:
    """A reorg deeper than the confirmations: statuses mined above ``block_number`` are
    off the chain. ``chain`` rows go (the follower reads them again if they come back).
    A requested one whose own transaction was mined goes back in flight with it, as the
    outbox does for a shallow reorg (the same bytes go out again); one the chain had
    settled otherwise goes back to ``pending`` and is sent. Returns those reopened."""
    reopened = []
    for purpose, model in STATUS_MODELS.items():
        execute(
            session,
            delete(model)
            .where(model.source == "chain", model.block_number > block_number)
            .execution_options(synchronize_session=False),
        )
        rows = _rows(
            session, select(model).where(model.state == "mined", model.block_number > block_number)
        )
        for row in rows:
            own = [t for t in txs_of_target(session, purpose, row.id) if t.state == "mined"]
            if own:
                for tx in own:
                    mark_tx_broadcast(session, tx.tx_hash, at=at)
                _move(
                    session, purpose, row.id, "broadcast",
                    last_error="a reorg took it off the chain", block_number=None,
                    block_hash=None,
                )  # fmt: skip
            else:
                mark_status_pending(
                    session, purpose, row.id, reason="a reorg took it off the chain"
                )
            reopened.append(_change(purpose, row))
    return reopened


# -- attestations ---------------------------------------------------------------------------


def add_attestation(
    session: Session,
    *,
    digest_hex: str,
    attester: str,
    report_digest_hex: str,
    verdict: str,
    observed_at: datetime,
    state: str = "mined",
    tx_hash: str | None = None,
    block_number: int | None = None,
) -> Attestation:
    if state not in CHAIN_TX_STATES:
        raise MalformedError(f"unknown state {state!r}", path="state")
    row = Attestation(
        digest_hex=digest_hex,
        attester=attester,
        report_digest_hex=report_digest_hex,
        verdict=verdict,
        observed_at=observed_at,
        state=state,
        tx_hash=tx_hash,
        block_number=block_number,
        source="request",
    )
    session.add(row)
    flush(session)
    return row


def attestations_of(
    session: Session, digest_hex: str, *, limit: int | None = None
) -> list[StoredAttestation]:
    """The attestations of a record digest, in the order they were noted."""
    query = select(Attestation).where(Attestation.digest_hex == digest_hex).order_by(Attestation.id)
    if limit is not None:
        query = query.limit(limit)
    return [copy_row(StoredAttestation, a) for a in session.scalars(query)]


def revocation_of(session: Session, digest_hex: str) -> StoredRevocation | None:
    """The revocation of a record digest, if one was requested (or found on-chain)."""
    row = find_revocation(session, digest_hex)
    return None if row is None else copy_row(StoredRevocation, row)


def supersession_of(session: Session, digest_hex: str) -> StoredSupersession | None:
    """The registry's supersession status of a record digest, if one is queued or held."""
    row = find_supersession(session, digest_hex)
    return None if row is None else copy_row(StoredSupersession, row)


def mirror_attestation(
    session: Session,
    *,
    digest_hex: str,
    body_address: str,
    report_digest_hex: str,
    verdict: str,
    index: int,
    mined: MinedAt,
) -> None:
    """An ``AttestationFiled`` read from the chain. It settles the auditor's note of it when
    there is one (same transaction hash, or the same digest, report and verdict still
    ``pending``); otherwise it becomes a ``chain`` row naming the body's address."""
    found = session.scalars(
        select(Attestation).where(
            Attestation.digest_hex == digest_hex, Attestation.attestation_index == index
        )
    ).first()
    if found is not None:
        return  # read before (a restart between the write and the cursor's move)
    note = session.scalars(
        select(Attestation)
        .where(
            Attestation.digest_hex == digest_hex,
            Attestation.state != "mined",
            or_(
                Attestation.tx_hash == mined.tx_hash,
                (Attestation.report_digest_hex == report_digest_hex)
                & (Attestation.verdict == verdict)
                & Attestation.tx_hash.is_(None),
            ),
        )
        .order_by(Attestation.id)
    ).first()
    values = {
        "state": "mined",
        "tx_hash": mined.tx_hash,
        "block_number": mined.block_number,
        "block_hash": mined.block_hash,
        "filed_at": mined.at,
        "body_address": body_address,
        "attestation_index": index,
    }
    if note is not None:
        for name, value in values.items():
            setattr(note, name, value)
    else:
        session.add(
            Attestation(
                digest_hex=digest_hex, attester=body_address,
                report_digest_hex=report_digest_hex, verdict=verdict, observed_at=mined.at,
                source="chain", **values,
            )
        )  # fmt: skip
    flush(session)


def unmirror_attestations_above(session: Session, block_number: int) -> None:
    execute(
        session,
        delete(Attestation)
        .where(Attestation.source == "chain", Attestation.block_number > block_number)
        .execution_options(synchronize_session=False),
    )
    execute(
        session,
        update(Attestation)
        .where(Attestation.source == "request", Attestation.block_number > block_number)
        .values(
            state="pending", block_number=None, block_hash=None, filed_at=None,
            attestation_index=None, body_address=None,
        )
        .execution_options(synchronize_session=False),
    )  # fmt: skip


def withdrawn_among(session: Session, digest_hexes: Collection[str]) -> set[str]:
    """The digests among ``digest_hexes`` that the registry holds revoked or superseded
    (status ``mined``): what a record status calls ``revoked`` or ``superseded`` from the
    chain, read at once for many records (the risk assessments an export lock weighs)."""
    out: set[str] = set()
    wanted = list(dict.fromkeys(digest_hexes))
    for model in STATUS_MODELS.values():
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = session.scalars(
                select(model.digest_hex).where(model.digest_hex.in_(chunk), model.state == "mined")
            )
            out.update(str(r) for r in rows)
    return out


def count_statuses(session: Session) -> dict[str, dict[str, int]]:
    """Status rows by purpose and state (for ``carbonledger status`` and metrics)."""
    out: dict[str, dict[str, int]] = {}
    for purpose, model in STATUS_MODELS.items():
        counts = dict.fromkeys(CHAIN_TX_STATES, 0)
        for state, n in session.execute(select(model.state, func.count()).group_by(model.state)):
            counts[str(state)] = int(n)
        out[purpose] = counts
    return out


__all__ = [
    "STATUS_MODELS",
    "MinedAt",
    "StatusChange",
    "add_attestation",
    "attestations_of",
    "count_statuses",
    "due_status_changes",
    "find_revocation",
    "find_supersession",
    "get_status_change",
    "mark_status_failed",
    "mark_status_mined",
    "mark_status_pending",
    "mark_status_sending",
    "mirror_attestation",
    "mirror_revocation",
    "mirror_supersession",
    "queue_supersessions",
    "request_revocation",
    "revocation_of",
    "status_changes_in_flight",
    "supersession_of",
    "unmirror_attestations_above",
    "unmirror_statuses_above",
    "withdrawn_among",
]
