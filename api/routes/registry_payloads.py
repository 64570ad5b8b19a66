"""JSON of the registry's read models (docs/API.md §3.6): the API answers with exactly
what the pages show, in the caller's view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from api.routes.payloads import attestation_json
from ledger.core.canonical import format_timestamp
from ledger.service.registrymodels import (
    DocumentMatch,
    EnterpriseDetail,
    EnterpriseRow,
    EquipmentDetail,
    LatestEvaluation,
    RatingView,
    SearchResult,
    WarningRow,
    WhitelistEntry,
)
from ledger.store.directory import StoredEnterprise, StoredEquipment, StoredFacet
from ledger.store.grants import StoredGrant, StoredLogEntry

__all__ = [
    "document_json",
    "enterprise_detail_json",
    "enterprise_row_json",
    "equipment_detail_json",
    "equipment_json",
    "grant_json",
    "log_entry_json",
    "search_json",
    "warning_json",
    "whitelist_json",
]


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _enterprise(entry: StoredEnterprise) -> dict[str, Any]:
    return {
        "id": entry.enterprise_id,
        "name": entry.name,
        "name_en": entry.name_en,
        "name_zh": entry.name_zh,
        "region": entry.region,
        "grade": entry.grade,
        "rated_at": _ts(entry.rated_at),
        "warning_since": _ts(entry.warning_since),
        "rectification_deadline": _day(entry.warning_deadline),
        "rectified_at": _ts(entry.rectified_at),
    }


def search_json(found: SearchResult, hrefs: list[str]) -> dict[str, Any]:
    return {
        "query": found.query,
        "read_as": found.read_as,
        "normalised": found.normalised,
        "hits": [
            {"kind": h.kind, "key": h.key, "label": h.label, "detail": h.detail, "href": href}
            for h, href in zip(found.hits, hrefs, strict=True)
        ],
    }


def enterprise_row_json(row: EnterpriseRow) -> dict[str, Any]:
    return {
        **_enterprise(row.entry),
        "warning": row.warning,
        "risk": row.risk,
        "equipment": row.equipment,
    }


def equipment_json(e: StoredEquipment) -> dict[str, Any]:
    return {
        "subject": e.subject,
        "name": e.name,
        "enterprise_id": e.enterprise_id,
        "cn_code": e.cn_code,
        "total": e.total,
        "unit": e.unit,
        "risk": e.risk_level,
        "records": e.records,
        "last_issued_at": _ts(e.last_issued_at),
    }


def _facet(f: StoredFacet) -> dict[str, Any]:
    return {
        "record_id": f.record_id,
        "type": f.type,
        "subject": f.subject,
        "issued_at": _ts(f.issued_at),
        "region": f.region,
        "level": f.level,
        "figure": f.figure,
        "unit": f.unit,
    }


def _rating(r: RatingView) -> dict[str, Any]:
    return {
        "record_id": r.record_id,
        "issued_at": _ts(r.issued_at),
        "state": r.state.state,
        "grade": r.grade,
        "previous_grade": r.previous_grade,
        "period": list(r.period) if r.period else None,
        "reason_code": r.reason_code,
        "reason_text": r.reason_text,
        "total": r.total,
        "scores": r.scores,
        "previous_scores": r.previous_scores,
        "rule_id": r.rule_id,
        "warning_list": r.warning_list,
        "rectification_deadline": r.deadline,
        "view": "full" if r.full else "public",
    }


def carbon_efficiency_json(e: LatestEvaluation) -> dict[str, Any]:
    """The latest evaluation with the page its code opens and the code itself
    (docs/RECORDS.md §3.17: the page URL is the code's payload after the service's base)."""
    rid = quote(e.record_id, safe=":")
    return {
        "record_id": e.record_id,
        "digest": e.digest_hex,
        "period": {"start": e.period_start, "end": e.period_end},
        "grade": e.grade,
        "level": e.level,
        "state": e.state,
        "page_url": f"/efficiency?id={rid}&digest={e.digest_hex}",
        "code_url": f"/efficiency/code.svg?id={rid}",
    }


def enterprise_detail_json(d: EnterpriseDetail) -> dict[str, Any]:
    return {
        "enterprise": {
            **_enterprise(d.entry),
            "handle_prefixes": list(d.prefixes),
            "warning": d.warning,
            "days_left": d.days_left,
        },
        "ratings": [_rating(r) for r in d.ratings],
        "equipment": [equipment_json(e) for e in d.equipment],
        "conversions": [_facet(f) for f in d.conversions],
        "risks": [_facet(f) for f in d.risks],
        "attestations": [
            {"record_id": a.record_id, **attestation_json(a.attestation)} for a in d.attestations
        ],
        "carbon_efficiency": carbon_efficiency_json(d.carbon_efficiency)
        if d.carbon_efficiency is not None
        else None,
    }


def equipment_detail_json(d: EquipmentDetail) -> dict[str, Any]:
    return {
        "equipment": equipment_json(d.entry),
        "enterprise": _enterprise(d.enterprise) if d.enterprise else None,
        "identifiers": [{"scheme": s, "value": v} for s, v in d.identifiers],
        "footprint": {
            "record_id": d.footprint_id,
            "total": d.total,
            "unit": d.unit,
            "by_stage": {s.stage: s.figure for s in d.stages},
        }
        if d.footprint_id
        else None,
        "conversions": [_facet(f) for f in d.conversions],
        "risks": [_facet(f) for f in d.risks],
    }


def warning_json(w: WarningRow) -> dict[str, Any]:
    return {
        **_enterprise(w.entry),
        "status": w.status,
        "days_left": w.days_left,
        "warning_record_id": w.warning_record_id,
        "rectified_record_id": w.rectified_record_id,
    }


def whitelist_json(e: WhitelistEntry) -> dict[str, Any]:
    b = e.body
    return {
        "address": b.address,
        "name": b.name,
        "scope": b.scope,
        "regions": list(e.regions),
        "valid_from": _ts(b.valid_from),
        "valid_until": _ts(b.valid_until),
        "withdrawn": b.withdrawn,
        "valid_now": e.valid_now,
    }


def document_json(m: DocumentMatch) -> dict[str, Any]:
    return {"record_id": m.record_id, "type": m.type, "subject": m.subject, "state": m.state.state}


def grant_json(g: StoredGrant) -> dict[str, Any]:
    return {
        "request_id": g.request_id,
        "requester": g.requester,
        "requester_role": g.requester_role,
        "enterprise_id": g.enterprise_id,
        "scope": g.scope,
        "purpose": g.purpose,
        "days": g.days,
        "requested_at": _ts(g.requested_at),
        "state": g.state,
        "decided_by": g.decided_by,
        "decided_as": g.decided_as,
        "decided_at": _ts(g.decided_at),
        "valid_until": _ts(g.valid_until),
        "note": g.note,
        "ended_by": g.ended_by,
        "ended_at": _ts(g.ended_at),
    }


def log_entry_json(e: StoredLogEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": _ts(e.at),
        "principal": e.principal,
        "role": e.role,
        "channel": e.channel,
        "action": e.action,
        "target": e.target,
        "subject": e.subject,
        "enterprise_id": e.enterprise_id,
        "basis": e.basis,
        "records": e.records,
    }
