"""Benchmark of the accept path: accepted records per second, single and bulk, on SQLite
and PostgreSQL, against the CPU ceiling measured in the same run.

The records are copies of the example storage-tank carbon record (about 7 KB, 4 links to
stored factor sets) under new ids, each committed with fresh salts and signed by its
producer before timing starts. Measured:

- ceiling: the per-record CPU work acceptance cannot avoid, in one process, nothing else,
  as a list of named parts (``CEILING``), each timed over every record: strict parse of the
  submission bytes, reading the full view, digest v1, Ed25519 signature check, and the
  recomputation of the record's figures with calc/1 from its (already parsed) factor sets,
  as acceptance does (``ledger.core.figures``). Two parts carry a ratio to a baseline of the
  same run: parse / ``json.loads`` of the same bytes, digest / one RFC 8785 serialization
  of the record. The ceiling without the recomputation is printed beside it;
- single: ``LedgerService.accept`` per record (one transaction and one commit each);
- bulk: ``LedgerService.accept_bulk`` with 1,000 records per call; and the same with the
  accept path's recomputation step skipped, to show what it costs.

The figure that matters is bulk / ceiling (target: at least 0.5): the share of the
unavoidable CPU work in what acceptance costs end to end. Every figure is wall-clock time;
on a machine shared with other work the same figures are also given in this process's CPU
time (``time.process_time``), which other processes do not inflate; PostgreSQL's own work
runs in its server processes, so its CPU figures count only this side of the wire.
PostgreSQL runs on a throwaway cluster (tests/pgfixture.py's way) and is skipped, with a
note, without server binaries.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.accept [--quick] [--json] [--no-postgres]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import canonicalize, parse_json
from ledger.core.figures import check_figures, input_refs
from ledger.core.records import RECORD_TYPES, Record, validate_record
from ledger.core.signature import (
    Signature,
    key_id,
    public_key_bytes,
    sign_digest,
    verify_signature,
)
from ledger.core.view import Commitment, commit, parse_view
from ledger.examples import CR_TANK, example_records
from ledger.service import BATCH_FORMAT, SUBMISSION_FORMAT, LedgerService, ManualClock
from ledger.service.recompute import Recomputation
from ledger.store import Store, sqlite_url
from ledger.store.producers import add_producer, add_producer_key

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BULK_SIZE = 1000


class Workload:
    """Reference data to store first, and N carbon-record submissions that link to it."""

    def __init__(self, count: int) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        commitments: dict[str, Commitment] = {}

        def digest_of(record: dict[str, Any]) -> str:
            commitments[record["id"]] = commit(record)
            return commitments[record["id"]].digest_hex

        records = example_records(digest_of)
        self.reference = [
            self._submission(commitments[rid])
            for rid, record in records.items()
            if record["type"] in ("factor-set", "region-rule", "rating-rule")
        ]
        template = records[CR_TANK]
        # What the service recomputes each record from, parsed once (it caches them too).
        self.inputs = {
            r.id: validate_record(records[r.id]) for r in input_refs(validate_record(template))
        }
        self.records: list[bytes] = []
        for i in range(count):
            record = copy.deepcopy(template)
            record["id"] = f"{CR_TANK}-bench-{i:06d}"
            self.records.append(self._submission(commit(record)))

    def _submission(self, c: Commitment) -> bytes:
        key = self.keys.setdefault(c.record["producer"], Ed25519PrivateKey.generate())
        return canonicalize(
            {
                "format": SUBMISSION_FORMAT,
                "view": c.to_json(),
                "signature": sign_digest(key, c.digest).to_json(),
            }
        )


@dataclass
class InFlight:
    """One record on its way through the ceiling's parts; each part fills in the next field."""

    data: bytes
    public_keys: Mapping[str, bytes]
    inputs: Mapping[str, Record]
    obj: Any = None
    view: Commitment | None = None
    digest: bytes = b""
    record: Record | None = None


def _parse(r: InFlight) -> None:
    r.obj = parse_json(r.data, max_bytes=16 << 20)


def _read_view(r: InFlight) -> None:
    view = parse_view(r.obj["view"])
    if not isinstance(view, Commitment):
        raise TypeError("the workload's submissions carry full views")
    r.view = view


def _digest(r: InFlight) -> None:
    r.digest = _full_view(r).digest


def _signature(r: InFlight) -> None:
    signature = Signature.from_json(r.obj["signature"])
    verify_signature(r.public_keys[signature.key_id], r.digest, signature)


def _validated(r: InFlight) -> None:
    """Not a ceiling part: acceptance validates every record anyway, and the recomputation
    part starts from the validated record."""
    r.record = validate_record(_full_view(r).record)


def _recompute(r: InFlight) -> None:
    if r.record is None:
        raise RuntimeError("the record is validated before it is recomputed")
    check_figures(r.record, r.inputs, strict=True)


def _full_view(r: InFlight) -> Commitment:
    if r.view is None:
        raise RuntimeError("the view part runs before this one")
    return r.view


@dataclass(frozen=True)
class Part:
    """One named step of the ceiling, and optionally the same run's baseline it is held to."""

    name: str
    run: Callable[[InFlight], None]
    baseline: str = ""
    baseline_run: Callable[[InFlight], object] | None = None
    #: the most this part may cost, as a multiple of its baseline
    target: float = 0.0


#: The ceiling, in order: each part reads what the parts before it left in ``InFlight``.
CEILING: tuple[Part, ...] = (
    Part("parse", _parse, "json.loads", lambda r: json.loads(r.data), target=3.0),
    Part("view", _read_view),
    Part(
        "digest",
        _digest,
        "one JCS serialization",
        lambda r: canonicalize(_full_view(r).record),
        target=2.0,
    ),
    Part("signature", _signature),
    Part("recomputation", _recompute),
)
#: Parts whose time is not the ceiling's, run before the named part to feed it.
_PREPARE: Mapping[str, Callable[[InFlight], None]] = {"recomputation": _validated}


def ceiling(workload: Workload) -> dict[str, Any]:
    """Per-record seconds of every part of ``CEILING`` (and of its baseline), and their sum."""
    public = {key_id(k): public_key_bytes(k) for k in workload.keys.values()}
    records = [InFlight(data, public, workload.inputs) for data in workload.records]
    parts: dict[str, dict[str, Any]] = {}
    for part in CEILING:
        if part.name in _PREPARE:
            for r in records:
                _PREPARE[part.name](r)
        part_s, baseline_s, part_cpu_s = _per_record(part, records)
        figures: dict[str, Any] = {"s_per_record": part_s, "cpu_s_per_record": part_cpu_s}
        if part.baseline_run is not None:
            figures |= {
                "baseline": part.baseline,
                "baseline_s_per_record": baseline_s,
                "over_baseline": part_s / baseline_s,
                "target": part.target,
            }
        parts[part.name] = figures
    total_s = sum(f["s_per_record"] for f in parts.values())
    total_cpu_s = sum(f["cpu_s_per_record"] for f in parts.values())
    without_s = total_s - parts["recomputation"]["s_per_record"]
    return {
        "s_per_record": total_s,
        "records_per_s": 1 / total_s,
        "cpu_s_per_record": total_cpu_s,
        "cpu_records_per_s": 1 / total_cpu_s,
        "without_recomputation_records_per_s": 1 / without_s,
        "parts": parts,
    }


@contextmanager
def recomputation_off() -> Iterator[None]:
    """The accept path with its recomputation step skipped: only to show what it costs."""
    original = Recomputation.check
    Recomputation.check = lambda self, p: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Recomputation.check = original  # type: ignore[method-assign]


def _per_record(part: Part, records: list[InFlight]) -> tuple[float, float, float]:
    """Seconds per record of ``part`` and of its baseline, record by record in turn, and
    the CPU seconds per record of ``part``.

    Taking turns on each record, the two see the same moments of a machine shared with
    other work. The garbage collector is paused while the loop runs, after collecting what
    earlier loops left: with a thousand records' values alive its walks would cost more
    than some parts, and depend on what ran before. The ceiling is the parts' own work;
    what collecting costs shows in the single and bulk figures, which run as the service
    does.
    """
    clock, cpu = time.perf_counter, time.process_time
    part_s = baseline_s = part_cpu_s = 0.0
    gc.collect()
    gc.disable()
    try:
        for r in records:
            start, start_cpu = clock(), cpu()
            part.run(r)
            middle, middle_cpu = clock(), cpu()
            if part.baseline_run is not None:
                part.baseline_run(r)
            part_s += middle - start
            part_cpu_s += middle_cpu - start_cpu
            baseline_s += clock() - middle
    finally:
        gc.enable()
    n = len(records)
    return part_s / n, baseline_s / n, part_cpu_s / n


def prepared_service(url: str, workload: Workload) -> tuple[LedgerService, Store]:
    clock = ManualClock(NOW)
    store = Store.open(url, clock=clock)
    with store.transaction() as session:
        for producer, key in workload.keys.items():
            add_producer(session, producer, created_at=NOW)
            add_producer_key(
                session,
                producer=producer,
                public_key_hex=public_key_bytes(key).hex(),
                valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                record_types=RECORD_TYPES,
            )
    service = LedgerService(
        store=store,
        service_key=Ed25519PrivateKey.generate(),
        clock=clock,
        max_merge_delay_s=600,
    )
    for data in workload.reference:
        service.accept(data)
    return service, store


def timed(work: Callable[[bytes], object], inputs: list[bytes]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``work`` over every item of ``inputs``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for item in inputs:
        work(item)
    return time.perf_counter() - start, time.process_time() - start_cpu


def measure(url_factory: Callable[[str], str], workload: Workload, single: int) -> dict[str, Any]:
    service, store = prepared_service(url_factory("single"), workload)
    try:
        single_s, single_cpu_s = timed(service.accept, workload.records[:single])
    finally:
        store.close()
    chunks = [
        workload.records[i : i + BULK_SIZE] for i in range(0, len(workload.records), BULK_SIZE)
    ]
    bodies = [
        b'{"format":"' + BATCH_FORMAT.encode() + b'","submissions":[' + b",".join(c) + b"]}"
        for c in chunks
    ]
    service, store = prepared_service(url_factory("bulk"), workload)
    try:
        bulk_s, bulk_cpu_s = timed(service.accept_bulk, bodies)
    finally:
        store.close()
    service, store = prepared_service(url_factory("bulk-unchecked"), workload)
    try:
        with recomputation_off():
            unchecked_s, _cpu_s = timed(service.accept_bulk, bodies)
    finally:
        store.close()
    return {
        "single_records_per_s": single / single_s,
        "single_cpu_records_per_s": single / single_cpu_s,
        "bulk_records_per_s": len(workload.records) / bulk_s,
        "bulk_cpu_records_per_s": len(workload.records) / bulk_cpu_s,
        "bulk_without_recomputation_records_per_s": len(workload.records) / unchecked_s,
    }


@contextmanager
def postgres() -> Iterator[Callable[[str], str] | None]:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.pgfixture import _Cluster, _find_bindir, admin_execute, database_url

    bindir = _find_bindir()
    if bindir is None:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="carbonledger-bench-pg-"))
    cluster = _Cluster(bindir, base)
    try:
        cluster.start()
        names = iter(range(1_000))

        def factory(label: str) -> str:
            name = f"bench_{label}_{next(names)}"
            admin_execute(cluster.url, f'CREATE DATABASE "{name}"')
            return database_url(cluster.url, name)

        yield factory
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer records")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    count, single = (1000, 100) if args.quick else (3000, 300)
    workload = Workload(count)
    limit = ceiling(workload)
    report: dict[str, Any] = {
        "format": "carbonledger-bench-accept/3",
        "records": count,
        "single_records": single,
        "record_bytes": len(workload.records[0]),
        "ceiling_records_per_s": limit["records_per_s"],
        "ceiling": limit,
        "backends": {},
        "notes": [],
    }
    with tempfile.TemporaryDirectory(prefix="carbonledger-bench-") as tmp:
        report["backends"]["sqlite"] = measure(
            lambda label: sqlite_url(Path(tmp) / label), workload, single
        )
    if args.no_postgres:
        report["notes"].append("PostgreSQL skipped (--no-postgres)")
    else:
        with postgres() as factory:
            if factory is None:
                report["notes"].append("PostgreSQL skipped: no initdb/pg_ctl binaries found")
            else:
                report["backends"]["postgresql"] = measure(factory, workload, single)
    for figures in report["backends"].values():
        figures["bulk_over_ceiling"] = (
            figures["bulk_records_per_s"] / report["ceiling_records_per_s"]
        )
        figures["bulk_cpu_over_ceiling_cpu"] = (
            figures["bulk_cpu_records_per_s"] / limit["cpu_records_per_s"]
        )
        figures["bulk_over_ceiling_without_recomputation"] = (
            figures["bulk_without_recomputation_records_per_s"]
            / limit["without_recomputation_records_per_s"]
        )
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    print(f"records: {count} carbon records of {report['record_bytes']} bytes (submission)")
    names = " + ".join(p.name for p in CEILING)
    print(
        f"ceiling ({names}): {limit['records_per_s']:8.0f}/s, "
        f"{limit['s_per_record'] * 1e3:.3f} ms per record; without recomputation "
        f"{limit['without_recomputation_records_per_s']:8.0f}/s"
    )
    for name, part in limit["parts"].items():
        ratio = (
            f"   {name} / {part['baseline']} {part['over_baseline']:.2f}x"
            f" (target <= {part['target']})"
            if "baseline" in part
            else ""
        )
        print(
            f"  {name:<14} {part['s_per_record'] * 1e3:7.3f} ms per record "
            f"({part['cpu_s_per_record'] * 1e3:.3f} ms CPU){ratio}"
        )
    for name, figures in report["backends"].items():
        print(
            f"{name:<10} single {figures['single_records_per_s']:8.0f}/s   "
            f"bulk {figures['bulk_records_per_s']:8.0f}/s   "
            f"bulk/ceiling {figures['bulk_over_ceiling']:.2f} (target >= 0.50)"
        )
        print(
            f"{'':<10} in CPU time: ceiling {limit['cpu_records_per_s']:8.0f}/s   single "
            f"{figures['single_cpu_records_per_s']:8.0f}/s   bulk "
            f"{figures['bulk_cpu_records_per_s']:8.0f}/s   bulk/ceiling "
            f"{figures['bulk_cpu_over_ceiling_cpu']:.2f}"
        )
        print(
            f"{'':<10} with recomputation off: bulk "
            f"{figures['bulk_without_recomputation_records_per_s']:8.0f}/s   bulk/ceiling "
            f"without recomputation {figures['bulk_over_ceiling_without_recomputation']:.2f}"
        )
    for note in report["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
