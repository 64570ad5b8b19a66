"""Benchmark of terminal-signed readings and of the carbon-efficiency evaluation, each
against a baseline measured in the same run (docs/FORMAT.md §3.3, docs/CALC.md §14).

1. Readings checked per second, SM2/SM3 and Ed25519, in batches of 1,000 readings:
   - baseline: the signature verification alone (one key object, the message bytes built
     beforehand), nothing else;
   - verify: ``verify_readings`` on a validated batch (each reading's content, its RFC 8785
     bytes, the signature);
   - validate + verify: ``validate_record`` of the batch too, the core's share of accepting
     it.
   The figure that matters is verify / baseline: what the format costs beyond the
   cryptography. Readings accepted through the service (single and bulk) are not measured:
   the accept path refuses meter readings until terminal keys are registered.
2. The evaluation of a month of hourly readings from three terminals (31 days, 2,232
   readings in 93 daily batches) against the calc/1 totals of a carbon record with as many
   lines: figures only (``compute_carbon_efficiency``), the full check without the signature
   walk (the accept path's), and with it (the verifier's).

Usage (from the repository root):
    scripts/bench readings [--quick] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.calc.efficiency import check_carbon_efficiency, compute_carbon_efficiency
from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.keys import SigningKey, public_key_of
from ledger.core.readings import reading_content, reading_message, sign_reading, verify_readings
from ledger.core.records import Record, validate_record
from ledger.core.sm2 import SM2PrivateKey
from ledger.examples import CR_TANK, example_records, seeded_digest
from ledger.examples import efficiency as ex

BATCH = 1000
START = datetime(2026, 1, 1, tzinfo=UTC)


def _batch(key: SigningKey, count: int, index: int) -> dict[str, Any]:
    public = public_key_of(key)
    terminal: dict[str, str] = {
        "id": "88.118.8/TM-BENCH-01",
        "alg": public.scheme,
        "public_key": public.raw.hex(),
    }
    if public.distinguishing_id is not None:
        terminal["distinguishing_id"] = public.distinguishing_id.decode("utf-8")
    body: dict[str, Any] = {
        "metering_point": "88.118.8/MP-BENCH-01",
        "terminal": terminal,
        "field": "electricity_import",
        "unit": "kWh",
        "readings": [],
    }
    for i in range(count):
        at = START + timedelta(hours=index * count + i)
        reading = {
            "start": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "quantity": f"{180 + i % 300}.{i % 10}",
        }
        reading["signature"] = sign_reading(key, reading_content(body, reading))
        body["readings"].append(reading)
    return {
        "type": "meter-reading",
        "schema_version": "1",
        "id": f"urn:carbonledger:meter-reading:bench-{public.scheme}-{index}",
        "subject": body["metering_point"],
        "issued_at": "2026-03-01T00:00:00Z",
        "producer": ex.PRODUCER_METERING,
        "refs": [],
        "body": body,
    }


def _rate(count: int, run: Callable[[], object], repeat: int) -> float:
    """Items per second, best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def readings(batches: int, repeat: int) -> dict[str, dict[str, float]]:
    schemes: dict[str, SigningKey] = {
        "sm2-sm3": SM2PrivateKey.generate(b"88.118.8/TM-BENCH-01"),
        "ed25519": Ed25519PrivateKey.generate(),
    }
    out: dict[str, dict[str, float]] = {}
    for name, key in schemes.items():
        raws = [_batch(key, BATCH, i) for i in range(batches)]
        records = [validate_record(r) for r in raws]
        count = batches * BATCH
        public = public_key_of(key)
        signed = [
            (reading_message(reading_content(r.body, x)), bytes.fromhex(x["signature"]))
            for r in records
            for x in r.body["readings"]
        ]

        def baseline(pairs: list[tuple[bytes, bytes]] = signed, key: Any = public) -> None:
            for message, signature in pairs:
                key.verify(message, signature)

        def verify(rs: list[Record] = records) -> None:
            for r in rs:
                verify_readings(r)

        def accept_core(items: list[dict[str, Any]] = raws) -> None:
            for raw in items:
                verify_readings(validate_record(raw))

        out[name] = {
            "baseline_per_s": _rate(count, baseline, repeat),
            "verify_per_s": _rate(count, verify, repeat),
            "validate_verify_per_s": _rate(count, accept_core, repeat),
        }
    return out


def _carbon_record_of(lines: int) -> Record:
    template = example_records()[CR_TANK]
    record = copy.deepcopy(template)
    base = template["body"]["lines"]
    record["body"]["lines"] = [
        {**copy.deepcopy(base[i % len(base)]), "line_id": f"L{i:05d}"} for i in range(lines)
    ]
    return validate_record(record)


def evaluation(repeat: int) -> dict[str, float]:
    raws = ex.efficiency_example_records(seeded_digest, days=31)
    closure = {rid: validate_record(r) for rid, r in raws.items()}
    record = closure[ex.EVALUATION]
    count = sum(len(r.body["readings"]) for r in closure.values() if r.type == "meter-reading")
    body = {k: v for k, v in record.body.items() if k != "result"}
    carbon = _carbon_record_of(count)

    def per_s(run: Callable[[], object]) -> float:
        return _rate(1, run, repeat)

    return {
        "readings": count,
        "carbon_record_totals_per_s": per_s(lambda: compute_carbon_totals(carbon)),
        "efficiency_figures_per_s": per_s(lambda: compute_carbon_efficiency(body, closure)),
        "efficiency_check_per_s": per_s(
            lambda: check_carbon_efficiency(record, closure, signatures=False)
        ),
        "efficiency_check_with_signatures_per_s": per_s(
            lambda: check_carbon_efficiency(record, closure)
        ),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench readings")
    parser.add_argument("--quick", action="store_true", help="one batch, one run each")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    args = parser.parse_args(argv)
    batches, repeat = (1, 1) if args.quick else (2, 3)
    report = {"readings": readings(batches, repeat), "evaluation": evaluation(repeat)}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"readings checked per second ({batches} x {BATCH} per scheme, best of {repeat}):")
    for name, r in report["readings"].items():
        base = r["baseline_per_s"]
        print(
            f"  {name:8} signature alone {base:8.0f}/s | verify_readings "
            f"{r['verify_per_s']:8.0f}/s ({r['verify_per_s'] / base:.2f} x) | validate + verify "
            f"{r['validate_verify_per_s']:8.0f}/s ({r['validate_verify_per_s'] / base:.2f} x)"
        )
    print("  accepted through the service: not measured (meter readings are refused until")
    print("  terminal keys are registered)")
    e = report["evaluation"]
    base = e["carbon_record_totals_per_s"]
    print(f"a month of hourly readings from 3 terminals ({e['readings']} readings):")
    print(f"  carbon-record totals, {e['readings']} lines   {1000 / base:9.1f} ms (baseline)")
    for key, label in (
        ("efficiency_figures_per_s", "evaluation figures"),
        ("efficiency_check_per_s", "evaluation check (accept path)"),
        ("efficiency_check_with_signatures_per_s", "evaluation check + signatures"),
    ):
        print(f"  {label:34} {1000 / e[key]:9.1f} ms ({base / e[key]:.2f} x the baseline)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
