"""Shaping what the service returns into what the templates show (docs/PAGES.md §3).

Pure functions over the ledger service's read models and the core's views: no store, no
request, no JSON. Everything here yields plain strings; the templates escape them
(autoescape is on and nothing is marked safe), so a record's text can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp
from ledger.core.commitment import flatten
from ledger.core.errors import LedgerError
from ledger.core.reasons import describe_reason
from ledger.core.view import HIDDEN, RedactedView, View, reconstruct
from ledger.service.readmodels import RecordState, StoredRevocation, StoredSupersession

__all__ = [
    "DifferenceRow",
    "FieldRow",
    "StatusView",
    "differences_of",
    "display_value",
    "field_rows",
    "path_text",
    "record_of",
    "status_of",
]

#: Labels a regulator in China expects next to the English ones.
STATE_LABELS = {
    "pending": "pending 待批次",
    "batched": "batched 已成批",
    "anchored": "anchored 已上链锚定",
    "revoked": "revoked 已撤销",
    "superseded": "superseded 已被取代",
}
DIFFERENCE_LABELS = {
    "stage-removed": "stage removed 阶段剔除",
    "stage-not-in-source": "stage added (not in source) 阶段新增",
    "channel-removed": "channel removed 排放渠道剔除",
    "factor-replaced": "factor replaced 因子替换",
    "gwp-changed": "GWP set changed GWP 值集变更",
    "gwp-not-recharacterised": "GWP not recharacterised GWP 未重算",
}
WITHHELD = "withheld 不予公开"


@dataclass(frozen=True)
class FieldRow:
    path: str
    value: str


def path_text(path: tuple[str | int, ...] | list[Any]) -> str:
    """``("body", "lines", 0, "stage")`` as ``body.lines[0].stage``."""
    out = ""
    for seg in path:
        if isinstance(seg, int) and not isinstance(seg, bool):
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + str(seg)
    return out


def display_value(value: Any) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if value is HIDDEN:
        return WITHHELD
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{}" if not value else "{…}"
    if isinstance(value, list):
        return "[]" if not value else "[…]"
    return str(value)


def field_rows(view: View) -> tuple[list[FieldRow], list[str]]:
    """The fields a view discloses (path, value) and the field hashes it withholds."""
    pairs: list[tuple[list[str | int], Any]]
    if isinstance(view, RedactedView):
        pairs = [(list(d.path), d.value) for d in view.disclosures]
        hidden = list(view.hidden)
    else:
        pairs = [(list(p), v) for p, v in flatten(view.record)]
        hidden = []
    # The envelope (type, id, subject, ...) reads first, then the body; the order within
    # each is the canonical one the view came in.
    pairs.sort(key=lambda pair: bool(pair[0]) and pair[0][0] == "body")
    return [FieldRow(path_text(p), display_value(v)) for p, v in pairs], hidden


def record_of(view: View) -> dict[str, Any]:
    """The record as far as the view discloses it (``commitment.reconstruct``)."""
    try:
        return reconstruct(view)
    except LedgerError:
        return {}


def is_redacted(view: View) -> bool:
    return isinstance(view, RedactedView)


@dataclass(frozen=True)
class DifferenceRow:
    kind: str
    label: str
    where: str
    change: str
    legal_ref: str


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        parts = [f"{k}: {display_value(v)}" for k, v in value.items()]
        return "; ".join(parts) if parts else WITHHELD
    return WITHHELD if value is None or value is HIDDEN else display_value(value)


def differences_of(record: dict[str, Any]) -> list[DifferenceRow]:
    """The regional difference table of a factor-substitution (docs/RECORDS.md): stages
    and channels removed or added, factors replaced, the GWP set changed."""
    body = record.get("body")
    items = body.get("differences") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return []
    rows = []
    for item in items:
        if not isinstance(item, dict):
            rows.append(DifferenceRow("", WITHHELD, "", "", ""))
            continue
        kind = str(item.get("kind", ""))
        where = " ".join(
            f"{key} {display_value(item[key])}"
            for key in ("stage", "channel", "line_id")
            if key in item
        )
        if "from" in item or "to" in item:
            change = f"{_describe(item.get('from'))} → {_describe(item.get('to'))}"
        elif kind == "factor-replaced":
            change = f"{_describe(item.get('original'))} → {_describe(item.get('replacement'))}"
        else:
            change = ""
        rows.append(
            DifferenceRow(
                kind=kind,
                label=DIFFERENCE_LABELS.get(kind, kind or WITHHELD),
                where=where,
                change=change,
                legal_ref=display_value(item["legal_ref"]) if "legal_ref" in item else "",
            )
        )
    return rows


@dataclass(frozen=True)
class StatusView:
    state: str
    label: str
    anchored: dict[str, str] | None = None
    batch_seq: int | None = None
    superseded_by: list[str] = field(default_factory=list)
    supersedes: str | None = None
    revocation: dict[str, str] | None = None
    #: The registry's "superseded by" (successor digest, block), once written on-chain.
    supersession: dict[str, str] | None = None


def _revocation_of(r: StoredRevocation | None) -> dict[str, str] | None:
    """A revocation as display strings, its reason in both languages (docs/API.md §3.5)."""
    if r is None:
        return None
    reason = describe_reason(r.reason_code)
    return {
        "state": display_value(r.state),
        "reason_code": display_value(r.reason_code),
        "reason_digest": display_value(r.reason_digest_hex),
        "requested_at": display_value(r.requested_at),
        "tx_hash": display_value(r.tx_hash),
        "block_number": display_value(r.block_number),
        "source": display_value(r.source),
        "revoked_at": display_value(r.revoked_at),
        "reason_en": display_value(reason.get("en")),
        "reason_zh": display_value(reason.get("zh")),
    }


def _supersession_of(s: StoredSupersession | None) -> dict[str, str] | None:
    if s is None:
        return None
    return {
        "state": display_value(s.state),
        "successor_digest": display_value(s.successor_digest_hex),
        "successor_seq": display_value(s.successor_seq),
        "tx_hash": display_value(s.tx_hash),
        "block_number": display_value(s.block_number),
        "superseded_at": display_value(s.superseded_at),
    }


def status_of(record: RecordState, batch_seq: int | None = None) -> StatusView:
    """The lifecycle state of a record (of a trail entry or a status answer); ``batch_seq``
    is the record's batch when the state carries none."""
    batch = record.batch
    anchored = None
    if batch is not None and batch.tx_hash:
        anchored = {
            "seq": display_value(batch.seq),
            "tx": display_value(batch.tx_hash),
            "block": display_value(batch.anchored_block_number),
            "at": display_value(batch.anchored_at),
        }
    return StatusView(
        state=record.state,
        label=STATE_LABELS.get(record.state, record.state),
        anchored=anchored,
        batch_seq=batch.seq if batch is not None else batch_seq,
        superseded_by=list(record.superseded_by),
        supersedes=record.supersedes,
        revocation=_revocation_of(record.revocation),
        supersession=_supersession_of(record.supersession),
    )
