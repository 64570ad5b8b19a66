"""The JSON of the read routes, made from the ledger service's read models
(``ledger.service.readmodels``): the one place a read model becomes JSON. The shapes are
the response models of ``api.routes.schemas`` (docs/API.md §3); timestamps are RFC 3339
UTC with ``Z``, digests lowercase hex.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp
from ledger.core.reasons import describe_reason
from ledger.service.readmodels import (
    BatchDetail,
    RecordState,
    RecordStatus,
    RecordSummary,
    RecordView,
    StoredAttestation,
    StoredBatch,
    StoredRevocation,
    StoredSupersession,
    TrailEntry,
)

__all__ = [
    "attestation_json",
    "batch_detail_json",
    "batch_json",
    "record_json",
    "status_json",
    "trail_entry_json",
]


def _ts(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def summary_json(s: RecordSummary) -> dict[str, Any]:
    return {
        "record_id": s.record_id,
        "type": s.type,
        "schema_version": s.schema_version,
        "subject": s.subject,
        "producer": s.producer,
        "issued_at": _ts(s.issued_at),
        "accepted_at": _ts(s.accepted_at),
        "digest": s.digest_hex,
        "status": s.status,
        "batch_seq": s.batch_seq,
    }


def batch_json(b: StoredBatch) -> dict[str, Any]:
    return {
        "seq": b.seq,
        "state": b.state,
        "root": b.root_hex,
        "leaf_count": b.leaf_count,
        "manifest_digest": b.manifest_digest_hex,
        "manifest_cid": b.manifest_cid,
        "created_at": _ts(b.created_at),
        "anchored_at": _ts(b.anchored_at),
        "tx_hash": b.tx_hash,
        "block_number": b.anchored_block_number,
        "block_hash": b.anchored_block_hash,
        "log_hash": b.log_hash_hex,
    }


def batch_detail_json(d: BatchDetail) -> dict[str, Any]:
    return {**batch_json(d.batch), "manifest": d.manifest}


def _revocation_json(r: StoredRevocation) -> dict[str, Any]:
    return {
        "state": r.state,
        "reason_code": r.reason_code,
        "reason_digest": r.reason_digest_hex,
        "requested_at": _ts(r.requested_at),
        "tx_hash": r.tx_hash,
        "block_number": r.block_number,
        "reason": describe_reason(r.reason_code),
        "source": r.source,
        "revoked_at": _ts(r.revoked_at),
        "last_error": r.last_error,
    }


def _supersession_json(s: StoredSupersession) -> dict[str, Any]:
    return {
        "state": s.state,
        "successor_digest": s.successor_digest_hex,
        "successor_seq": s.successor_seq,
        "tx_hash": s.tx_hash,
        "block_number": s.block_number,
        "superseded_at": _ts(s.superseded_at),
    }


def _state_json(s: RecordState) -> dict[str, Any]:
    return {
        "state": s.state,
        "anchoring": s.anchoring,
        "batch": None if s.batch is None else batch_json(s.batch),
        "revocation": None if s.revocation is None else _revocation_json(s.revocation),
        "supersedes": s.supersedes,
        "superseded_by": list(s.superseded_by),
        "supersession": None if s.supersession is None else _supersession_json(s.supersession),
    }


def record_json(r: RecordView) -> dict[str, Any]:
    return {
        **summary_json(r.summary),
        "view": r.view.to_json(),
        "signature": r.signature.to_json(),
    }


def status_json(s: RecordStatus) -> dict[str, Any]:
    return {
        **summary_json(s.summary),
        **_state_json(s.state),
        "receipt": None if s.receipt is None else s.receipt.to_json(),
    }


def trail_entry_json(e: TrailEntry) -> dict[str, Any]:
    return {
        **summary_json(e.summary),
        **_state_json(e.state),
        "refs": [
            {"rel": link.rel, "id": link.ref_id, "digest": link.ref_digest_hex} for link in e.refs
        ],
        "referenced_by": [
            {"rel": r.rel, "record_id": r.record_id, "type": r.type} for r in e.referenced_by
        ],
        "cursor": e.cursor,
    }


def attestation_json(a: StoredAttestation) -> dict[str, Any]:
    return {
        "digest": a.digest_hex,
        "attester": a.attester,
        "report_digest": a.report_digest_hex,
        "verdict": a.verdict,
        "observed_at": _ts(a.observed_at),
        "state": a.state,
        "tx_hash": a.tx_hash,
        "block_number": a.block_number,
        "source": a.source,
        "body": a.body_address,
        "index": a.attestation_index,
        "filed_at": _ts(a.filed_at),
    }
