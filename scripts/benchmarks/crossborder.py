"""Benchmark of the pre-assessment (docs/CALC.md §11): assessments/s of a 200-line carbon
record against conversions/s of the same record under the same rule, in the same run.

The record is the schema-3 storage tank of the examples (coating and reagent lines with
CAS numbers) grown to 200 lines; the rules are the EU CBAM 2026 knowledge-base rule
(tariff, required data, restricted chemicals) and the North-American one (a mandatory
grid factor substituted on every electricity line). A conversion is
``compute_substitution`` (which applies the rule's mandatory factors), the figure an
assessment starts from; an assessment is ``compute_risk_assessment``. An
assessment must cost at most 2x a conversion.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.crossborder [--quick] [--json]
Exit codes: 0 done (every ratio within 2x), 1 an assessment cost more than 2x a
conversion, 2 usage error.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ledger.core.calc.lines import compute_carbon_totals  # noqa: E402
from ledger.core.calc.substitution import compute_substitution  # noqa: E402
from ledger.core.crossborder.assessment import compute_risk_assessment  # noqa: E402
from ledger.core.records import Record, validate_record  # noqa: E402
from ledger.examples import crossborder as xb  # noqa: E402
from ledger.examples import knowledge as kb  # noqa: E402

LINES = 200
LIMIT = 2.0


def grown_record(records: dict[str, dict[str, Any]], n: int = LINES) -> Record:
    """The schema-3 tank with its lines repeated (quantities varied) up to ``n`` lines."""
    record = copy.deepcopy(records[xb.CR_TANK_XB])
    template = record["body"]["lines"]
    lines = []
    for i in range(n):
        line = copy.deepcopy(template[i % len(template)])
        line["line_id"] = f"L{i + 1:03d}"
        line["quantity"] = (
            f"{line['quantity']}{i % 10}"
            if "." in line["quantity"]
            else (f"{line['quantity']}.{i % 10}")
        )
        lines.append(line)
    record["id"] = "urn:carbonledger:carbon-record:bench-200-lines"
    record["body"]["lines"] = lines
    record["body"]["totals"] = compute_carbon_totals(validate_record(record))
    return validate_record(record)


def _rate(fn: Callable[[], Any], min_time_s: float) -> float:
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time_s:
            return count / elapsed


def bench_rule(
    source: Record, rule: Record, sets: list[Record], min_time_s: float
) -> dict[str, Any]:
    def convert() -> Any:
        return compute_substitution(source, rule, sets)

    def assess() -> Any:
        return compute_risk_assessment(
            source, rule, sets, assessed_on=date(2026, 2, 20), import_date=date(2026, 6, 1)
        )

    level = assess()["level"]
    conversions = _rate(convert, min_time_s)
    assessments = _rate(assess, min_time_s)
    return {
        "rule": rule.id,
        "level": level,
        "conversions_per_s": round(conversions, 1),
        "assessments_per_s": round(assessments, 1),
        "assessment_cost_vs_conversion": round(conversions / assessments, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter timings, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    raw = xb.crossborder_records()
    records = {rid: validate_record(r) for rid, r in raw.items()}
    source = grown_record(raw)
    min_time_s = 0.5 if args.quick else 3.0
    results = []
    for rule_id in (kb.RULE_XB_EU, kb.RULE_XB_NA):
        rule = records[rule_id]
        sets = [records[s["id"]] for s in rule.body["factor_sets"]]
        results.append(bench_rule(source, rule, sets, min_time_s))
    report = {"format": "carbonledger-bench-crossborder/1", "lines": LINES, "rules": results}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            print(
                f"{r['rule']} ({LINES} lines, level {r['level']}): "
                f"{r['conversions_per_s']} conversions/s, {r['assessments_per_s']} "
                f"assessments/s; an assessment costs {r['assessment_cost_vs_conversion']}x "
                f"a conversion (limit {LIMIT}x)"
            )
    return 1 if any(r["assessment_cost_vs_conversion"] > LIMIT for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
