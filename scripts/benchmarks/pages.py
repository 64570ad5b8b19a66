"""Benchmark of the pages (docs/PAGES.md): median and p95 time to render the enterprise
page and the search, on a large ledger against the same pages on a small one, in the same
run. The large ledger must stay under 3x the small one: the pages read the registry's
indexes (migration 0009_pages), never scan the records.

Ledgers, both built through ``LedgerService.accept_bulk`` (the accept path, which writes
the indexes in the accepting transaction) over SQLite:

- small: the example ledger (``ledger.examples``: the maker, its ratings, its equipment)
  filled up to 100 records;
- large: the same, 2,000 registered enterprises, each with its Handle prefix, and archive
  records (copies of the example inspection, each for its own piece of equipment under
  one of those prefixes) up to 100,000 records (``--quick``: 10,000).

Timed, in-process through the ASGI app (``fastapi.testclient``): ``GET /enterprise?id=``
of the example maker signed in as nobody (the public page) and as a regulator,
``GET /search?q=`` by part of a name (a result list), by a Handle and by a digest.

Usage (from the repository root):
    scripts/bench pages [--quick] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import CarbonLedgerSettings
from ledger.core.canonical import canonicalize
from ledger.core.records import RECORD_TYPES
from ledger.core.signature import public_key_bytes, sign_digest
from ledger.core.view import Commitment, commit
from ledger.examples import BIM_TANK_INSPECTION, example_records
from ledger.examples.equipment import ENTERPRISE
from ledger.service import BATCH_FORMAT, SUBMISSION_FORMAT, LedgerService, ManualClock
from ledger.store import Store, sqlite_url
from ledger.store.access import add_principal, issue_api_key
from ledger.store.directory import DirectoryEntry
from ledger.store.indexes import register_enterprise
from ledger.store.producers import add_producer, add_producer_key

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BULK = 1000
ROUNDS = 60
WARM_UP = 15
LIMIT = 3.0


class Ledger:
    """A store filled through the accept path, and the app over it."""

    def __init__(self, directory: Path, *, records: int, enterprises: int) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        commitments: dict[str, Commitment] = {}

        def digest_of(record: dict[str, Any]) -> str:
            commitments[record["id"]] = commit(record)
            return commitments[record["id"]].digest_hex

        examples = example_records(digest_of)
        self.digest = commitments[BIM_TANK_INSPECTION].digest_hex
        submissions = [self._submission(commitments[rid]) for rid in examples]
        template = examples[BIM_TANK_INSPECTION]
        for i in range(records - len(submissions)):
            record = copy.deepcopy(template)
            prefix = f"88.{500 + i % max(enterprises, 1)}.1"
            subject = f"{prefix}/EQ-{i:06d}"
            record["id"] = f"{BIM_TANK_INSPECTION}-bench-{i:06d}"
            record["subject"] = subject
            record["body"]["equipment"]["identifiers"][0]["value"] = subject
            submissions.append(self._submission(commit(record)))
        self.clock = ManualClock(NOW)
        self.store = Store.open(sqlite_url(directory), clock=self.clock)
        with self.store.transaction() as session:
            for producer, key in self.keys.items():
                add_producer(session, producer, created_at=NOW)
                add_producer_key(
                    session,
                    producer=producer,
                    public_key_hex=public_key_bytes(key).hex(),
                    valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                    record_types=RECORD_TYPES,
                )
            add_principal(session, "bench-regulator", role="regulator", created_at=NOW)
            self.token = issue_api_key(session, "bench-regulator", created_at=NOW).token
            register_enterprise(
                session,
                DirectoryEntry(ENTERPRISE, None, "示例防腐设备有限公司", "CN", ("88.118.8",)),
                at=NOW,
                by="bench",
            )
            for e in range(enterprises):
                entry = DirectoryEntry(
                    f"urn:carbonledger:enterprise:bench-{e:05d}",
                    f"Bench Equipment Works No. {e:05d} Co., Ltd.",
                    f"基准设备第{e:05d}厂有限公司",
                    ("CN", "DE", "SG", "GB")[e % 4],
                    (f"88.{500 + e}.1",),
                )
                register_enterprise(session, entry, at=NOW, by="bench")
        service = LedgerService(
            store=self.store,
            service_key=Ed25519PrivateKey.generate(),
            clock=self.clock,
            max_merge_delay_s=600,
        )
        head = len(examples)
        for submission in submissions[:head]:  # references first, one by one
            service.accept(submission)
        rest = submissions[head:]
        for start in range(0, len(rest), BULK):
            chunk = rest[start : start + BULK]
            service.accept_bulk(
                b'{"format":"'
                + BATCH_FORMAT.encode()
                + b'","submissions":['
                + b",".join(chunk)
                + b"]}"
            )
        settings = CarbonLedgerSettings(data_dir=directory, chain="memory")
        app = create_app(settings, store=self.store, clock=self.clock, ledger=service)
        self.http = TestClient(app, raise_server_exceptions=False, follow_redirects=False)

    def _submission(self, c: Commitment) -> bytes:
        key = self.keys.setdefault(c.record["producer"], Ed25519PrivateKey.generate())
        return canonicalize(
            {
                "format": SUBMISSION_FORMAT,
                "view": c.to_json(),
                "signature": sign_digest(key, c.digest).to_json(),
            }
        )

    def close(self) -> None:
        self.store.close()


def _cases(ledger: Ledger) -> dict[str, Callable[[], Any]]:
    regulator = {"Authorization": f"Bearer {ledger.token}"}
    http = ledger.http
    return {
        "enterprise page (public)": lambda: http.get("/enterprise", params={"id": ENTERPRISE}),
        "enterprise page (regulator)": lambda: http.get(
            "/enterprise", params={"id": ENTERPRISE}, headers=regulator
        ),
        "search by name": lambda: http.get("/search", params={"q": "equipment co"}),
        "search by Handle": lambda: http.get("/search", params={"q": "88.118.8/st-tk-0101"}),
        "search by digest": lambda: http.get("/search", params={"q": ledger.digest}),
    }


def _timings(work: Callable[[], Any], rounds: int) -> tuple[float, float]:
    reply = work()
    assert reply.status_code in (200, 303, 404), (reply.status_code, reply.text[:300])
    for _ in range(WARM_UP):  # templates compiled, caches filled, before timing
        work()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(records: int, enterprises: int, rounds: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ledger = Ledger(Path(tmp), records=records, enterprises=enterprises)
        print(f"  built {records:,} records / {enterprises:,} enterprises "
              f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        try:
            return {name: _timings(work, rounds) for name, work in _cases(ledger).items()}
        finally:
            ledger.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 records, not 100,000")
    parser.add_argument("--records", type=int, help="the large ledger's size (default 100,000)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args(argv)
    large = args.records or (10_000 if args.quick else 100_000)
    small = measure(100, 0, ROUNDS)
    big = measure(large, 2_000, ROUNDS)
    rows = {
        name: {
            "small_median_ms": small[name][0] * 1000,
            "small_p95_ms": small[name][1] * 1000,
            "large_median_ms": big[name][0] * 1000,
            "large_p95_ms": big[name][1] * 1000,
            "ratio_median": big[name][0] / small[name][0],
            "ratio_p95": big[name][1] / small[name][1],
        }
        for name in small
    }
    if args.json:
        print(json.dumps({"records": large, "rows": rows}, indent=2))
    else:
        print(f"pages: {large:,} records / 2,000 enterprises against 100 records "
              f"(limit {LIMIT}x)")  # fmt: skip
        for name, r in rows.items():
            print(
                f"  {name:<28} median {r['small_median_ms']:7.2f} -> {r['large_median_ms']:7.2f}"
                f" ms ({r['ratio_median']:.2f}x)   p95 {r['small_p95_ms']:7.2f} ->"
                f" {r['large_p95_ms']:7.2f} ms ({r['ratio_p95']:.2f}x)"
            )
    worst = max(max(r["ratio_median"], r["ratio_p95"]) for r in rows.values())
    return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
