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
   cryptography.
   Readings accepted through the service (``LedgerService.accept`` on a SQLite store, the
   terminal's key mirrored as the chain follower mirrors it, every acceptance check run),
   against the signature alone over the same readings:
   - single: one submission per reading (a batch of one reading);
   - bulk: ``accept_bulk`` of 1,000 readings per call, as 10 batches of 100 (a batch of
     1,000 readings is about 466 KB in canonical form, over the service's 256 KiB limit on
     one record's view, so a batch holds at most about 550 readings).
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
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.calc.efficiency import check_carbon_efficiency, compute_carbon_efficiency
from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.canonical import canonicalize
from ledger.core.keys import SigningKey, public_key_of
from ledger.core.readings import (
    reading_content,
    reading_message,
    sign_reading,
    terminal_id_hex,
    verify_readings,
)
from ledger.core.records import Record, validate_record
from ledger.core.signature import public_key_bytes, sign_digest
from ledger.core.sm2 import SM2PrivateKey
from ledger.core.view import commit
from ledger.examples import CR_TANK, example_records, seeded_digest
from ledger.examples import efficiency as ex
from ledger.service import BATCH_FORMAT, SUBMISSION_FORMAT, LedgerService, ManualClock
from ledger.store import Store, sqlite_url
from ledger.store.producers import add_producer, add_producer_key
from ledger.store.terminals import mirror_terminal_grant, mirror_terminal_key

BATCH = 1000
BULK_BATCH = 100  # readings per batch in a bulk call
START = datetime(2026, 1, 1, tzinfo=UTC)
TERMINAL = "88.118.8/TM-BENCH-01"
POINT = "88.118.8/MP-BENCH-01"


def _schemes() -> dict[str, SigningKey]:
    return {
        "sm2-sm3": SM2PrivateKey.generate(TERMINAL.encode()),
        "ed25519": Ed25519PrivateKey.generate(),
    }


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
        "id": f"urn:carbonledger:meter-reading:bench-{public.scheme}-{count}-{index}",
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
    out: dict[str, dict[str, float]] = {}
    for name, key in _schemes().items():
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


def _service(directory: str, key: SigningKey, producer_key: Ed25519PrivateKey) -> LedgerService:
    """A service on a fresh SQLite store whose producer and terminal key are registered."""
    clock = ManualClock(START + timedelta(days=400))
    store = Store.open(sqlite_url(Path(directory) / "ledger.sqlite3"), clock=clock)
    public = public_key_of(key)
    with store.transaction() as session:
        add_producer(session, ex.PRODUCER_METERING, created_at=START)
        add_producer_key(
            session, producer=ex.PRODUCER_METERING, valid_from=START,
            public_key_hex=public_key_bytes(producer_key).hex(), record_types=("meter-reading",),
        )  # fmt: skip
        ident = public.distinguishing_id
        kid = mirror_terminal_key(
            session, terminal_id_hex=terminal_id_hex(TERMINAL), scheme=public.scheme,
            public_key_hex=public.raw.hex(), distinguishing_id_hex=ident.hex() if ident else None,
            valid_from=START, valid_until=None, tx_hash=None,
        )  # fmt: skip
        mirror_terminal_grant(session, kid, "metering-point", POINT, granted_at=START)
        mirror_terminal_grant(session, kid, "record-type", "meter-reading", granted_at=START)
    return LedgerService(
        store=store, service_key=Ed25519PrivateKey.generate(), clock=clock, max_merge_delay_s=600
    )


def _submission(raw: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    c = commit(raw)
    signature = sign_digest(key, c.digest)
    return {"format": SUBMISSION_FORMAT, "view": c.to_json(), "signature": signature.to_json()}


def accepted(singles: int, bulks: int) -> dict[str, dict[str, float]]:
    """Readings accepted per second through the service, single and in bulk batches of
    1,000, against the signature verification of the same readings alone."""
    out: dict[str, dict[str, float]] = {}
    for name, key in _schemes().items():
        producer = Ed25519PrivateKey.generate()
        ones = [canonicalize(_submission(_batch(key, 1, i), producer)) for i in range(singles)]
        per_call = BATCH // BULK_BATCH
        thousands = [
            canonicalize({"format": BATCH_FORMAT, "submissions": [
                _submission(_batch(key, BULK_BATCH, per_call * (1 + n) + j), producer)
                for j in range(per_call)
            ]})
            for n in range(bulks)
        ]  # fmt: skip
        public = public_key_of(key)
        signed = [
            (reading_message(reading_content(r.body, x)), bytes.fromhex(x["signature"]))
            for r in (validate_record(_batch(key, BATCH, 0)),)
            for x in r.body["readings"]
        ]

        def baseline(pairs: list[tuple[bytes, bytes]] = signed, key: Any = public) -> None:
            for message, signature in pairs:
                key.verify(message, signature)

        with tempfile.TemporaryDirectory(prefix="bench-readings-") as tmp:
            service = _service(tmp, key, producer)
            try:
                started = time.perf_counter()
                for body in ones:
                    service.accept(body)
                single = singles / (time.perf_counter() - started)
                started = time.perf_counter()
                for body in thousands:
                    service.accept_bulk(body)
                bulk = bulks * BATCH / (time.perf_counter() - started)
            finally:
                service.store.close()
        out[name] = {
            "baseline_per_s": _rate(len(signed), baseline, 1),
            "single_per_s": single,
            "bulk_per_s": bulk,
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
    singles, bulks = (50, 1) if args.quick else (300, 3)
    report = {
        "readings": readings(batches, repeat),
        "accepted": accepted(singles, bulks),
        "evaluation": evaluation(repeat),
    }
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
    print(f"readings accepted per second through the service (SQLite; {singles} single, "
          f"{bulks} bulk calls of {BATCH} readings in batches of {BULK_BATCH}):")  # fmt: skip
    for name, r in report["accepted"].items():
        base = r["baseline_per_s"]
        print(
            f"  {name:8} signature alone {base:8.0f}/s | single {r['single_per_s']:8.0f}/s "
            f"({r['single_per_s'] / base:.3f} x) | bulk {r['bulk_per_s']:8.0f}/s "
            f"({r['bulk_per_s'] / base:.2f} x)"
        )
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
