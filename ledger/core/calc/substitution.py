"""calc/1 factor substitution: a carbon record recomputed under a region rule
with the rule's factor sets (docs/CALC.md §6, §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.core.calc.arithmetic import calc_context, compare, exact_text
from ledger.core.calc.inputs import (
    equipment_mass_kg,
    factor_use,
    find_entry,
    records_by_id,
    require_links,
    require_type,
)
from ledger.core.calc.lines import LineResult, aggregate, evaluate_line, present
from ledger.core.errors import MalformedError
from ledger.core.records import Record
from ledger.core.types import vocab

# line_id -> (factor-set id, entry id): an explicit replacement, for lines whose
# activity has several candidates in the rule's factor sets (e.g. regional grids).
Choices = Mapping[str, tuple[str, str]]


def _candidates(activity: str, sets: Sequence[Record]) -> list[tuple[Record, Mapping[str, Any]]]:
    return [(s, e) for s in sets for e in s.body["entries"] if e["activity"] == activity]


def _replacement(
    line: Mapping[str, Any], sets: Sequence[Record], choices: Choices
) -> tuple[Record, Mapping[str, Any]] | None:
    activity = line["factor"]["activity"]
    if line["line_id"] in choices:
        set_id, entry_id = choices[line["line_id"]]
        chosen = [s for s in sets if s.id == set_id]
        if not chosen:
            raise MalformedError(
                f"line {line['line_id']}: factor set {set_id} is not one the rule requires"
            )
        if (set_id, entry_id) == (line["factor"]["set"]["id"], line["factor"]["entry"]):
            return None  # the line already quotes the chosen entry: kept
        entry = find_entry(chosen[0], entry_id)
        if entry["activity"] != activity:
            raise MalformedError(
                f"line {line['line_id']}: replacement {entry_id!r} is for activity "
                f"{entry['activity']!r}, the line's factor is for {activity!r}"
            )
        return chosen[0], entry
    found = _candidates(activity, sets)
    if len(found) > 1:
        names = ", ".join(f"{s.id}#{e['id']}" for s, e in found)
        raise MalformedError(
            f"line {line['line_id']}: several replacements for {activity!r} ({names}); choose one"
        )
    return found[0] if found else None


def compute_substitution(
    source: Record,
    rule: Record,
    factor_sets: Sequence[Record] | Mapping[str, Record],
    *,
    choices: Choices | None = None,
) -> dict[str, Any]:
    """The computed part of a factor-substitution body: ``factor_sets``, ``gwp``,
    ``lines``, ``result``, ``differences``. The caller adds ``source`` and
    ``rule`` links ({id, digest}) to make the whole body."""
    require_type(source, "carbon-record")
    require_type(rule, "region-rule")
    given = records_by_id(factor_sets, "factor-set")
    required = [(link["id"], link["digest"]) for link in rule.body["factor_sets"]]
    if set(given) != {set_id for set_id, _ in required}:
        raise MalformedError(
            f"the factor sets given ({sorted(given)}) are not the ones rule {rule.id} requires "
            f"({sorted(s for s, _ in required)})"
        )
    digests = dict(required)
    sets = [given[set_id] for set_id, _ in required]
    choices = choices or {}
    ctx = calc_context()
    rb = rule.body
    stages_in = {s["stage"] for s in rb["stages"]}
    channels_in = {c["channel"] for c in rb["channels"]}
    stage_refs = {s["stage"]: s["legal_ref"] for s in rb["excluded_stages"]}
    channel_refs = {c["channel"]: c["legal_ref"] for c in rb["excluded_channels"]}
    target_gwp = rb["gwp_set"]
    source_gwp = source.body["methodology"]["gwp_set"]

    lines: list[dict[str, Any]] = []
    results: list[LineResult] = []
    replaced: list[dict[str, Any]] = []
    flagged: list[str] = []
    for line in source.body["lines"]:
        head = {"line_id": line["line_id"], "stage": line["stage"], "channel": line["cbam_channel"]}
        if line["stage"] not in stages_in:
            lines.append(
                {
                    **head,
                    "action": "drop",
                    "reason": "stage-excluded",
                    "legal_ref": stage_refs[line["stage"]],
                }
            )
            continue
        if line["cbam_channel"] not in channels_in:
            lines.append(
                {
                    **head,
                    "action": "drop",
                    "reason": "channel-excluded",
                    "legal_ref": channel_refs[line["cbam_channel"]],
                }
            )
            continue
        found = _replacement(line, sets, choices)
        original = dict(line["factor"])
        if found is None:
            factor = original
            entry: dict[str, Any] = {**head, "action": "keep", "factor": original}
        else:
            factor = factor_use(found[0].id, found[1], digests[found[0].id])
            entry = {**head, "action": "substitute", "original": original, "replacement": factor}
            replaced.append(
                {
                    "kind": "factor-replaced",
                    "line_id": line["line_id"],
                    "original": _describe(original),
                    "replacement": _describe(factor),
                }
            )
        res = evaluate_line(line, factor, target_gwp, ctx)
        if res.gwp_treatment == "not-recharacterised":
            flagged.append(line["line_id"])
        entry["gwp_treatment"] = res.gwp_treatment
        entry["emissions_kg"] = exact_text(res.emissions_kg)
        lines.append(entry)
        results.append(res)

    source_stages = source.body["boundary"]["stages"]
    source_channels = {line["cbam_channel"] for line in source.body["lines"]}
    differences: list[dict[str, Any]] = []
    for stage in vocab.STAGES:
        if stage in source_stages and stage not in stages_in:
            differences.append(
                {"kind": "stage-removed", "stage": stage, "legal_ref": stage_refs[stage]}
            )
        if stage in stages_in and stage not in source_stages:
            differences.append({"kind": "stage-not-in-source", "stage": stage})
    for channel in vocab.CHANNELS:
        if channel in source_channels and channel not in channels_in:
            differences.append(
                {"kind": "channel-removed", "channel": channel, "legal_ref": channel_refs[channel]}
            )
    differences.extend(replaced)
    if source_gwp != target_gwp:
        differences.append({"kind": "gwp-changed", "from": source_gwp, "to": target_gwp})
    for line_id in flagged:
        differences.append(
            {
                "kind": "gwp-not-recharacterised",
                "line_id": line_id,
                "from": source_gwp,
                "to": target_gwp,
            }
        )

    result = present(
        aggregate(results, ctx), rb["rounding"], rb["output_unit"], equipment_mass_kg(source), ctx
    )
    return {
        "factor_sets": [{"id": set_id, "digest": digest} for set_id, digest in required],
        "gwp": {"from": source_gwp, "to": target_gwp},
        "lines": lines,
        "result": result,
        "differences": differences,
    }


def _describe(use: Mapping[str, Any]) -> dict[str, str]:
    return {
        "set": use["set"]["id"],
        "entry": use["entry"],
        "value": use["value"],
        "unit": use["unit"],
    }


def _same_entry(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a["set"]["id"], a["entry"]) == (b["set"]["id"], b["entry"])


def check_substitution(
    record: Record,
    closure: Mapping[str, Record] | Sequence[Record],
    *,
    digests: Mapping[str, str] | None = None,
) -> None:
    """Recompute a factor-substitution from its source, rule and factor sets and
    raise CalculationMismatchError at the first figure that differs.

    ``closure`` holds the referenced records. When ``digests`` (record id ->
    digest, as the bundle proved them) is given, every link's digest must match.
    """
    require_type(record, "factor-substitution")
    items = closure.values() if isinstance(closure, Mapping) else closure
    by_id = {r.id: r for r in items}
    body = record.body
    links = [("body.source", body["source"]), ("body.rule", body["rule"])]
    links += [(f"body.factor_sets[{i}]", s) for i, s in enumerate(body["factor_sets"])]
    require_links(links, by_id, digests)
    source = by_id[body["source"]["id"]]
    rule = by_id[body["rule"]["id"]]
    sets = [by_id[s["id"]] for s in body["factor_sets"]]
    # The record's own choices: each replacement, and each kept factor that is
    # itself from one of the rule's sets (kept by choice among several candidates).
    rule_sets = {s["id"] for s in body["factor_sets"]}
    choices: dict[str, tuple[str, str]] = {}
    for line in body["lines"]:
        if line["action"] == "substitute":
            use = line["replacement"]
            if _same_entry(use, line["original"]):
                # The rule's only candidate is the factor the line already quotes: no
                # choice was made (docs/CALC.md §6), and making one would keep the line.
                continue
        elif line["action"] == "keep" and line["factor"]["set"]["id"] in rule_sets:
            use = line["factor"]
        else:
            continue
        choices[line["line_id"]] = (use["set"]["id"], use["entry"])
    computed = compute_substitution(source, rule, sets, choices=choices)
    for key in ("factor_sets", "gwp", "lines", "result", "differences"):
        compare(body[key], computed[key], f"body.{key}")


__all__ = ["Choices", "check_substitution", "compute_substitution"]
