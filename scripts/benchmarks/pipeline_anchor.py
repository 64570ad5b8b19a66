"""Benchmark of the anchoring half of the pipeline, on anvil.

Measured in one run, through the anchorer itself (store, sealing, signing, broadcast,
receipt), against a baseline measured in the same run on the same chain:

- gas per record at batch sizes 100, 1,000 and 10,000 (one ``anchorBatch`` each), against
  the baseline that anchors each record in its own transaction (batch size 1); the figure
  is baseline / batched (target: at least 1,000x at 10,000);
- time from acceptance to anchored, p50 and p95, for records accepted through the real
  accept path at a steady rate while ``Anchorer.run_forever`` runs beside it (the merge
  delay is the batch age setting T plus the anchoring itself; K = 1 on automining anvil);
- time from a revocation request (``ledger.service.revocation``, what the API calls) to the
  revocation recorded as mined by the anchorer, p50 and p95, against the baseline of a
  ``revoke`` transaction sent directly and waited for (same chain, same run): the ratio is
  what the outbox, the anchorer's poll and the store add.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.pipeline_anchor [--quick] [--json]
or ``scripts/bench pipeline_anchor``. Exit 0 done, 3 anvil missing.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import DevChain, default_anvil_path
from anchoring.deployment import deploy_contracts
from anchoring.toolchain import compile_contracts
from ledger.core.canonical import canonicalize
from ledger.core.reasons import reason_for
from ledger.core.signature import private_key_from_seed, public_key_bytes, sign_digest
from ledger.core.view import commit
from ledger.examples import example_records
from ledger.service import SUBMISSION_FORMAT, LedgerService
from ledger.service.revocation import request_revocation
from ledger.store import Store, sqlite_url
from ledger.store import anchors as txs
from ledger.store.chainfacts import find_revocation
from ledger.store.models import Batch, Record
from ledger.store.producers import add_producer, add_producer_key
from ledger.store.records import NewRecord, insert_pending_records

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCER = "urn:carbonledger:producer:reference-data-desk"
TEMPLATE_ID = "urn:carbonledger:rating-rule:low-carbon-credit-v1"
PRODUCER_KEY = private_key_from_seed(hashlib.sha256(b"bench producer").digest())
SERVICE_KEY = private_key_from_seed(hashlib.sha256(b"bench service").digest())
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _register(store: Store) -> str:
    with store.transaction() as session:
        add_producer(session, PRODUCER, created_at=T0)
        key = add_producer_key(
            session,
            producer=PRODUCER,
            public_key_hex=public_key_bytes(PRODUCER_KEY).hex(),
            valid_from=T0,
            record_types=("rating-rule",),
        )
        return key.key_id


def _synthetic_pending(store: Store, key_id: str, count: int, label: str) -> None:
    """``count`` pending rows (random digests): the gas of a batch depends on nothing else."""
    now = datetime.now(UTC)
    rows = [
        NewRecord(
            record_id=f"bench-{label}-{i}",
            type="rating-rule",
            schema_version="1",
            subject="bench",
            producer=PRODUCER,
            issued_at=now,
            digest_hex=os.urandom(32).hex(),
            full_view=b"{}",
            key_id=key_id,
            signature=bytes(64),
            accepted_at=now,
            receipt=b"{}",
        )
        for i in range(count)
    ]
    with store.transaction() as session:
        insert_pending_records(session, rows)


def _anchor_gas(anchorer: Anchorer, store: Store) -> list[int]:
    """Run the anchorer until nothing is pending; gas used by each batch's mined tx."""
    while True:
        report = anchorer.run_once()
        if report.is_idle():
            break
    gas: list[int] = []
    with store.transaction(readonly=True) as session:
        for batch in session.query(Batch).filter(Batch.state == "anchored").order_by(Batch.seq):
            for row in txs.txs_of_batch(session, batch.seq):
                if row.state == "mined":
                    receipt = anchorer.chain.w3.eth.get_transaction_receipt(row.tx_hash)  # type: ignore[arg-type]
                    gas.append(int(receipt["gasUsed"]))
    return gas


def _world(tmp: Path, label: str, chain: DevChain, artifacts: Any, **limits: Any) -> Any:
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=0)
    store = Store.open(sqlite_url(tmp / label))
    anchorer = Anchorer(
        store=store,
        chain=chain,
        deployment=deployment,
        artifacts=artifacts,
        limits=AnchorerLimits(**limits),
    )
    return store, anchorer


def gas_per_record(
    tmp: Path, chain: DevChain, artifacts: Any, sizes: list[int], singles: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    store, anchorer = _world(tmp, "single", chain, artifacts, batch_max_records=1)
    _synthetic_pending(store, _register(store), singles, "single")
    baseline = _anchor_gas(anchorer, store)
    store.close()
    per_record_baseline = statistics.fmean(baseline)
    out["baseline"] = {"transactions": len(baseline), "gas_per_record": per_record_baseline}
    for size in sizes:
        store, anchorer = _world(tmp, f"b{size}", chain, artifacts, batch_max_records=size)
        _synthetic_pending(store, _register(store), size, f"b{size}")
        (gas,) = _anchor_gas(anchorer, store)
        store.close()
        out[str(size)] = {
            "gas_per_batch": gas,
            "gas_per_record": gas / size,
            "times_lower_than_baseline": per_record_baseline / (gas / size),
        }
    return out


def _submission(record_id: str, template: dict[str, Any]) -> bytes:
    record = copy.deepcopy(template)
    record["id"] = record_id
    commitment = commit(record)
    return canonicalize(
        {
            "format": SUBMISSION_FORMAT,
            "view": commitment.to_json(),
            "signature": sign_digest(PRODUCER_KEY, commitment.digest).to_json(),
        }
    )


def latency(
    tmp: Path,
    chain: DevChain,
    artifacts: Any,
    *,
    rate_per_s: float,
    duration_s: float,
    age_s: float,
) -> dict[str, Any]:
    store, anchorer = _world(
        tmp,
        "latency",
        chain,
        artifacts,
        batch_max_records=1000,
        batch_max_age_s=age_s,
        poll_interval_s=0.1,
    )
    _register(store)
    service = LedgerService(
        store=store,
        service_key=SERVICE_KEY,
        clock=lambda: datetime.now(UTC),
        max_merge_delay_s=600,
    )
    template = example_records()[TEMPLATE_ID]
    count = int(rate_per_s * duration_s)
    submissions = [_submission(f"{TEMPLATE_ID}-lat-{i}", template) for i in range(count)]
    stop = threading.Event()
    thread = threading.Thread(target=anchorer.run_forever, args=(stop,), daemon=True)
    thread.start()
    start = time.monotonic()
    for i, body in enumerate(submissions):
        delay = start + i / rate_per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        service.accept(body)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with store.transaction(readonly=True) as session:
            left = session.query(Record).filter(Record.status != "anchored").count()
        if left == 0:
            break
        time.sleep(0.1)
    stop.set()
    thread.join(10)
    with store.transaction(readonly=True) as session:
        rows = (
            session.query(Record.accepted_at, Batch.anchored_at)
            .join(Batch, Batch.seq == Record.batch_seq)
            .all()
        )
    store.close()
    waits = sorted((b - a) / timedelta(seconds=1) for a, b in rows if b is not None)
    q = statistics.quantiles(waits, n=20) if len(waits) > 1 else waits * 19
    return {
        "records": count,
        "anchored": len(waits),
        "rate_per_s": rate_per_s,
        "batch_max_age_s": age_s,
        "p50_s": statistics.median(waits),
        "p95_s": q[18],
        "max_s": waits[-1],
    }


def revocation_latency(
    tmp: Path, chain: DevChain, artifacts: Any, *, count: int, rate_per_s: float
) -> dict[str, Any]:
    store, anchorer = _world(
        tmp, "revocations", chain, artifacts, batch_max_records=1000, batch_max_age_s=0.5,
        poll_interval_s=0.1,
    )  # fmt: skip
    _register(store)
    service = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=lambda: datetime.now(UTC),
        max_merge_delay_s=600,
    )  # fmt: skip
    template = example_records()[TEMPLATE_ID]
    digests = [
        service.accept(_submission(f"{TEMPLATE_ID}-rev-{i}", template)).digest_hex
        for i in range(count)
    ]
    stop = threading.Event()
    thread = threading.Thread(target=anchorer.run_forever, args=(stop,), daemon=True)
    thread.start()
    asked: dict[str, float] = {}
    mined: dict[str, float] = {}
    start = time.monotonic()
    deadline = start + 120
    while len(mined) < count and time.monotonic() < deadline:
        due = int((time.monotonic() - start) * rate_per_s) + 1
        for digest in digests[len(asked) : min(due, count)]:
            request_revocation(
                store, digest_hex=digest, reason=reason_for(1), reason_digest_hex="ab" * 32,
                requested_by="bench", now=datetime.now(UTC),
            )  # fmt: skip
            asked[digest] = time.monotonic()
        with store.transaction(readonly=True) as session:
            for digest in asked.keys() - mined.keys():
                row = find_revocation(session, digest)
                if row is not None and row.state == "mined":
                    mined[digest] = time.monotonic()
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    store.close()
    waits = sorted(mined[d] - asked[d] for d in mined)
    # Baseline: the same transaction sent directly by the operator and waited for.
    anchor = chain.contract(artifacts["AnchorRegistry"], anchorer.registry.address)
    direct = []
    for i in range(count):
        digest = hashlib.sha256(f"direct {i}".encode()).digest()
        begin = time.monotonic()
        chain.transact(anchor.functions.revoke(digest, 1, bytes(32)))
        direct.append(time.monotonic() - begin)
    direct.sort()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]

    return {
        "requests": count,
        "mined": len(waits),
        "rate_per_s": rate_per_s,
        "p50_s": statistics.median(waits),
        "p95_s": p95(waits),
        "direct_p50_s": statistics.median(direct),
        "direct_p95_s": p95(direct),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter latency run, fewer singles")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    args = parser.parse_args(argv)
    anvil = default_anvil_path(REPO_ROOT)
    if not anvil.is_file():
        print(f"anvil missing at {anvil}: run `npm ci`")
        return 3
    artifacts = compile_contracts(project_root=REPO_ROOT)
    with tempfile.TemporaryDirectory(prefix="carbonledger-bench-anchor-") as name:
        tmp = Path(name)
        chain = DevChain.start(data_dir=tmp / "anvil", anvil_path=anvil)
        try:
            gas = gas_per_record(
                tmp, chain, artifacts, [100, 1000, 10_000], 10 if args.quick else 30
            )
            lat = latency(
                tmp,
                chain,
                artifacts,
                rate_per_s=20.0,
                duration_s=10.0 if args.quick else 30.0,
                age_s=2.0,
            )
            # Revocations are rare events: one a second measures their latency, not the
            # anchorer's throughput (each costs it about ten node round trips).
            rev = revocation_latency(
                tmp, chain, artifacts, count=10 if args.quick else 30, rate_per_s=1.0
            )
        finally:
            chain.stop()
    report = {
        "format": "carbonledger-bench-pipeline-anchor/2",
        "gas": gas,
        "latency": lat,
        "revocation": rev,
    }
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    base = gas["baseline"]["gas_per_record"]
    print(f"baseline (one tx per record): {base:,.0f} gas/record")
    for size in ("100", "1000", "10000"):
        g = gas[size]
        print(
            f"batch {int(size):>6,}: {g['gas_per_batch']:,} gas/batch, "
            f"{g['gas_per_record']:,.1f} gas/record, {g['times_lower_than_baseline']:,.0f}x lower"
        )
    print(
        f"acceptance -> anchored at {lat['rate_per_s']:g} records/s, T = "
        f"{lat['batch_max_age_s']:g} s: p50 {lat['p50_s']:.2f} s, p95 {lat['p95_s']:.2f} s, "
        f"max {lat['max_s']:.2f} s ({lat['anchored']}/{lat['records']} anchored)"
    )
    print(
        f"revocation request -> mined at {rev['rate_per_s']:g}/s: p50 {rev['p50_s']:.2f} s, "
        f"p95 {rev['p95_s']:.2f} s ({rev['mined']}/{rev['requests']} mined); a revoke sent "
        f"directly: p50 {rev['direct_p50_s']:.3f} s, p95 {rev['direct_p95_s']:.3f} s; "
        f"ratio p50 {rev['p50_s'] / rev['direct_p50_s']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
