"""Shaping what the service returns into what the templates show (docs/PAGES.md §3).

Pure functions over the ledger service's read models and the core's views: no store, no
request, no JSON. Everything here yields plain strings and codes, never words: the
templates translate codes through the reader's catalogue (``label``) and escape every value
(autoescape is on and nothing is marked safe), so a record's text can never become markup.
A value the caller's view withholds is ``None`` (``WITHHELD`` in a field row), which the
template writes as "withheld" in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp
from ledger.core.commitment import flatten
from ledger.core.errors import LedgerError
from ledger.core.view import HIDDEN, RedactedView, View, reconstruct
from ledger.service.readmodels import RecordState, StoredRevocation, StoredSupersession
from ledger.service.registrymodels import WhitelistEntry

__all__ = [
    "WITHHELD",
    "DifferenceRow",
    "FieldRow",
    "StatusView",
    "body_names",
    "differences_of",
    "display_value",
    "field_rows",
    "mapping",
    "path_text",
    "record_of",
    "status_of",
]

#: A field row's value when the view withholds it (the template translates it).
WITHHELD = "\u2014withheld\u2014"


@dataclass(frozen=True)
class FieldRow:
    path: str
    value: str


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one (a withheld or odd member)."""
    return value if isinstance(value, Mapping) else {}


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
    """One row of a conversion's regional difference table: ``kind`` (a code the template
    labels), where it applies, the change (``before``/``after``: None when withheld) and
    its legal basis."""

    kind: str
    stage: str | None = None
    channel: str | None = None
    line_id: str | None = None
    before: str | None = None
    after: str | None = None
    legal_ref: str | None = None
    has_change: bool = False


def _describe(value: Any) -> str | None:
    if isinstance(value, Mapping):
        parts = [f"{k}: {display_value(v)}" for k, v in value.items()]
        return "; ".join(parts) if parts else None
    return None if value is None or value is HIDDEN else display_value(value)


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None or value is HIDDEN else display_value(value)


def differences_of(record: Mapping[str, Any]) -> list[DifferenceRow]:
    """The regional difference table of a factor-substitution (docs/RECORDS.md §3.4):
    stages and channels removed or added, factors replaced, the GWP set changed."""
    items = mapping(record.get("body")).get("differences")
    if not isinstance(items, list):
        return []
    rows = []
    for item in items:
        if not isinstance(item, Mapping):
            rows.append(DifferenceRow(""))
            continue
        kind = str(item.get("kind", ""))
        before_key, after_key = (
            ("original", "replacement") if kind == "factor-replaced" else ("from", "to")
        )
        has_change = before_key in item or after_key in item or kind == "factor-replaced"
        rows.append(
            DifferenceRow(
                kind=kind,
                stage=_text(item, "stage"),
                channel=_text(item, "channel"),
                line_id=_text(item, "line_id"),
                before=_describe(item.get(before_key)),
                after=_describe(item.get(after_key)),
                legal_ref=_text(item, "legal_ref"),
                has_change=has_change,
            )
        )
    return rows


@dataclass(frozen=True)
class StatusView:
    state: str
    anchored: dict[str, str] | None = None
    batch_seq: int | None = None
    superseded_by: list[str] = field(default_factory=list)
    supersedes: str | None = None
    revocation: dict[str, Any] | None = None
    #: The registry's "superseded by" (successor digest, block), once written on-chain.
    supersession: dict[str, str] | None = None


def _revocation_of(r: StoredRevocation | None) -> dict[str, Any] | None:
    """A revocation as display strings and its reason code (labelled by the template)."""
    if r is None:
        return None
    return {
        "state": display_value(r.state),
        "code": r.reason_code,
        "reason_code": display_value(r.reason_code),
        "reason_digest": display_value(r.reason_digest_hex),
        "requested_at": display_value(r.requested_at),
        "tx_hash": display_value(r.tx_hash),
        "block_number": display_value(r.block_number),
        "source": display_value(r.source),
        "revoked_at": display_value(r.revoked_at),
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
        anchored=anchored,
        batch_seq=batch.seq if batch is not None else batch_seq,
        superseded_by=list(record.superseded_by),
        supersedes=record.supersedes,
        revocation=_revocation_of(record.revocation),
        supersession=_supersession_of(record.supersession),
    )


def body_names(entries: Iterable[WhitelistEntry]) -> dict[str, str]:
    """Lower-case address -> name of every accredited body (withdrawn ones too: an
    attestation filed before a withdrawal still names its body)."""
    return {e.body.address.lower(): e.body.name for e in entries if e.body.name}
