"""What a caliber-equivalence declaration states (docs/API.md §3.7): for one conversion
(a factor-substitution record), its source carbon record and the target region rule,
the two rules side by side, every difference, every replaced factor with both sources,
the dropped and added lines with their effect in kg CO2e, the GWP re-characterisation,
the rounding and the result, each label in English and Chinese.

Pure: the renderer (HTML, PDF) lays this out and adds nothing. The effect of a dropped
line is its emissions in the source record (calc/1 §5, under the source's GWP set).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.core.calc.arithmetic import calc_context
from ledger.core.calc.inputs import require_type
from ledger.core.calc.lines import evaluate_line
from ledger.core.errors import MalformedError
from ledger.core.records import Record

__all__ = ["KIND_LABELS", "REASON_LABELS", "declaration_content"]

#: Difference kinds of a substitution body (docs/CALC.md §6), in English and Chinese.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "stage-removed": ("Stage outside the rule's boundary, removed", "超出规则边界的阶段，已剔除"),
    "channel-removed": (
        "Emission channel outside the rule, removed",
        "规则不涵盖的排放类别，已剔除",
    ),
    "stage-added": (
        "Stage the rule requires, added from supplementary data",
        "规则要求的阶段，依补充数据增加",
    ),
    "stage-allocated": ("Shared stage allocated by mass share", "共用阶段按质量比例分摊"),
    "factor-replaced": (
        "Emission factor replaced by the rule's source",
        "排放因子替换为规则指定来源",
    ),
    "gwp-changed": ("Global warming potentials re-characterised", "全球变暖潜能值重新表征"),
    "gwp-not-recharacterised": (
        "Factor without per-gas values, not re-characterised",
        "因子无分气体数值，未重新表征",
    ),
    "stage-not-in-source": (
        "Stage the rule counts, absent from the source",
        "规则计入但源记录缺失的阶段",
    ),
}
REASON_LABELS: dict[str, tuple[str, str]] = {
    "stage-excluded": ("stage excluded by the rule", "规则排除的阶段"),
    "channel-excluded": ("channel excluded by the rule", "规则排除的排放类别"),
}


def _label(table: dict[str, tuple[str, str]], key: str) -> dict[str, str]:
    en, zh = table.get(key, (key, key))
    return {"en": en, "zh": zh}


def _dropped_effect(source: Record, line_id: str, ctx: Any) -> str:
    line = next((x for x in source.body["lines"] if x["line_id"] == line_id), None)
    if line is None:
        raise MalformedError(f"line {line_id} of the conversion is not in its source")
    gwp = source.body["methodology"]["gwp_set"]
    return str(evaluate_line(line, line["factor"], gwp, ctx).emissions_kg)


def declaration_content(conversion: Record, source: Record, rule: Record) -> dict[str, Any]:
    """Everything a declaration of ``conversion`` shows (the records as linked)."""
    require_type(conversion, "factor-substitution")
    require_type(source, "carbon-record")
    require_type(rule, "region-rule")
    body, sb, rb = conversion.body, source.body, rule.body
    if body["source"]["id"] != source.id or body["rule"]["id"] != rule.id:
        raise MalformedError(f"{conversion.id} does not convert {source.id} under {rule.id}")
    ctx = calc_context()
    dropped, replaced, added, allocated = [], [], [], []
    supplied = {s["line_id"] for s in body.get("supplements", ())}
    for line in body["lines"]:
        action = line["action"]
        if action == "drop":
            dropped.append(
                {
                    "line_id": line["line_id"],
                    "stage": line["stage"],
                    "channel": line["channel"],
                    "reason": _label(REASON_LABELS, line["reason"]),
                    "legal_ref": line["legal_ref"],
                    "effect_kg": "-" + _dropped_effect(source, line["line_id"], ctx),
                }
            )
        elif action == "substitute":
            replaced.append(
                {
                    "line_id": line["line_id"],
                    "original": line["original"],
                    "replacement": line["replacement"],
                    "emissions_kg": line["emissions_kg"],
                }
            )
        if line["line_id"] in supplied:
            added.append(
                {
                    "line_id": line["line_id"],
                    "stage": line["stage"],
                    "effect_kg": "+" + line["emissions_kg"],
                }
            )
        if "unallocated_kg" in line:
            allocated.append(
                {
                    "line_id": line["line_id"],
                    "stage": line["stage"],
                    "unallocated_kg": line["unallocated_kg"],
                    "allocated_kg": line["emissions_kg"],
                }
            )
    dropped_total = sum((Decimal(d["effect_kg"]) for d in dropped), Decimal(0))
    side_by_side = [
        {
            "aspect": {"en": "Standards / regime", "zh": "核算标准 / 制度"},
            "source": ", ".join(sb["methodology"]["standards"]),
            "target": f"{rb['regime']} {rb['regime_version']}",
        },
        {
            "aspect": {"en": "GWP set", "zh": "全球变暖潜能值版本"},
            "source": sb["methodology"]["gwp_set"],
            "target": rb["gwp_set"],
        },
        {
            "aspect": {"en": "Stages counted", "zh": "计入的生命周期阶段"},
            "source": ", ".join(sorted(sb["totals"]["by_stage"])),
            "target": ", ".join(s["stage"] for s in rb["stages"]),
        },
        {
            "aspect": {"en": "Emission channels", "zh": "排放类别"},
            "source": ", ".join(sorted(sb["totals"]["by_channel"])),
            "target": ", ".join(c["channel"] for c in rb["channels"]),
        },
        {
            "aspect": {"en": "Unit of the result", "zh": "结果单位"},
            "source": sb["totals"]["unit"],
            "target": rb["output_unit"],
        },
        {
            "aspect": {"en": "Rounding", "zh": "修约规则"},
            "source": "-",
            "target": f"{rb['rounding']['mode']}, {rb['rounding']['places']} places",
        },
    ]
    differences = [
        {
            **{k: v for k, v in d.items() if k != "kind"},
            "kind": d["kind"],
            "label": _label(KIND_LABELS, d["kind"]),
        }
        for d in body["differences"]
    ]
    equipment = sb["equipment"]
    return {
        "conversion": {"id": conversion.id, "issued_at": conversion.raw["issued_at"]},
        "subject": conversion.subject,
        "equipment": {"name": equipment["name"], "cn_code": equipment.get("cn_code")},
        "region": rb["region"],
        "source": {"id": source.id, "total": sb["totals"]["total"], "unit": sb["totals"]["unit"]},
        "rule": {"id": rule.id, "regime": rb["regime"], "version": rb["regime_version"]},
        "side_by_side": side_by_side,
        "differences": differences,
        "replaced": replaced,
        "dropped": dropped,
        "dropped_total_kg": str(dropped_total),
        "added": added,
        "allocated": allocated,
        "gwp": body["gwp"],
        "rounding": rb["rounding"],
        "result": body["result"],
    }
