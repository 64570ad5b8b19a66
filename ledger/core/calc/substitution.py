"""calc/1 factor substitution: a carbon record recomputed under a region rule
with the rule's factor sets (docs/CALC.md §6, §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ledger.core.calc.arithmetic import calc_context, compare, exact_text
from ledger.core.calc.boundary import (
    allocate,
    allocation_shares,
    check_supplements,
    stage_differences,
)
from ledger.core.calc.inputs import (
    equipment_mass_kg,
    factor_use,
    find_entry,
    linked_inputs,
    records_by_id,
    require_type,
)
from ledger.core.calc.lines import (
    CRADLE_TO_GATE_STAGES,
    LineResult,
    aggregate,
    check_factor_quote,
    check_primary_data_share,
    evaluate_line,
    present,
    weighted_share,
)
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


def mandatory_choices(
    rule: Record,
    lines: Sequence[Mapping[str, Any]],
    choices: Choices,
    *,
    path: str = "choices",
) -> dict[str, tuple[str, str]]:
    """The replacement factor of every line: the mandatory factor a rule of schema
    version 2 names for the line's activity, else the caller's choice (docs/CALC.md §6).
    A choice that contradicts a mandatory factor is refused: where the rule names a
    factor, no other may be picked, not even a cheaper candidate of the same set."""
    line_ids = {line["line_id"] for line in lines}
    for line_id in choices:
        if line_id not in line_ids:
            raise MalformedError(f"no line {line_id!r} to choose a factor for", path=path)
    if rule.schema_version == "1":
        return dict(choices)
    mandatory = {m["activity"]: (m["set"], m["entry"]) for m in rule.body["mandatory_factors"]}
    out: dict[str, tuple[str, str]] = {}
    for line in lines:
        line_id = line["line_id"]
        forced = mandatory.get(line["factor"]["activity"])
        chosen = choices.get(line_id)
        if forced is not None and chosen is not None and tuple(chosen) != forced:
            raise MalformedError(
                f"line {line_id}: rule {rule.id} makes {forced[0]}#{forced[1]} mandatory for "
                f"activity {line['factor']['activity']!r}; the choice {chosen[0]}#{chosen[1]} "
                "is refused",
                path=path,
            )
        picked = forced if forced is not None else chosen
        if picked is not None:
            out[line_id] = (picked[0], picked[1])
    return out


def compute_substitution(
    source: Record,
    rule: Record,
    factor_sets: Sequence[Record] | Mapping[str, Record],
    *,
    choices: Choices | None = None,
    supplements: Sequence[Mapping[str, Any]] = (),
    allocations: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The computed part of a factor-substitution body: ``factor_sets``, ``gwp``,
    ``lines``, ``result``, ``differences``. The caller adds ``source`` and ``rule`` links
    ({id, digest}), and the ``supplements`` and ``allocations`` it gave (a body with
    either is of schema version 3, docs/CALC.md §6.1), to make the whole body."""
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
    ctx = calc_context()
    rb = rule.body
    stages_in = {s["stage"] for s in rb["stages"]}
    channels_in = {c["channel"] for c in rb["channels"]}
    stage_refs = {s["stage"]: s["legal_ref"] for s in rb["excluded_stages"]}
    channel_refs = {c["channel"]: c["legal_ref"] for c in rb["excluded_channels"]}
    target_gwp = rb["gwp_set"]
    source_gwp = source.body["methodology"]["gwp_set"]
    check_supplements(source, supplements, stages_in=stages_in, channels_in=channels_in)
    all_lines = [*source.body["lines"], *supplements]
    choices = mandatory_choices(rule, all_lines, choices or {})
    counted = {
        line["stage"]
        for line in all_lines
        if line["stage"] in stages_in and line["cbam_channel"] in channels_in
    }
    shares = allocation_shares(allocations, counted)

    lines: list[dict[str, Any]] = []
    results: list[LineResult] = []
    replaced: list[dict[str, Any]] = []
    flagged: list[str] = []
    supplied: dict[str, list[str]] = {}
    for number, line in enumerate(all_lines):
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
        if line["stage"] in shares:
            entry["unallocated_kg"] = exact_text(res.emissions_kg)
            res = allocate(res, *shares[line["stage"]], ctx)
        entry["emissions_kg"] = exact_text(res.emissions_kg)
        if number >= len(source.body["lines"]):
            entry["supplied"] = True
            supplied.setdefault(line["stage"], []).append(line["line_id"])
        lines.append(entry)
        results.append(res)

    source_channels = {line["cbam_channel"] for line in source.body["lines"]}
    differences = stage_differences(source, rule, supplied, allocations)
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
    body = record.body
    source, rule, sets = linked_inputs(body, closure, digests=digests)
    supplements = body.get("supplements", [])
    if supplements:
        # Supplementary lines quote factor sets of their own: each quote must be faithful.
        items = closure.values() if isinstance(closure, Mapping) else closure
        known = {r.id: r for r in items if r.type == "factor-set"}
        for i, line in enumerate(supplements):
            check_factor_quote(line["factor"], known, f"body.supplements[{i}].factor")
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
    computed = compute_substitution(
        source,
        rule,
        sets,
        choices=choices,
        supplements=supplements,
        allocations=body.get("allocations", []),
    )
    for key in ("factor_sets", "gwp", "lines", "result", "differences"):
        compare(body[key], computed[key], f"body.{key}")
    check_primary_data_share(record, substitution_primary_data_share(record, source))


def substitution_primary_data_share(record: Record, source: Record) -> str | None:
    """§13 for a conversion: its counted cradle-to-gate lines (kept or substituted),
    weighted by their ``emissions_kg``, primary as the source line says."""
    require_type(record, "factor-substitution")
    require_type(source, "carbon-record")
    ctx = calc_context()
    kinds = {line["line_id"]: line.get("data_type") for line in source.body["lines"]}
    lines = sorted(record.body["lines"], key=lambda line: line["line_id"])
    return weighted_share(
        (
            (Decimal(line["emissions_kg"]), kinds.get(line["line_id"]) == "primary")
            for line in lines
            if line["action"] in ("keep", "substitute") and line["stage"] in CRADLE_TO_GATE_STAGES
        ),
        ctx,
    )


__all__ = [
    "Choices",
    "check_substitution",
    "compute_substitution",
    "substitution_primary_data_share",
]
