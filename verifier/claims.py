"""The claims section of a verification (docs/VERIFY.md §6.1): for every unit a bundle's
records are about, the claims of its embedded emissions found in the bundle.

A claim is a record (docs/RECORDS.md §3.11); its proofs are checked like any other
record's by the numbered checks. This section only reads what the claims say — which
regime, which year, on which figure — and flags two claims of one unit in regimes that
exclude each other (``ledger.core.claims.REGIMES``): a double declaration the ledger that
issued the bundle should have refused. Fields hidden in a redacted view are shown as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ledger.core.claims import REGIMES

__all__ = ["claims_section"]

_UNIT_TYPES = ("carbon-record", "factor-substitution", "bim-archive", "claim")


class _Entry(Protocol):
    raw: dict[str, object]
    record_id: str | None

    @property
    def record_type(self) -> str | None: ...


def _body(entry: _Entry) -> dict[str, Any]:
    body = entry.raw.get("body")
    return body if isinstance(body, dict) else {}


def claims_section(entries: Sequence[_Entry]) -> list[dict[str, Any]]:
    """Per unit (in the bundle's order): its claims and the conflicts among them."""
    units: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        subject = entry.raw.get("subject")
        if entry.record_type in _UNIT_TYPES and isinstance(subject, str):
            units.setdefault(subject, [])
    for entry in entries:
        subject = entry.raw.get("subject")
        if entry.record_type != "claim" or not isinstance(subject, str):
            continue
        body = _body(entry)
        declarant = body.get("declarant")
        source = body.get("source")
        units.setdefault(subject, []).append(
            {
                "record_id": entry.record_id,
                "regime": body.get("regime", "(hidden)"),
                "year": body.get("year", "(hidden)"),
                "source": source.get("id") if isinstance(source, dict) else "(hidden)",
                "declarant": declarant.get("name") if isinstance(declarant, dict) else "(hidden)",
            }
        )
    out = []
    for unit, claims in units.items():
        conflicts = []
        seen: dict[str, dict[str, Any]] = {}
        for claim in claims:
            regime = REGIMES.get(str(claim["regime"]))
            if regime is None:
                continue
            first = seen.get(regime.group)
            if first is not None:
                conflicts.append(
                    f"{claim['record_id']} ({regime.code}) and {first['record_id']} "
                    f"({first['regime']}) both claim {unit} in group {regime.group}"
                )
            else:
                seen[regime.group] = claim
        out.append({"unit": unit, "claims": claims, "conflicts": conflicts})
    return out
