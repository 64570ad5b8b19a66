"""calc/1 carbon efficiency (ledger.core.calc.efficiency, docs/CALC.md §14): the threshold
vectors, the example plant, and the walk from the grade to every signed reading."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.calc.efficiency import check_carbon_efficiency, compute_carbon_efficiency
from ledger.core.calc.inputs import factor_use, find_entry
from ledger.core.errors import (
    CalculationMismatchError,
    DigestMismatchError,
    MalformedError,
    SignatureError,
)
from ledger.core.readings import reading_content, sign_reading
from ledger.core.records import Record, validate_record
from ledger.core.view import commit
from ledger.examples import efficiency as ex
from ledger.examples import factors as ref
from ledger.examples import seeded_digest

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "efficiency"
VECTOR = json.loads((VECTOR_DIR / "grade_edges.json").read_text(encoding="utf-8"))
GAS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
GAS_TERMINAL = "88.118.8/TM-GAS-09"
GAS_POINT = "88.118.8/MP-GAS-09"


def _gas_batch(quantity: str, digests: dict[str, str]) -> dict[str, Any]:
    start, end = ex.PERIOD_START, ex.PERIOD_START + timedelta(days=1)
    body: dict[str, Any] = {
        "metering_point": GAS_POINT,
        "terminal": {"id": GAS_TERMINAL, "alg": "ed25519", "public_key": _pub(GAS_KEY)},
        "field": "natural_gas",
        "unit": "GJ",
        "readings": [],
    }
    reading = {"start": ex.rfc3339(start), "end": ex.rfc3339(end), "quantity": quantity}
    reading["signature"] = sign_reading(GAS_KEY, reading_content(body, reading))
    body["readings"].append(reading)
    return {
        "type": "meter-reading",
        "schema_version": "1",
        "id": "urn:carbonledger:meter-reading:gas-09-day-1",
        "subject": GAS_POINT,
        "issued_at": "2026-01-02T00:00:00Z",
        "producer": ex.PRODUCER_METERING,
        "refs": [],
        "body": body,
    }


def _pub(key: Ed25519PrivateKey) -> str:
    from ledger.core.keys import public_key_of

    return public_key_of(key).raw.hex()


def _case_records(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Record]]:
    records: dict[str, dict[str, Any]] = {}
    digests: dict[str, str] = {}
    for raw in (
        ref.ipcc_2006_factor_set(),
        ex.grading_rule(),
        ex.benchmark(days=1, average=case["industry_average"]),
    ):
        records[raw["id"]] = raw
        digests[raw["id"]] = seeded_digest(raw)
    batch = _gas_batch(case["quantity_gj"], digests)
    records[batch["id"]] = batch
    digests[batch["id"]] = seeded_digest(batch)
    closure = {rid: validate_record(r) for rid, r in records.items()}
    ipcc = closure[ref.FS_IPCC_2006]
    body = {
        "enterprise": {"id": ex.ENTERPRISE, "name": ex.ENTERPRISE_NAME},
        "industry": dict(ex.INDUSTRY),
        "period": records[ex.BENCHMARK]["body"]["period"],
        "boundary": {"description": "the gas meter", "metering_points": [GAS_POINT]},
        "rule": {"id": ex.RULE_EFFICIENCY, "digest": digests[ex.RULE_EFFICIENCY]},
        "benchmark": {"id": ex.BENCHMARK, "digest": digests[ex.BENCHMARK]},
        "sources": [
            {
                "line_id": "E1",
                "kind": "consumption",
                "field": "natural_gas",
                "readings": [{"id": batch["id"], "digest": digests[batch["id"]]}],
                "unit": "GJ",
                "factor": factor_use(ipcc.id, find_entry(ipcc, "ng-default"), digests[ipcc.id]),
            }
        ],
        "value_added": {
            "amount": case["value_added_cny"],
            "currency": "CNY",
            "basis": "income-method",
        },
    }
    return body, closure


@pytest.mark.parametrize("case", VECTOR["cases"], ids=lambda c: c["name"])
def test_grade_edges(case: dict[str, Any]) -> None:
    assert VECTOR["description"] and VECTOR["source"]
    body, closure = _case_records(case)
    computed = compute_carbon_efficiency(body, closure)
    assert computed["result"] == case["expected"]
    assert computed["sources"][0]["emissions_kg"] == case["expected"]["emissions_kg"]["net"]


def test_plant_one_day_worked_by_hand() -> None:
    vector = json.loads((VECTOR_DIR / "plant_one_day.json").read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"]
    body = ex.efficiency_example_records(seeded_digest, days=1)[ex.EVALUATION]["body"]
    sources = {
        s["line_id"]: {"quantity": s["quantity"], "emissions_kg": s["emissions_kg"]}
        for s in body["sources"]
    }
    assert sources == vector["expected"]["sources"]
    assert body["result"] == vector["expected"]["result"]


@pytest.fixture(scope="module")
def plant() -> dict[str, dict[str, Any]]:
    return ex.efficiency_example_records(seeded_digest, days=2)


def _closure(raws: dict[str, dict[str, Any]]) -> dict[str, Record]:
    return {rid: validate_record(r) for rid, r in raws.items()}


def _mutated(
    plant: dict[str, dict[str, Any]], rid: str, change: Callable[[dict[str, Any]], object]
) -> dict[str, dict[str, Any]]:
    raws = copy.deepcopy(plant)
    change(raws[rid])
    return raws


def _batch_id(plant: dict[str, dict[str, Any]], field: str, index: int = 0) -> str:
    ids = [r["id"] for r in plant.values() if r["type"] == "meter-reading"]
    return [i for i in ids if plant[i]["body"]["field"] == field][index]


def test_example_plant_recomputes(plant: dict[str, dict[str, Any]]) -> None:
    closure = _closure(plant)
    digests = {rid: seeded_digest(r) for rid, r in plant.items()}
    check_carbon_efficiency(closure[ex.EVALUATION], closure, digests=digests)
    result = plant[ex.EVALUATION]["body"]["result"]
    assert (result["level"], result["grade"]) == ("low", 2)


def test_one_altered_reading_breaks_the_walk(plant: dict[str, dict[str, Any]]) -> None:
    batch_id = _batch_id(plant, "electricity_import", 1)
    raws = _mutated(plant, batch_id, lambda r: r["body"]["readings"][5].update(quantity="1.0"))
    closure = _closure(raws)
    evaluation = closure[ex.EVALUATION]
    with pytest.raises(SignatureError) as info:
        check_carbon_efficiency(evaluation, closure)
    assert info.value.message.startswith(f"{batch_id}: body.readings[5].signature: ")
    # As a bundle proves it: the altered batch no longer has the digest the evaluation links.
    digests = {rid: commit(r).digest_hex for rid, r in raws.items()}
    digests[ex.EVALUATION] = "0" * 64
    with pytest.raises(DigestMismatchError):
        check_carbon_efficiency(evaluation, closure, digests=digests)
    # Without the signature walk, the recomputed quantity differs from the stated one.
    with pytest.raises(CalculationMismatchError) as mismatch:
        check_carbon_efficiency(evaluation, closure, signatures=False)
    assert mismatch.value.message.startswith("body.sources[0].quantity: ")


def test_stated_grade_must_recompute(plant: dict[str, dict[str, Any]]) -> None:
    raws = _mutated(plant, ex.EVALUATION, lambda r: r["body"]["result"].update(grade=1))
    closure = _closure(raws)
    with pytest.raises(CalculationMismatchError) as info:
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)
    assert info.value.message.startswith("body.result.grade: ")
    assert (info.value.expected, info.value.computed) == (1, 2)


def test_a_gap_in_the_readings_is_refused(plant: dict[str, dict[str, Any]]) -> None:
    batch_id = _batch_id(plant, "natural_gas")
    raws = _mutated(plant, batch_id, lambda r: r["body"]["readings"].pop(7))
    closure = _closure(raws)
    with pytest.raises(MalformedError, match="leaves a gap") as info:
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)
    # Times as the records write them (RFC 3339 with Z), never Python's "+00:00".
    assert "+00:00" not in str(info.value)
    assert (
        "2026-01-01T00:00:00Z leaves a gap (expected a reading from 2025-12-31T23:00:00Z)"
        in str(info.value)
    ), str(info.value)


def test_overlapping_batches_of_one_metering_point_are_refused(
    plant: dict[str, dict[str, Any]],
) -> None:
    raws = copy.deepcopy(plant)
    first, second = _batch_id(plant, "pv_generation", 0), _batch_id(plant, "pv_generation", 1)
    # The second day's batch replaced by a copy of the first day's: the first day twice.
    raws[second] = {**copy.deepcopy(raws[first]), "id": second}
    closure = _closure(raws)
    with pytest.raises(MalformedError, match="overlaps the reading before it") as info:
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)
    assert "+00:00" not in str(info.value)


def test_benchmark_of_another_period_is_refused(plant: dict[str, dict[str, Any]]) -> None:
    raws = _mutated(
        plant, ex.BENCHMARK, lambda r: r["body"]["period"].update(end="2026-02-01T16:00:00Z")
    )
    closure = _closure(raws)
    with pytest.raises(MalformedError, match="not the evaluation's period"):
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)


def test_metering_point_outside_the_boundary_is_refused(plant: dict[str, dict[str, Any]]) -> None:
    def drop_pv(r: dict[str, Any]) -> None:
        r["body"]["boundary"]["metering_points"].remove("88.118.8/MP-PV-01")

    raws = _mutated(plant, ex.EVALUATION, drop_pv)
    closure = _closure(raws)
    with pytest.raises(MalformedError, match=r"not in body\.boundary\.metering_points"):
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)


def test_boundary_point_nobody_reads_is_refused(plant: dict[str, dict[str, Any]]) -> None:
    def add_point(r: dict[str, Any]) -> None:
        r["body"]["boundary"]["metering_points"].append("88.118.8/MP-DIESEL-01")

    raws = _mutated(plant, ex.EVALUATION, add_point)
    closure = _closure(raws)
    with pytest.raises(MalformedError, match="no source reads it"):
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)


def test_source_order_changes_no_figure(plant: dict[str, dict[str, Any]]) -> None:
    closure = _closure(plant)
    body = {k: v for k, v in plant[ex.EVALUATION]["body"].items() if k != "result"}
    reordered = {**body, "sources": list(reversed(body["sources"]))}
    assert (
        compute_carbon_efficiency(reordered, closure)["result"]
        == (plant[ex.EVALUATION]["body"]["result"])
    )
