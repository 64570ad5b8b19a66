"""Request and response models of the registry's operations (docs/API.md §3.6, §3.7).

Nested values are open objects where their fields follow a record (a rating's scores, a
facet of a record); the fields every answer carries are typed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.service.limits import MAX_SUBJECT_CHARS
from ledger.store.grants import MAX_GRANT_DAYS, MAX_PURPOSE_CHARS, MIN_PURPOSE_CHARS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchHitOut(_Strict):
    kind: Literal["enterprise", "equipment", "record", "batch"]
    key: str
    label: str | None
    detail: str | None
    href: str


class SearchOut(_Strict):
    query: str
    read_as: str
    normalised: str
    hits: list[SearchHitOut]


class EnterpriseOut(_Strict):
    id: str
    name: str | None
    name_en: str | None
    name_zh: str | None
    region: str | None
    grade: str | None
    rated_at: str | None
    warning_since: str | None
    rectification_deadline: str | None
    rectified_at: str | None
    warning: str | None
    risk: str | None
    equipment: int


class EnterprisePage(_Strict):
    items: list[EnterpriseOut]
    page: int
    limit: int
    total: int
    pages: int


class EvaluationPeriodOut(_Strict):
    start: str
    end: str


class CarbonEfficiencyOut(_Strict):
    """The enterprise's latest carbon-efficiency evaluation (docs/RECORDS.md §3.16)."""

    record_id: str
    digest: str
    period: EvaluationPeriodOut
    grade: int | None
    level: str | None
    state: str
    page_url: str
    code_url: str


class EnterpriseDetailOut(_Strict):
    enterprise: dict[str, Any]
    ratings: list[dict[str, Any]]
    equipment: list[dict[str, Any]]
    conversions: list[dict[str, Any]]
    risks: list[dict[str, Any]]
    attestations: list[dict[str, Any]]
    carbon_efficiency: CarbonEfficiencyOut | None = None


class EnterpriseIn(_Strict):
    name_en: str | None = Field(default=None, min_length=1, max_length=400)
    name_zh: str | None = Field(default=None, min_length=1, max_length=400)
    region: str | None = Field(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$"
    )
    handle_prefixes: list[str] = Field(default_factory=list, max_length=20)


class EquipmentOut(_Strict):
    subject: str
    name: str | None
    enterprise_id: str | None
    cn_code: str | None
    total: str | None
    unit: str | None
    risk: str | None
    records: int
    last_issued_at: str | None


class EquipmentPage(_Strict):
    items: list[EquipmentOut]
    page: int
    limit: int
    total: int
    pages: int


class EquipmentDetailOut(_Strict):
    equipment: EquipmentOut
    enterprise: dict[str, Any] | None
    identifiers: list[dict[str, str]]
    footprint: dict[str, Any] | None
    conversions: list[dict[str, Any]]
    risks: list[dict[str, Any]]


class WarningOut(_Strict):
    id: str
    name: str | None
    name_en: str | None
    name_zh: str | None
    region: str | None
    grade: str | None
    rated_at: str | None
    warning_since: str | None
    rectification_deadline: str | None
    rectified_at: str | None
    status: Literal["listed", "overdue", "rectified"]
    days_left: int | None
    warning_record_id: str | None
    rectified_record_id: str | None


class WarningPage(_Strict):
    items: list[WarningOut]
    page: int
    limit: int
    total: int
    pages: int


class BodyOut(_Strict):
    address: str
    name: str
    scope: str
    regions: list[str]
    valid_from: str | None
    valid_until: str | None
    withdrawn: bool
    valid_now: bool


class WhitelistOut(_Strict):
    region: str | None
    items: list[BodyOut]


class DocumentOut(_Strict):
    record_id: str
    type: str
    subject: str
    state: str


class DocumentsOut(_Strict):
    sha256: str
    items: list[DocumentOut]


class AccessRequestIn(_Strict):
    enterprise_id: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    scope: Literal["ratings", "carbon", "all"]
    purpose: str = Field(min_length=MIN_PURPOSE_CHARS, max_length=MAX_PURPOSE_CHARS)
    days: int = Field(ge=1, le=MAX_GRANT_DAYS)


class DecisionIn(_Strict):
    approve: bool
    note: str | None = Field(default=None, max_length=MAX_PURPOSE_CHARS)


class GrantOut(_Strict):
    request_id: str
    requester: str
    requester_role: str
    enterprise_id: str
    scope: str
    purpose: str
    days: int
    requested_at: str | None
    state: Literal["pending", "approved", "refused", "revoked", "withdrawn", "expired"]
    decided_by: str | None
    decided_as: str | None
    decided_at: str | None
    valid_until: str | None
    note: str | None
    ended_by: str | None
    ended_at: str | None


class GrantsOut(_Strict):
    items: list[GrantOut]


class LogEntryOut(_Strict):
    id: int
    at: str | None
    principal: str
    role: str
    channel: str
    action: str
    target: str
    subject: str
    enterprise_id: str | None
    basis: str
    records: int


class AccessLogOut(_Strict):
    items: list[LogEntryOut]
    next_before: int | None
