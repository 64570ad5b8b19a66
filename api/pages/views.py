"""Shaping what the service returns into what the templates show (docs/PAGES.md §3).

Pure functions over the JSON the API's service methods return: no store, no request.
Everything here yields plain strings; the templates escape them (autoescape is on and
nothing is marked safe), so a record's text can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.core.commitment import flatten
from ledger.core.errors import LedgerError
from ledger.core.view import HIDDEN, RedactedView, parse_view, reconstruct

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


def field_rows(view_json: dict[str, Any]) -> tuple[list[FieldRow], list[str]]:
    """The fields a view discloses (path, value) and the field hashes it withholds."""
    if view_json.get("kind") == "full":
        pairs = [(list(p), v) for p, v in flatten(view_json.get("record") or {})]
        hidden: list[str] = []
    else:
        pairs = [
            (d[1], d[2])
            for d in view_json.get("disclosures", [])
            if isinstance(d, list) and len(d) == 3 and isinstance(d[1], list)
        ]
        hidden = [str(h) for h in view_json.get("hidden", [])]
    # The envelope (type, id, subject, ...) reads first, then the body; the order within
    # each is the canonical one the view came in.
    pairs.sort(key=lambda pair: bool(pair[0]) and pair[0][0] == "body")
    return [FieldRow(path_text(p), display_value(v)) for p, v in pairs], hidden


def record_of(view_json: dict[str, Any]) -> dict[str, Any]:
    """The record as far as the view discloses it (``commitment.reconstruct``)."""
    try:
        return reconstruct(parse_view(view_json))
    except LedgerError:
        return {}


def is_redacted(view_json: dict[str, Any]) -> bool:
    try:
        return isinstance(parse_view(view_json), RedactedView)
    except LedgerError:
        return True


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


def _flat(value: Any) -> dict[str, str] | None:
    """A status sub-object as display strings; a nested reason becomes ``reason_en`` and
    ``reason_zh`` (docs/API.md §3.5)."""
    if not isinstance(value, dict):
        return None
    out = {k: display_value(v) for k, v in value.items() if not isinstance(v, dict)}
    reason = value.get("reason")
    if isinstance(reason, dict):
        out["reason_en"] = display_value(reason.get("en"))
        out["reason_zh"] = display_value(reason.get("zh"))
    return out


def status_of(item: dict[str, Any]) -> StatusView:
    """The lifecycle state of a record (a trail item or a status answer)."""
    state = str(item.get("state") or item.get("status") or "")
    batch = item.get("batch") or None
    anchored = None
    if isinstance(batch, dict) and batch.get("tx_hash"):
        anchored = {
            "seq": display_value(batch.get("seq")),
            "tx": display_value(batch.get("tx_hash")),
            "block": display_value(batch.get("block_number")),
            "at": display_value(batch.get("anchored_at")),
        }
    return StatusView(
        state=state,
        label=STATE_LABELS.get(state, state),
        anchored=anchored,
        batch_seq=batch.get("seq") if isinstance(batch, dict) else item.get("batch_seq"),
        superseded_by=[str(x) for x in item.get("superseded_by") or []],
        supersedes=item.get("supersedes"),
        revocation=_flat(item.get("revocation")),
        supersession=_flat(item.get("supersession")),
    )
