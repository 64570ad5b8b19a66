"""What a producer sends: the submission wire format and its strict parsing (docs/SUBMISSION.md).

A submission is ``{"format": "carbonledger-submission/1", "view": <full view>,
"signature": {key_id, alg, value}}``: the record with the salts the producer drew
(docs/FORMAT.md §2.2, full view as in §2.3) and the producer's Ed25519 signature over its
digest (docs/FORMAT.md §3). A bulk is ``{"format": "carbonledger-submission-batch/1",
"submissions": [submission, ...]}`` with at most ``AcceptLimits.max_bulk_records`` entries.

Nothing here reads the database: it turns bytes into ``ParsedSubmission`` values or
raises ``RefusedRecordError`` naming the record id and the field at fault. The checks that
need the store (keys, references, idempotency) are in ``ledger.service.accept``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.core import jsonshape
from ledger.core.canonical import canonicalize_parsed, json_path, parse_json
from ledger.core.commitment import FieldPath, digest_from_field_hashes
from ledger.core.errors import ConflictError, MalformedError, VerificationError
from ledger.core.records import InvalidRecordError, Record, validate_record
from ledger.core.signature import Signature
from ledger.core.submission import BATCH_FORMAT, SUBMISSION_FORMAT
from ledger.core.view import Commitment, parse_view
from ledger.service.limits import MAX_ID_CHARS, MAX_PRODUCER_CHARS

__all__ = [
    "BATCH_FORMAT",
    "SUBMISSION_FORMAT",
    "AcceptLimits",
    "ParsedSubmission",
    "RecordConflictError",
    "RefusedRecordError",
    "parse_batch",
    "parse_submission",
    "read_submission",
]

_SUBMISSION_MEMBERS = frozenset({"format", "view", "signature"})
_BATCH_MEMBERS = frozenset({"format", "submissions"})


@dataclass(frozen=True)
class AcceptLimits:
    """What one call may carry (documented in docs/SUBMISSION.md §4)."""

    #: Canonical size of one full view (record + salts).
    max_record_bytes: int = 256 * 1024
    #: Submissions in one bulk call.
    max_bulk_records: int = 1000
    #: Size of one request body, single or bulk, as received.
    max_bulk_bytes: int = 32 * 1024 * 1024
    #: How far a record's ``issued_at`` may lie ahead of the service clock.
    max_future_skew_s: int = 300


class RefusedRecordError(MalformedError):
    """A submission the service refuses; nothing of its call is stored.

    ``record_id`` is the record's id (or ``submissions[i]`` when it has none), ``field`` the
    JSON path of the fault relative to the record (``body.lines[3].quantity``,
    ``refs[0].digest``) or to the submission (``signature.value``, ``view.salts[2][1]``),
    ``index`` the position in a bulk (0 for a single submission). ``expected``/``computed``
    carry the evidence of a failed check (a digest, a key id) when there is one.
    """

    def __init__(
        self,
        reason: str,
        *,
        record_id: str,
        field: str,
        index: int = 0,
        expected: Any = None,
        computed: Any = None,
    ) -> None:
        super().__init__(
            reason, path=f"record {record_id}: {field}" if field else f"record {record_id}"
        )
        self.record_id = record_id
        self.field = field
        self.index = index
        self.expected = expected
        self.computed = computed


class RecordConflictError(ConflictError):
    """The record id is taken by a record with another digest (docs/RECORDS.md §1: the id is the
    idempotency key). Names both digests."""

    def __init__(
        self, *, record_id: str, stored_digest_hex: str, submitted_digest_hex: str
    ) -> None:
        super().__init__(
            f"record {record_id}: id already accepted with digest {stored_digest_hex}; this "
            f"submission has digest {submitted_digest_hex} (a changed record needs a new id "
            "and a 'supersedes' link)"
        )
        self.record_id = record_id
        self.stored_digest_hex = stored_digest_hex
        self.submitted_digest_hex = submitted_digest_hex


@dataclass(frozen=True)
class ParsedSubmission:
    """A submission that passed every check that needs no store."""

    index: int
    record: Record
    commitment: Commitment
    digest: bytes
    signature: Signature
    full_view: bytes

    @property
    def record_id(self) -> str:
        return self.record.id

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()


def _name_of(obj: Any, index: int) -> str:
    """The record id to name in a refusal, as far as the raw submission gives one."""
    view = obj.get("view") if isinstance(obj, Mapping) else None
    rid: Any = None
    if isinstance(view, Mapping):
        record = view.get("record")
        if isinstance(record, Mapping):
            rid = record.get("id")
        elif isinstance(view.get("disclosures"), list):
            # A redacted view is refused, but may still disclose the id: [salt, ["id"], id].
            for entry in view["disclosures"]:
                if isinstance(entry, list) and len(entry) == 3 and entry[1] == ["id"]:
                    rid = entry[2]
    if isinstance(rid, str) and 0 < len(rid) <= MAX_ID_CHARS and rid.isprintable():
        return rid
    return f"submissions[{index}]"


def read_submission(obj: Any, *, index: int = 0, limits: AcceptLimits) -> ParsedSubmission:
    """Check one submission, as ``parse_json`` returned it, strictly; raise
    ``RefusedRecordError`` at the first fault."""
    name = _name_of(obj, index)

    def refuse(field: str, reason: str, **evidence: Any) -> RefusedRecordError:
        return RefusedRecordError(reason, record_id=name, field=field, index=index, **evidence)

    if not isinstance(obj, dict):
        raise refuse("", "a submission is a JSON object")
    try:
        jsonshape.members(obj, "", _SUBMISSION_MEMBERS)
    except jsonshape.MemberError as exc:
        raise refuse(json_path([exc.member]), exc.reason) from None
    if obj["format"] != SUBMISSION_FORMAT:
        raise refuse("format", f"expected {SUBMISSION_FORMAT!r}, got {obj['format']!r}")
    try:
        view = parse_view(obj["view"], path="view")
    except MalformedError as exc:
        raise refuse(exc.path, exc.reason) from None
    if not isinstance(view, Commitment):
        raise refuse("view.kind", 'a submission carries the full view ("kind": "full")')
    try:
        # The view was parsed for this submission alone: the record may keep it as it is.
        record = validate_record(view.record, owned=True)
    except InvalidRecordError as exc:
        raise refuse(exc.path, exc.reason) from None
    if len(record.id) > MAX_ID_CHARS:
        raise refuse("id", f"longer than {MAX_ID_CHARS} characters")
    if len(record.producer) > MAX_PRODUCER_CHARS:
        raise refuse("producer", f"longer than {MAX_PRODUCER_CHARS} characters")
    try:
        signature = Signature.from_json(obj["signature"], path="signature")
    except MalformedError as exc:
        raise refuse(exc.path, exc.reason) from None
    try:
        hashes = view.field_hashes()
    except VerificationError as exc:
        path = exc.computed if isinstance(exc.computed, list) else []
        raise refuse(
            "view.salts", f"{exc.message} (path {json_path(path)})", computed=exc.computed
        ) from None
    except MalformedError as exc:
        raise refuse(exc.path or "view.record", exc.reason) from None
    # Salts in canonical pair order (docs/FORMAT.md §2.3), so the stored full view is the
    # same bytes whatever order the producer listed them in. A producer that listed them
    # so (as ``commit`` draws them) sent the full view as it is stored: it is written out
    # as parsed, without rebuilding it pair by pair.
    if len(hashes) == len(view.salts) and all(map(operator.eq, hashes, view.salts)):
        commitment = view
        full_view = canonicalize_parsed(obj["view"])
    else:
        ordered: dict[FieldPath, str] = {p: view.salts[p] for p in hashes}
        commitment = Commitment(view.record, ordered)
        full_view = canonicalize_parsed(commitment.to_json())
    if len(full_view) > limits.max_record_bytes:
        raise refuse(
            "view",
            f"the full view is {len(full_view)} bytes in canonical form; the limit is "
            f"{limits.max_record_bytes}",
        )
    return ParsedSubmission(
        index=index,
        record=record,
        commitment=commitment,
        digest=digest_from_field_hashes(hashes.values()),
        signature=signature,
        full_view=full_view,
    )


def parse_submission(data: bytes, *, limits: AcceptLimits) -> ParsedSubmission:
    """Parse and check one submission from its bytes (RFC 8259 strictly, docs/FORMAT.md §1)."""
    return read_submission(_parse(data, limits), limits=limits)


def parse_batch(data: bytes, *, limits: AcceptLimits) -> list[ParsedSubmission]:
    """Parse and check a bulk from its bytes; the first faulty submission refuses them all."""
    obj = jsonshape.members(_parse(data, limits), "batch", _BATCH_MEMBERS)
    if obj["format"] != BATCH_FORMAT:
        raise MalformedError(
            f"expected {BATCH_FORMAT!r}, got {obj['format']!r}", path="batch.format"
        )
    items = obj["submissions"]
    if not isinstance(items, list) or not items:
        raise MalformedError("expected a non-empty array", path="batch.submissions")
    if len(items) > limits.max_bulk_records:
        raise MalformedError(
            f"{len(items)} submissions; one bulk call carries at most {limits.max_bulk_records}",
            path="batch.submissions",
        )
    return [read_submission(item, index=i, limits=limits) for i, item in enumerate(items)]


def _parse(data: bytes, limits: AcceptLimits) -> Any:
    # The byte limit applies to the whole body; the per-record limit is checked on each view
    # after parsing, so that a refusal can name the record.
    return parse_json(data, max_bytes=limits.max_bulk_bytes)
