"""Benchmark of acceptance over HTTP: `carbonledger serve --workers N` with N = 1 and 2, on
SQLite and PostgreSQL, against the in-process ceiling measured in the same run.

The service runs as its own process (`carbonledger serve`, the memory chain: no chain is
read), and the load comes from another process (an asyncio client, aiohttp, with a fixed
number of requests in flight), so neither takes the other's interpreter. Measured:

- single: `POST /v1/records` of small records (copies of the example rating rule, about
  1.2 KB, under new ids, committed and signed before timing starts): requests per
  second, and the latency p50 and p99 seen by the client (targets: >= 1,000 req/s,
  p99 <= 50 ms);
- bulk: `POST /v1/records/bulk` of carbon records (the example storage-tank record, about
  7 KB, the workload of `scripts/bench accept`), 100 a bulk, several bulks in flight:
  records per second, as a share of the ceiling times the workers (target: >= 0.6 per
  core) and from one worker to two (target: >= 1.7x).

The ceilings are `scripts/bench accept`'s (`ceiling()`: strict parse + view + digest +
signature + recomputation, one process, nothing else) on both workloads, measured first.
The first requests of each run warm the workers up and are not counted. Print `uptime`'s
load beside the figures: on a shared machine they move with it.

Usage (from the repository root):
    scripts/bench http [--quick] [--json] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SMALL_TEMPLATE = "urn:carbonledger:rating-rule:low-carbon-credit-v1"
BULK_RECORDS = 100
WORKER_COUNTS = (1, 2)
RUNS = itertools.count()


def _accept_benchmark() -> Any:
    """``scripts/benchmarks/accept.py``: its workload, ceiling, store set-up and PostgreSQL."""
    name = "benchmarks.accept"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "accept.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- the load generator (a process of its own) ----------------------------------------------


async def _generate(plan: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    bodies = [line.encode() for line in Path(plan["bodies"]).read_text().splitlines()]
    keys: list[str] = plan["keys"]
    warmup = plan["warmup"]
    headers = {"Authorization": f"Bearer {plan['token']}", "Content-Type": "application/json"}
    latencies: list[float] = []
    failures: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    measured_from: list[float] = []

    async def client(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if i == warmup:
                measured_from.append(time.perf_counter())
            started = time.perf_counter()
            async with session.post(
                plan["url"], data=bodies[i], headers={"Idempotency-Key": keys[i]}
            ) as response:
                await response.read()
                accepted = response.status == 201
                if not accepted:
                    failures.append(f"{response.status}")
            # Only accepted submissions count: a quick 503 is no throughput.
            if i >= warmup and accepted:
                latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=plan["concurrency"])
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(plan["concurrency"])))
    elapsed = time.perf_counter() - measured_from[0]
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": len(failures),
        "failure_samples": failures[:5],
        "elapsed_s": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_s": latencies[len(latencies) // 2],
        "p99_s": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def _run_generator(plan: dict[str, Any], work: Path) -> dict[str, Any]:
    path = work / "plan.json"
    path.write_text(json.dumps(plan))
    result = subprocess.run(
        # -P: this file's directory is not put on sys.path (this module is named http).
        [sys.executable, "-P", str(Path(__file__).resolve()), "--generate", str(path)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed: {result.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


# -- the service ----------------------------------------------------------------------------


class Service:
    """``carbonledger serve --workers N`` on a prepared store; stopped by PID (SIGTERM)."""

    def __init__(self, *, data_dir: Path, store_url: str, workers: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLEDGER_")}
        env["PYTHONPATH"] = str(REPO_ROOT)
        command = [
            sys.executable, "-m", "api.cli", "serve", "--chain", "memory",
            "--data-dir", str(data_dir), "--store-url", store_url,
            "--bind", "127.0.0.1:0", "--workers", str(workers),
        ]  # fmt: skip
        self.log = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"serve did not start (log: {data_dir / 'serve.log'})")
        self.url = line  # .../v1

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# -- workloads ------------------------------------------------------------------------------


def _small_workload(accept: Any, count: int) -> Any:
    """``count`` copies of the example rating rule under new ids, as an accept Workload."""
    from ledger.core.view import commit
    from ledger.examples import example_records

    workload = accept.Workload(0)
    template = example_records()[SMALL_TEMPLATE]
    workload.records = []
    workload.inputs = {}
    for i in range(count):
        record = copy.deepcopy(template)
        record["id"] = f"{SMALL_TEMPLATE}-http-{i:07d}"
        workload.records.append(workload._submission(commit(record)))
    return workload


def _prepare(accept: Any, url: str, workload: Any, data_dir: Path) -> dict[str, str]:
    """Producers, keys and reference records in the store at ``url``; a producer
    principal and its API key for each producer. Returns producer -> API key."""
    from datetime import UTC, datetime

    from ledger.core.records import RECORD_TYPES
    from ledger.store import access as access_store
    from ledger.store import apikeys
    from ledger.store.auditlog import OPERATOR

    _, store = accept.prepared_service(url, workload)
    now = datetime.now(UTC)
    tokens = {}
    try:
        for n, producer in enumerate(sorted(workload.keys)):
            name = f"bench-{n}"
            store.run(
                lambda s, name=name, producer=producer: access_store.add_principal(
                    s, name, role="producer", producer=producer,
                    record_types=list(RECORD_TYPES), created_at=now,
                )
            )  # fmt: skip
            grant = store.run(
                lambda s, name=name: apikeys.issue_key(s, name, actor=OPERATOR, at=now)
            )
            assert grant.key is not None
            tokens[producer] = grant.key.token
    finally:
        store.close()
    data_dir.mkdir(parents=True, exist_ok=True)
    return tokens


def _bodies(work: Path, name: str, bodies: list[bytes]) -> str:
    path = work / f"{name}.jsonl"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    return str(path)


def _producer_of(template_id: str) -> str:
    from ledger.examples import example_records

    return str(example_records()[template_id]["producer"])


def run_backend(
    accept: Any,
    url_factory: Any,
    small: Any,
    bulk: Any,
    *,
    warmup: int,
    concurrency: int,
    bulk_concurrency: int,
    work: Path,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for workers in WORKER_COUNTS:
        figures: dict[str, Any] = {"load": os.getloadavg()[0]}
        # Single submissions of small records.
        data_dir = work / f"single-{workers}-{next(RUNS)}"
        url = url_factory(f"single{workers}")
        tokens = _prepare(accept, url, small, data_dir)
        service = Service(data_dir=data_dir, store_url=url, workers=workers)
        try:
            plan = {
                "url": service.url + "/records",
                "token": tokens[_producer_of(SMALL_TEMPLATE)],
                "bodies": _bodies(work, "single", small.records),
                "keys": [f"single-{workers}-{i}" for i in range(len(small.records))],
                "warmup": warmup,
                "concurrency": concurrency,
            }
            figures["single"] = _run_generator(plan, work)
        finally:
            service.stop()
        # Bulks of carbon records.
        data_dir = work / f"bulk-{workers}-{next(RUNS)}"
        url = url_factory(f"bulk{workers}")
        tokens = _prepare(accept, url, bulk, data_dir)
        service = Service(data_dir=data_dir, store_url=url, workers=workers)
        try:
            chunks = [
                bulk.records[i : i + BULK_RECORDS]
                for i in range(0, len(bulk.records), BULK_RECORDS)
            ]
            bodies = [
                b'{"format":"carbonledger-submission-batch/1","submissions":['
                + b",".join(c) + b"]}"
                for c in chunks
            ]  # fmt: skip
            plan = {
                "url": service.url + "/records/bulk",
                "token": tokens[_producer_of(accept.CR_TANK)],
                "bodies": _bodies(work, "bulk", bodies),
                "keys": [f"bulk-{workers}-{i}" for i in range(len(bodies))],
                "warmup": bulk_concurrency,
                "concurrency": bulk_concurrency,
            }
            result = _run_generator(plan, work)
            result["records_per_s"] = result["requests_per_s"] * BULK_RECORDS
            figures["bulk"] = result
        finally:
            service.stop()
        figures["load_after"] = os.getloadavg()[0]
        out[f"workers_{workers}"] = figures
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer records")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--concurrency", type=int, default=32, help="single POSTs in flight")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        print(json.dumps(asyncio.run(_generate(json.loads(Path(args.generate).read_text())))))
        return 0
    sys.path.insert(0, str(REPO_ROOT))
    from ledger.store import sqlite_url

    accept = _accept_benchmark()
    singles, bulks, warmup = (2000, 1000, 200) if args.quick else (6000, 3000, 500)
    small = _small_workload(accept, singles + warmup)
    bulk = accept.Workload(bulks + 2 * BULK_RECORDS)
    report: dict[str, Any] = {
        "format": "carbonledger-bench-http/1",
        "small_record_bytes": len(small.records[0]),
        "bulk_record_bytes": len(bulk.records[0]),
        "concurrency": args.concurrency,
        "cores": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "ceiling_small_records_per_s": accept.ceiling(small)["records_per_s"],
        "ceiling_bulk_records_per_s": accept.ceiling(bulk)["records_per_s"],
        "backends": {},
        "notes": [],
    }
    options = {"warmup": warmup, "concurrency": args.concurrency, "bulk_concurrency": 4}
    with tempfile.TemporaryDirectory(prefix="carbonledger-bench-http-") as tmp:
        work = Path(tmp)
        counter = iter(range(1000))
        report["backends"]["sqlite"] = run_backend(
            accept,
            lambda label: sqlite_url(work / f"db-{label}-{next(counter)}"),
            small, bulk, work=work, **options,
        )  # fmt: skip
        if args.no_postgres:
            report["notes"].append("PostgreSQL skipped (--no-postgres)")
        else:
            with accept.postgres() as factory:
                if factory is None:
                    report["notes"].append("PostgreSQL skipped: no initdb/pg_ctl binaries found")
                else:
                    report["backends"]["postgresql"] = run_backend(
                        accept, factory, small, bulk, work=work, **options
                    )
    _ratios(report)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print(report)
    return 0


def _ratios(report: dict[str, Any]) -> None:
    for figures in report["backends"].values():
        for workers in WORKER_COUNTS:
            run = figures[f"workers_{workers}"]
            run["single"]["over_ceiling"] = (
                run["single"]["requests_per_s"] / report["ceiling_small_records_per_s"]
            )
            run["bulk"]["over_ceiling_per_worker"] = run["bulk"]["records_per_s"] / (
                report["ceiling_bulk_records_per_s"] * workers
            )
        one, two = figures["workers_1"], figures["workers_2"]
        figures["single_two_over_one"] = (
            two["single"]["requests_per_s"] / one["single"]["requests_per_s"]
        )
        figures["bulk_two_over_one"] = two["bulk"]["records_per_s"] / one["bulk"]["records_per_s"]


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['cores']} cores; load average before {report['load_before']:.1f}; "
        f"{report['concurrency']} single POSTs in flight, 4 bulks of {BULK_RECORDS}"
    )
    print(
        f"ceiling (one process): small records ({report['small_record_bytes']} B) "
        f"{report['ceiling_small_records_per_s']:.0f}/s, carbon records "
        f"({report['bulk_record_bytes']} B) {report['ceiling_bulk_records_per_s']:.0f}/s"
    )
    for name, figures in report["backends"].items():
        for workers in WORKER_COUNTS:
            run = figures[f"workers_{workers}"]
            single, bulk = run["single"], run["bulk"]
            print(
                f"{name:<10} {workers} worker(s), load {run['load']:.1f}-{run['load_after']:.1f}: "
                f"single {single['requests_per_s']:6.0f} req/s (target >= 1000), "
                f"p50 {single['p50_s'] * 1e3:5.1f} ms, p99 {single['p99_s'] * 1e3:6.1f} ms "
                f"(target <= 50), {single['over_ceiling']:.2f} of the ceiling; "
                f"failures {single['failures']} {single['failure_samples']}"
            )
            print(
                f"{'':<10} bulk {bulk['records_per_s']:6.0f} records/s, "
                f"{bulk['over_ceiling_per_worker']:.2f} of the ceiling per worker "
                f"(target >= 0.60); p99 of a bulk {bulk['p99_s'] * 1e3:.0f} ms; "
                f"failures {bulk['failures']}"
            )
        print(
            f"{name:<10} two workers over one: single {figures['single_two_over_one']:.2f}x, "
            f"bulk {figures['bulk_two_over_one']:.2f}x (target >= 1.70)"
        )
    for note in report["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
