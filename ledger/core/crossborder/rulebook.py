"""What a region rule of schema version 2 says about one carbon record (docs/CALC.md §11)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.records import Record


def require_knowledge_base(rule: Record) -> None:
    """A pre-assessment needs a region rule of schema version 2 (baselines, tariff...)."""
    if rule.type != "region-rule":
        raise MalformedError(f"{rule.id} is a {rule.type}, expected a region-rule")
    if rule.schema_version != "2":
        raise MalformedError(
            f"region rule {rule.id} is schema version {rule.schema_version}: it states no "
            "baselines, required data or tariff; a pre-assessment needs version 2"
        )


def _covers(prefix: str, cn_code: str) -> bool:
    return cn_code.startswith(prefix)


def baseline_for(rule: Record, cn_code: str | None) -> Mapping[str, Any] | None:
    """The baseline entry whose CN code is the longest prefix of ``cn_code``; None when
    the record has no CN code or the rule has no baseline for it (never a guess)."""
    if cn_code is None:
        return None
    matches = [b for b in rule.body["baselines"] if _covers(b["cn_code"], cn_code)]
    return max(matches, key=lambda b: len(b["cn_code"]), default=None)


def is_levied(rule: Record, cn_code: str | None) -> bool:
    """Whether the rule's tariff applies to a good of ``cn_code``."""
    tariff = rule.body["tariff"]
    if tariff is None or cn_code is None:
        return False
    return any(_covers(prefix, cn_code) for prefix in tariff["goods"]["cn_codes"])


def free_allocation_share(rule: Record, year: int) -> Mapping[str, Any]:
    """The entry of the latest year listed that is not after ``year``."""
    years: list[Mapping[str, Any]] = rule.body["tariff"]["free_allocation"]
    listed = [y for y in years if y["year"] <= year]
    if not listed:
        first = rule.body["tariff"]["free_allocation"][0]["year"]
        raise MalformedError(
            f"region rule {rule.id} states no free-allocation share for {year} (its first "
            f"year is {first})",
            path="inputs.import_date",
        )
    return listed[-1]


def declaration_deadline(rule: Record, import_date: date) -> date:
    """The last day on which the declaration for goods imported on ``import_date`` is due."""
    deadline = rule.body["declaration"]["deadline"]
    if deadline["kind"] == "annual":
        return date(import_date.year + deadline["year_offset"], deadline["month"], deadline["day"])
    return import_date + timedelta(days=deadline["days"])
