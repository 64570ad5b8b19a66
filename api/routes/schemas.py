"""Request and response models of the API (published in the OpenAPI document).

Response models mirror the JSON ``api.routes.payloads`` makes of the ledger service's read
models; the record view itself is an open object (docs/FORMAT.md §2.3 defines it, and its
fields differ per record type).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.service.limits import MAX_ID_CHARS, MAX_PRINCIPAL_CHARS, MAX_PRODUCER_CHARS

HEX64 = r"^[0-9a-f]{64}$"
TX_HASH = r"^0x[0-9a-f]{64}$"

RecordType = Literal[
    "carbon-record",
    "factor-set",
    "region-rule",
    "factor-substitution",
    "rating-rule",
    "credit-change",
    "bim-archive",
    "risk-assessment",
    "equivalence-declaration",
    "claim",
    "meter-reading",
    "metadata-template",
    "industry-benchmark",
    "efficiency-grading-rule",
    "carbon-efficiency",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptOut(Strict):
    format: str
    record_id: str
    digest: str
    accepted_at: str
    anchor_by: str
    service_key_id: str
    signature: str


class ReceiptsOut(Strict):
    receipts: list[ReceiptOut]


class SignatureOut(Strict):
    key_id: str
    alg: str
    value: str


class RecordSummary(Strict):
    record_id: str
    type: str
    schema_version: str
    subject: str
    producer: str
    issued_at: str | None
    accepted_at: str | None
    digest: str
    status: Literal["pending", "batched", "anchored"]
    batch_seq: int | None


class RecordOut(RecordSummary):
    view: dict[str, Any]
    signature: SignatureOut


class BatchOut(Strict):
    seq: int
    state: str
    root: str
    leaf_count: int
    manifest_digest: str
    manifest_cid: str
    created_at: str | None
    anchored_at: str | None
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    log_hash: str | None


class BatchDetailOut(BatchOut):
    manifest: dict[str, Any]


class BatchPage(Strict):
    items: list[BatchOut]
    next_after: int | None


class ReasonOut(Strict):
    code: int
    slug: str | None
    en: str
    zh: str


class RevocationOut(Strict):
    state: str
    reason_code: int
    reason_digest: str
    requested_at: str | None
    tx_hash: str | None
    block_number: int | None
    reason: ReasonOut
    source: Literal["request", "chain"]
    revoked_at: str | None
    last_error: str | None


class SupersessionOut(Strict):
    state: str
    successor_digest: str
    successor_seq: int
    tx_hash: str | None
    block_number: int | None
    superseded_at: str | None


class StateFields(Strict):
    state: Literal["pending", "batched", "anchored", "revoked", "superseded"]
    anchoring: Literal["pending", "batched", "anchored"]
    batch: BatchOut | None
    revocation: RevocationOut | None
    supersedes: str | None
    superseded_by: list[str]
    supersession: SupersessionOut | None


class StatusOut(RecordSummary, StateFields):
    receipt: dict[str, Any] | None


class RefOut(Strict):
    rel: str
    id: str
    digest: str | None


class ReferrerOut(Strict):
    rel: str
    record_id: str
    type: str


class TrailEntry(RecordSummary, StateFields):
    refs: list[RefOut]
    referenced_by: list[ReferrerOut]
    cursor: int


class TrailPage(Strict):
    subject: str
    items: list[TrailEntry]
    next_after: int | None


class AttestationOut(Strict):
    digest: str
    attester: str
    report_digest: str
    verdict: str
    observed_at: str | None
    state: str
    tx_hash: str | None
    block_number: int | None
    source: Literal["request", "chain"]
    body: str | None
    index: int | None
    filed_at: str | None


class AttestationsOut(Strict):
    record_id: str
    items: list[AttestationOut]


class AttestationIn(Strict):
    record_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    report_digest: str = Field(pattern=HEX64, description="SHA-256 of the verification report")
    verdict: Literal["conforms", "conforms-with-findings", "does-not-conform"]
    tx_hash: str | None = Field(default=None, pattern=TX_HASH)


class RevocationIn(Strict):
    record_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    reason_code: int = Field(ge=1, le=65535, description="AnchorRegistry reason code (uint16)")
    reason_digest: str = Field(pattern=HEX64, description="SHA-256 of the reason document")


class PrincipalIn(Strict):
    name: str = Field(min_length=1, max_length=MAX_PRINCIPAL_CHARS, pattern=r"^[A-Za-z0-9._:@-]+$")
    role: Literal[
        "producer",
        "auditor",
        "regulator",
        "admin",
        "enterprise",
        "bidder",
        "financial-institution",
    ]
    producer: str | None = Field(default=None, min_length=1, max_length=MAX_PRODUCER_CHARS)
    record_types: list[RecordType] = Field(default_factory=list, max_length=16)
    grants: list[str] = Field(default_factory=list, max_length=1000)


class PrincipalOut(Strict):
    name: str
    role: str
    producer: str | None
    record_types: list[str]
    grants: list[str]
    created_at: str
    disabled_at: str | None


class PrincipalList(Strict):
    items: list[PrincipalOut]


class KeyOut(Strict):
    key_id: str
    principal: str
    api_key: str = Field(description="shown once; only its hash is stored")


class ApiKeyOut(Strict):
    key_id: str
    principal: str
    created_at: str
    revoked_at: str | None


class KeyRequestOut(Strict):
    request_id: str
    principal: str
    requested_by: str
    requested_at: str
    expires_at: str
    state: Literal["pending", "confirmed", "cancelled"]


class KeyRequestList(Strict):
    items: list[KeyRequestOut]


class AuditEventOut(Strict):
    id: int
    at: str
    kind: str
    actor: str
    principal: str | None
    key_id: str | None
    target: str | None


class AuditPage(Strict):
    items: list[AuditEventOut]
    next_after: int | None


class ChainOut(Strict):
    chain_id: int
    anchor_registry: str
    trust_registry: str


class ServiceOut(Strict):
    format: str
    alg: str
    public_key: str | None
    service_key_id: str | None
    max_merge_delay_s: int | None
    chain: ChainOut | None


class HealthOut(Strict):
    status: str


class ReadyOut(Strict):
    ready: bool
    checks: dict[str, str]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None


_PROBLEM_SCHEMA = Problem.model_json_schema()
_DESCRIPTIONS = {
    401: "no or an unknown API key",
    403: "the caller's role may not call this operation",
    404: "not found (or not visible to the caller)",
    409: "conflicts with the stored state",
    413: "request body too large",
    415: "the body is not application/json",
    422: "malformed request",
    503: "a dependency is unavailable; retry after Retry-After seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems an operation can answer with
    (every operation may also answer 413 and 500)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 413, 422, 500}):
        out[status] = {
            "description": _DESCRIPTIONS.get(status, "internal error (a correlation id)"),
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
    return out
