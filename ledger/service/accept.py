"""The accept path (docs/SUBMISSION.md, docs/FORMAT.md §5): from a producer's submission to a
stored pending record and the service's signed receipt.

For each submission, in order: strict parse and record validation (``submission.py``);
digest v1 from the producer's salts; the producer key named by the signature must be
registered, belong to the record's ``producer`` and be valid at the record's ``issued_at``
(the store mirrors the TrustRegistry, ``carbonledger keys`` keeps the two in step) and be
granted the record's type; the
Ed25519 signature must verify; every ``refs`` entry must name a stored record, or an
earlier record of the same bulk, with the stated digest; a ``supersedes`` link must name a
record of the same type, subject and producer that nothing supersedes yet; a key revoked
before the submission arrives refuses it whatever ``issued_at`` says; a meter-reading batch
must come from a registered terminal and fit its template and the readings stored before
(``ledger.service.readings``); a record with figures must recompute from the records it
links (``ledger.service.recompute``); and a factor substitution or an equivalence
declaration into a region for which its subject is red-locked is refused
(``ledger.service.locks``, 409; a red risk assessment earlier in the same bulk counts).
All records of a call are then inserted as pending in one transaction, with their receipts, and the
receipts are returned only after the commit (a record is acknowledged only after its
commit, docs/OPERATIONS.md §1).

Idempotency: the record id is the idempotency key. The same id with the same digest
returns the stored receipt, byte for byte (not a new ``accepted_at``); the same id with
another digest raises ``RecordConflictError`` naming both digests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import canonicalize, format_timestamp, parse_json
from ledger.core.clock import Clock
from ledger.core.collector import collector_paused
from ledger.core.errors import MalformedError, SignatureError
from ledger.core.receipt import Receipt, issue_receipt
from ledger.core.records import Record
from ledger.core.signature import verify_signature
from ledger.crashpoints import NO_CRASH, CrashPoints
from ledger.service.claims import ClaimBook
from ledger.service.directory import index_accepted
from ledger.service.evaluations import EvaluationBook
from ledger.service.locks import export_region, refuse_if_locked
from ledger.service.readings import ReadingChecks
from ledger.service.recompute import InputCache, Recomputation
from ledger.service.submission import (
    AcceptLimits,
    ParsedSubmission,
    RecordConflictError,
    RefusedRecordError,
    parse_batch,
    parse_submission,
    read_submission,
)
from ledger.store import ConstraintError, Store, Transaction
from ledger.store import lookups as lookup
from ledger.store.chainmirror import accreditations_named
from ledger.store.producers import is_key_valid_at, may_sign_type
from ledger.store.records import Link, NewRecord, insert_pending_records
from ledger.store.rows import LinkTarget, StoredKey, StoredKeyType
from ledger.store.terminals import add_reading_spans

__all__ = ["AFTER_COMMIT", "LedgerService", "receipt_bytes"]

#: Crash point passed after the commit of accepted records, before any receipt is returned.
AFTER_COMMIT = "accept.after_commit"
# A concurrent accept of the same record wins the race for these (PostgreSQL, READ
# COMMITTED): the loser runs again, and then finds the winner's record (replay or conflict).
_RACE_CONSTRAINTS = frozenset({"uq_records_record_id", "uq_records_digest_hex", ""})
# The record type a link of each relation must point at (docs/RECORDS.md §1); "source" may
# point at any record.
_REL_TYPES: dict[str, tuple[str, ...]] = {
    "factor-set": ("factor-set",),
    "rule": ("region-rule", "rating-rule", "efficiency-grading-rule"),
    "archive": ("bim-archive",),
    "carbon-record": ("carbon-record",),
    "template": ("metadata-template",),
    "benchmark": ("industry-benchmark",),
    "meter-reading": ("meter-reading",),
}


def receipt_bytes(receipt: Receipt) -> bytes:
    """The canonical bytes of a receipt (RFC 8785), as stored and as returned to producers."""
    return canonicalize(receipt.to_json())


#: Refuses a record its submitter may not write, by raising (a LedgerError).
Authorize = Callable[[Record], None]


def _authorized(
    parsed: list[ParsedSubmission], authorize: Authorize | None
) -> list[ParsedSubmission]:
    if authorize is not None:
        for submission in parsed:
            authorize(submission.record)
    return parsed


class LedgerService:
    """The ledger service over core and store. Construct with explicit settings::

    LedgerService(store=store, service_key=key, clock=clock, max_merge_delay_s=600)
    """

    def __init__(
        self,
        *,
        store: Store,
        service_key: Ed25519PrivateKey,
        clock: Clock,
        max_merge_delay_s: int,
        limits: AcceptLimits | None = None,
        crash_points: CrashPoints = NO_CRASH,
    ) -> None:
        if max_merge_delay_s < 0:
            raise MalformedError("must not be negative", path="max_merge_delay_s")
        self.store = store
        self.service_key = service_key
        self.clock = clock
        self.max_merge_delay_s = max_merge_delay_s
        self.limits = limits or AcceptLimits()
        self.crash_points = crash_points
        self.inputs = InputCache()
        self._accepted_count = 0
        self._counting = threading.Lock()

    # -- public entry points ------------------------------------------------------------

    def accept(self, submission: bytes, *, authorize: Authorize | None = None) -> Receipt:
        """Accept one submission (docs/SUBMISSION.md §2); returns its receipt.

        ``authorize(record)`` is called on the strictly parsed record before anything is
        stored and refuses it by raising (the API checks the caller's producer and types).
        """
        with collector_paused():
            parsed = [parse_submission(submission, limits=self.limits)]
            return self._accept(_authorized(parsed, authorize))[0]

    def accept_bulk(self, batch: bytes, *, authorize: Authorize | None = None) -> list[Receipt]:
        """Accept a bulk (docs/SUBMISSION.md §3), all or nothing; receipts in bulk order."""
        with collector_paused():
            parsed = parse_batch(batch, limits=self.limits)
            return self._accept(_authorized(parsed, authorize))

    def accept_values(self, submissions: Sequence[Any]) -> list[Receipt]:
        """Accept already parsed JSON values (strictly parsed by the caller), all or nothing."""
        if not submissions:
            raise MalformedError("expected at least one submission", path="submissions")
        if len(submissions) > self.limits.max_bulk_records:
            raise MalformedError(
                f"{len(submissions)} submissions; one call carries at most "
                f"{self.limits.max_bulk_records}",
                path="submissions",
            )
        with collector_paused():
            parsed = [
                read_submission(s, index=i, limits=self.limits) for i, s in enumerate(submissions)
            ]
            return self._accept(parsed)

    # -- the transaction ----------------------------------------------------------------

    def _accept(self, parsed: list[ParsedSubmission]) -> list[Receipt]:
        for attempt in (1, 2):
            try:
                with self.store.transaction() as session:
                    receipts, inserted = self._admit(session, parsed)
                break
            except ConstraintError as exc:
                if attempt == 2 or exc.constraint not in _RACE_CONSTRAINTS:
                    raise
        if inserted:
            with self._counting:
                self._accepted_count += inserted
            self.crash_points.hit(AFTER_COMMIT)
        return receipts

    @property
    def accepted_count(self) -> int:
        """Records this service inserted since it was made (replays are not counted)."""
        with self._counting:
            return self._accepted_count

    def _admit(
        self, session: Transaction, parsed: list[ParsedSubmission]
    ) -> tuple[list[Receipt], int]:
        """Check ``parsed`` against the store and insert the new ones (caller commits)."""
        now = self.clock()
        ref_ids = {r.id for p in parsed for r in p.record.refs}
        stored, targets = lookup.records_named(session, {p.record_id for p in parsed}, ref_ids)
        signers = lookup.signing_keys(session, {p.signature.key_id for p in parsed})
        keys = {kid: key for kid, (key, _types) in signers.items()}
        key_types = {kid: types for kid, (_key, types) in signers.items()}
        superseded = lookup.superseded_among(
            session, {p.record.supersedes.id for p in parsed if p.record.supersedes}
        )

        receipts: list[Receipt | None] = [None] * len(parsed)
        fresh: dict[str, ParsedSubmission] = {}
        claims = ClaimBook()
        evaluations = EvaluationBook()
        later = {p.record_id: p.index for p in parsed}
        figures = Recomputation(session, cache=self.inputs)
        readings = ReadingChecks(session, parsed, inputs=figures, now=now)
        for p in parsed:
            known = stored.get(p.record_id)
            if known is not None:
                receipts[p.index] = _replay(p, known)
                continue
            twin = fresh.get(p.record_id)
            if twin is not None:
                if twin.digest_hex != p.digest_hex:
                    raise RecordConflictError(
                        record_id=p.record_id,
                        stored_digest_hex=twin.digest_hex,
                        submitted_digest_hex=p.digest_hex,
                    )
                continue  # the same record twice in one bulk: one row, the same receipt
            self._check_signer(session, p, keys.get(p.signature.key_id), now)
            _check_record_type(p, key_types.get(p.signature.key_id, []), now)
            self._check_refs(p, targets, later, superseded)
            readings.check(p)
            inputs = figures.check(p)
            region = export_region(session, p.record, inputs)
            if p.record.type == "equivalence-declaration":
                _check_signing_body(session, p)
            if region is not None:
                # The lock in submission order: a risk assessment earlier in the bulk counts.
                refuse_if_locked(
                    session,
                    p.record.subject,
                    region,
                    what=f"{p.record.type} {p.record_id}",
                    pending=[q.record for q in fresh.values()],
                    index=p.index,
                )
            figures.admitted(p)
            claims.check(session, p.record, targets)
            evaluations.check(session, p.record, index=p.index)
            readings.admitted(p)
            fresh[p.record_id] = p
            targets[p.record_id] = _target_of(p)
            if p.record.supersedes is not None:
                superseded.add(p.record.supersedes.id)

        rows: list[NewRecord] = []
        issued: dict[str, Receipt] = {}
        for p in fresh.values():
            receipt = issue_receipt(
                record_id=p.record_id,
                digest=p.digest,
                accepted_at=now,
                max_merge_delay_s=self.max_merge_delay_s,
                service_key=self.service_key,
            )
            issued[p.record_id] = receipt
            rows.append(_new_row(p, receipt, now))
        if rows:
            inserted = insert_pending_records(session, rows)
            claims.register(session, [r.record_id for r in rows])
            add_reading_spans(session, readings.spans)
            # The directory indexes the pages read, in the same transaction.
            index_accepted(session, [(i.id, fresh[i.record_id].record) for i in inserted])
        out: list[Receipt] = []
        for p, replayed in zip(parsed, receipts, strict=True):
            out.append(replayed if replayed is not None else issued[p.record_id])
        return out, len(rows)

    # -- checks against the store -------------------------------------------------------

    def _check_signer(
        self, session: Transaction, p: ParsedSubmission, key: StoredKey | None, now: datetime
    ) -> None:
        rid, kid = p.record_id, p.signature.key_id

        def refuse(field: str, reason: str, **evidence: Any) -> RefusedRecordError:
            return RefusedRecordError(reason, record_id=rid, field=field, index=p.index, **evidence)

        if key is None:
            if not lookup.producer_exists(session, p.record.producer):
                raise refuse("producer", f"unknown producer {p.record.producer!r}")
            raise refuse("signature.key_id", f"no producer key {kid} is registered")
        if key.producer != p.record.producer:
            if not lookup.producer_exists(session, p.record.producer):
                raise refuse("producer", f"unknown producer {p.record.producer!r}")
            raise refuse(
                "producer",
                f"key {kid} belongs to producer {key.producer!r}, not {p.record.producer!r}",
                expected=key.producer,
                computed=p.record.producer,
            )
        issued_at = p.record.issued_at
        if issued_at > now + timedelta(seconds=self.limits.max_future_skew_s):
            raise refuse(
                "issued_at",
                f"{format_timestamp(issued_at)} lies more than {self.limits.max_future_skew_s} s "
                f"after the service clock ({format_timestamp(now)})",
            )
        if key.revoked_at is not None and key.revoked_at <= now:
            # The trusted time is the acceptance, not the producer's issued_at: a revoked
            # key signs nothing new, however early the record says it was issued.
            raise refuse(
                "signature.key_id",
                f"key {kid} was revoked at {format_timestamp(key.revoked_at)}, before this "
                f"submission was received ({format_timestamp(now)}), whatever issued_at "
                f"({format_timestamp(issued_at)}) says",
            )
        if not is_key_valid_at(key, issued_at):
            raise refuse("signature.key_id", _invalid_window(key, issued_at))
        try:
            verify_signature(bytes.fromhex(key.public_key_hex), p.digest, p.signature)
        except SignatureError as exc:
            raise refuse(
                "signature.value",
                f"the signature does not verify under key {kid} over digest {p.digest_hex}",
                expected=exc.expected,
                computed=exc.computed,
            ) from None

    def _check_refs(
        self,
        p: ParsedSubmission,
        targets: dict[str, LinkTarget],
        later: dict[str, int],
        superseded: set[str],
    ) -> None:
        for i, ref in enumerate(p.record.refs):
            at = f"refs[{i}]"
            target = targets.get(ref.id)
            if target is None:
                if later.get(ref.id, -1) > p.index:
                    raise _refuse(
                        p,
                        f"{at}.id",
                        f"{ref.id} comes later in the same bulk: order the bulk so that "
                        "referenced records come first",
                    )
                raise _refuse(p, f"{at}.id", f"no record {ref.id} is stored (a dangling link)")
            if target.digest_hex != ref.digest:
                raise _refuse(
                    p,
                    f"{at}.digest",
                    f"{ref.id} has digest {target.digest_hex}, the link states {ref.digest}",
                    expected=target.digest_hex,
                    computed=ref.digest,
                )
            allowed = _REL_TYPES.get(ref.rel)
            if allowed is not None and target.type not in allowed:
                raise _refuse(
                    p,
                    f"{at}.id",
                    f"a {ref.rel!r} link must name a {' or '.join(allowed)}; "
                    f"{ref.id} is a {target.type}",
                )
            if ref.rel == "supersedes":
                _check_supersedes(p, f"{at}.id", target, superseded)


def _check_record_type(p: ParsedSubmission, types: list[StoredKeyType], now: datetime) -> None:
    """The key must be granted the record's type now (the TrustRegistry grant the store
    mirrors, docs/CONTRACTS.md §4): who may publish what is an on-chain fact."""
    if may_sign_type(types, p.record.type, now):
        return
    current = sorted(t.record_type for t in types if t.withdrawn_at is None or now < t.withdrawn_at)
    raise _refuse(
        p,
        "type",
        f"key {p.signature.key_id} may not sign {p.record.type} records: the TrustRegistry "
        f"grants it {', '.join(current) if current else 'no record type'}",
        expected=" or ".join(current),
        computed=p.record.type,
    )


def _check_signing_body(session: Transaction, p: ParsedSubmission) -> None:
    """An equivalence declaration is signed by a body the TrustRegistry accredits and
    recognises for the declaration's region when it is issued (the follower's mirror)."""
    body = p.record.body
    name, region = body["signing_body"]["name"], body["region"]
    at = p.record.issued_at
    found = accreditations_named(session, name)
    if any(a.recognises(region, at) for a in found):
        return
    why = (
        "no body of that name is accredited in the TrustRegistry"
        if not found
        else f"its accreditation does not recognise region {region} at {format_timestamp(at)} "
        f"(regions {', '.join(found[0].regions) or 'none'}"
        f"{', withdrawn' if found[0].withdrawn else ''})"
    )
    raise _refuse(
        p, "body.signing_body.name", f"{name!r} may not sign a declaration for {region}: {why}"
    )


def _refuse(p: ParsedSubmission, field: str, reason: str, **evidence: Any) -> RefusedRecordError:
    return RefusedRecordError(reason, record_id=p.record_id, field=field, index=p.index, **evidence)


def _check_supersedes(
    p: ParsedSubmission, field: str, target: LinkTarget, superseded: set[str]
) -> None:
    record = p.record
    if target.type != record.type:
        raise _refuse(p, field, f"{target.record_id} is a {target.type}, this is a {record.type}")
    if target.subject != record.subject:
        raise _refuse(
            p, field, f"{target.record_id} is about {target.subject!r}, not {record.subject!r}"
        )
    if target.producer != record.producer:
        raise _refuse(
            p,
            field,
            f"{target.record_id} was issued by {target.producer!r}; only its producer may "
            "supersede it",
        )
    if target.record_id in superseded:
        raise _refuse(
            p,
            field,
            f"{target.record_id} is already superseded: supersede the latest record instead",
        )


# -- helpers ----------------------------------------------------------------------------


def _replay(p: ParsedSubmission, known: tuple[str, bytes]) -> Receipt:
    digest_hex, stored = known
    if digest_hex != p.digest_hex:
        raise RecordConflictError(
            record_id=p.record_id, stored_digest_hex=digest_hex, submitted_digest_hex=p.digest_hex
        )
    return Receipt.from_json(parse_json(stored))


def _target_of(p: ParsedSubmission) -> LinkTarget:
    r = p.record
    return LinkTarget(r.id, p.digest_hex, r.type, r.subject, r.producer)


def _new_row(p: ParsedSubmission, receipt: Receipt, now: datetime) -> NewRecord:
    r = p.record
    return NewRecord(
        record_id=r.id,
        type=r.type,
        schema_version=r.schema_version,
        subject=r.subject,
        producer=r.producer,
        issued_at=r.issued_at,
        digest_hex=p.digest_hex,
        full_view=p.full_view,
        key_id=p.signature.key_id,
        signature=p.signature.value,
        accepted_at=now,
        receipt=receipt_bytes(receipt),
        refs=tuple(Link(ref.rel, ref.id, ref.digest) for ref in r.refs),
        supersedes=r.supersedes.id if r.supersedes is not None else None,
    )


def _invalid_window(key: StoredKey, at: datetime) -> str:
    when = format_timestamp(at)
    if key.revoked_at is not None and at >= key.revoked_at:
        return (
            f"key {key.key_id} was revoked at {format_timestamp(key.revoked_at)}; the record is "
            f"issued at {when}"
        )
    if at < key.valid_from:
        return (
            f"key {key.key_id} is valid from {format_timestamp(key.valid_from)}; the record is "
            f"issued at {when}, before that"
        )
    until = format_timestamp(key.valid_until) if key.valid_until is not None else "?"
    return f"key {key.key_id} expired at {until}; the record is issued at {when}"
