"""Benchmark of ``carbon-verify``: records/s verified from a 10,000-record bundle on anvil,
and the seconds to export that bundle through the HTTP API.

The records (credit changes, calc/1 recomputation of total and grade included, and the
rating rule they cite) go the production way, once: signed by a producer key registered
on the TrustRegistry, accepted by ``LedgerService.accept_bulk`` into a SQLite store, sealed
and anchored in several batches by the ``Anchorer`` on anvil. Then, against the same anvil
and that store:

- the API: the app from ``create_app`` served by uvicorn on 127.0.0.1 (a free port, in a
  thread); the timed figure is one ``GET /v1/bundles?type=credit-change&limit=N`` by a
  regulator (full views), the bundle holding every record (the credit changes as items,
  the rule in the closure), docs/API.md §5;
- the floor: per record one digest recomputation from its view, one Ed25519 verification
  and one proof fold, nothing else (what any verifier must do; the target is >= 0.6 of it);
- the verifier library on the exported bytes (every numbered check; every chain fact
  proven from storage proofs against headers, as ``carbon-verify`` does, read in JSON-RPC
  batch requests through ``ProvenReader``);
- a naive verifier that makes one RPC call per record: the same offline digest and
  signature checks, then ``AnchorRegistry.verifyInclusion(seq, proof, digest)`` as an
  eth_call for every record (the contract checks the proof against its stored root);
- the verifier library again with ``jobs=2`` (``carbon-verify --jobs 2``: the chain facts
  proven once, the records checked in two forked processes), its report compared with the
  one-process report (they must be equal);
- the core serialisation (``serialize_bundle``) and strict parsing of the bundle;
- peak memory: ``carbon-verify bundle`` run in a child process of its own (its
  ``ru_maxrss``) on bundles of 10,000 and 100,000 credit changes anchored straight on the
  same anvil in one batch each (signed, Merkle tree, ``anchorBatch``; no service, so that
  100,000 records build in minutes), and the records/s of those runs.

The load of the machine (``os.getloadavg``) is printed next to the figures: on a shared
machine every ratio is only as good as the load was steady.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.verify [--records N] [--batches B]
        [--memory-records N,N] [--quick] [--json]
Exit codes: 0 done, 1 a verification did not pass, 2 usage error, 3 anvil missing.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from anchoring.anchorer import Anchorer, AnchorerLimits  # noqa: E402
from anchoring.chain import DevChain, default_anvil_path  # noqa: E402
from anchoring.deployment import DeploymentRecord, deploy_contracts  # noqa: E402
from anchoring.toolchain import compile_contracts  # noqa: E402
from api.app import create_app  # noqa: E402
from api.settings import CarbonLedgerSettings  # noqa: E402
from ledger.core.bundle import (  # noqa: E402
    BatchHeader,
    Bundle,
    BundleItem,
    ChainRef,
    parse_bundle,
    serialize_bundle,
)
from ledger.core.canonical import canonicalize  # noqa: E402
from ledger.core.merkle import (  # noqa: E402
    MerkleTree,
    build_manifest,
    manifest_cid,
    manifest_digest,
    verify_inclusion,
)
from ledger.core.signature import (  # noqa: E402
    key_id,
    private_key_from_seed,
    public_key_bytes,
    sign_digest,
    verify_signature,
)
from ledger.core.view import Commitment, commit, verify_view  # noqa: E402
from ledger.examples import rules, trail  # noqa: E402
from ledger.service import BATCH_FORMAT, SUBMISSION_FORMAT, LedgerService, ManualClock  # noqa: E402
from ledger.store import Store, sqlite_url  # noqa: E402
from ledger.store.access import add_principal, issue_api_key  # noqa: E402
from ledger.store.producers import add_producer, add_producer_key  # noqa: E402
from ledger.store.records import count_by_status  # noqa: E402
from verifier.chain import ChainReader, load_abi  # noqa: E402
from verifier.checks import verify_bundle  # noqa: E402
from verifier.model import Pins  # noqa: E402
from verifier.proven import ProvenReader  # noqa: E402
from verifier.report import report_json  # noqa: E402

BULK_SIZE = 1000
KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
KEYS_UNTIL = datetime(2031, 1, 1, tzinfo=UTC)
#: The service clock at acceptance: after the records' issued_at (2026-03-31).
ACCEPTED_AT = datetime(2026, 4, 1, tzinfo=UTC)
SERVICE_KEY = private_key_from_seed(hashlib.sha256(b"bench service").digest())


class Ledger(NamedTuple):
    """The populated store and what the app needs with it."""

    store: Store
    service: LedgerService
    deployment: DeploymentRecord
    token: str


DIMENSIONS = (
    "lifecycle_anticorrosion_compliance",
    "dynamic_carbon_governance",
    "green_anticorrosion_materials",
    "low_carbon_technical_investment",
    "industrial_social_responsibility",
)


def _key(producer: str) -> Any:
    return private_key_from_seed(hashlib.sha256(b"bench\x00" + producer.encode()).digest())


def build_records(n: int) -> tuple[Commitment, list[Commitment]]:
    rule = commit(rules.rating_rule())
    digests = {rule.record["id"]: rule.digest_hex}
    out = []
    for i in range(n):
        scores = {
            d: str(Decimal(40 + (i * (k + 7)) % 60) + Decimal("0.25"))
            for k, d in enumerate(DIMENSIONS)
        }
        record = trail.credit_change(
            digests,
            scores=scores,
            rid=f"urn:carbonledger:credit-change:bench-{i:05d}",
            previous_grade=None,
            previous=None,
        )
        # Each the first rating of an enterprise of its own: nothing is in force before it.
        enterprise = f"urn:carbonledger:enterprise:bench-{i:05d}"
        record["subject"] = record["body"]["enterprise"]["id"] = enterprise
        out.append(commit(record))
    return rule, out


def _submissions(commitments: list[Commitment]) -> list[bytes]:
    return [
        canonicalize(
            {
                "format": SUBMISSION_FORMAT,
                "view": c.to_json(),
                "signature": sign_digest(_key(c.record["producer"]), c.digest).to_json(),
            }
        )
        for c in commitments
    ]


def ledger_on_anvil(
    chain: DevChain, artifacts: Any, commitments: list[Commitment], batches: int, data_dir: Path
) -> Ledger:
    """The records accepted by the ledger service and anchored by the anchorer, as in
    production: producer keys on the TrustRegistry and in the store, ``accept_bulk`` in
    bulks of 1,000, ``batches`` batches sealed and anchored by ``Anchorer.run_once``."""
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=3600)
    trust = chain.contract(load_abi("TrustRegistry"), deployment.address_of("TrustRegistry"))
    clock = ManualClock(ACCEPTED_AT)
    store = Store.open(sqlite_url(data_dir), clock=clock)
    with store.transaction() as session:
        for producer in sorted({c.record["producer"] for c in commitments}):
            pub = public_key_bytes(_key(producer))
            types = sorted(
                {c.record["type"] for c in commitments if c.record["producer"] == producer}
            )
            chain.transact(
                trust.functions.registerKey(
                    bytes.fromhex(key_id(pub)),
                    pub,
                    hashlib.sha256(producer.encode()).digest(),
                    int(KEYS_FROM.timestamp()),
                    int(KEYS_UNTIL.timestamp()),
                )
            )
            for record_type in types:
                chain.transact(
                    trust.functions.grantRecordType(bytes.fromhex(key_id(pub)), record_type)
                )
            add_producer(session, producer, created_at=KEYS_FROM)
            add_producer_key(
                session, producer=producer, public_key_hex=pub.hex(), valid_from=KEYS_FROM,
                record_types=types,
            )  # fmt: skip
        add_principal(session, "bench-regulator", role="regulator", created_at=KEYS_FROM)
        token = issue_api_key(session, "bench-regulator", created_at=KEYS_FROM).token
    service = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=3600
    )
    # Referenced records come first (the rule before the credit changes citing it).
    subs = _submissions(commitments)
    for i in range(0, len(subs), BULK_SIZE):
        service.accept_bulk(
            b'{"format":"'
            + BATCH_FORMAT.encode()
            + b'","submissions":['
            + b",".join(subs[i : i + BULK_SIZE])
            + b"]}"
        )
    anchorer = Anchorer(
        store=store,
        chain=chain,
        deployment=deployment,
        artifacts=artifacts,
        clock=clock,
        limits=AnchorerLimits(
            batch_max_records=-(-len(commitments) // batches),
            batch_max_age_s=1.0,
            max_batches_per_step=batches + 1,
            poll_interval_s=0.0,
        ),
    )
    try:
        clock.advance(5)  # past batch_max_age_s: the last, partial batch is sealed too
        for _ in range(10 * batches + 10):
            if anchorer.run_once().is_idle():
                break
    finally:
        anchorer.close()
    counts = store.run(count_by_status, readonly=True)
    if counts["anchored"] != len(commitments):
        raise SystemExit(f"the anchorer left records unanchored: {counts}")
    return Ledger(store, service, deployment, token)


def naive_verify(data: bytes, reader: ChainReader) -> int:
    """Offline digest and signature checks, then one eth_call per record."""
    bundle = parse_bundle(data, require_canonical=True)
    keys: dict[str, bytes] = {}
    ok = 0
    for it in (*bundle.items, *bundle.closure):
        verify_view(it.view, it.digest.hex())
        if it.signature.key_id not in keys:
            key = reader.key(bytes.fromhex(it.signature.key_id))
            assert key is not None
            keys[it.signature.key_id] = key.public_key
        verify_signature(keys[it.signature.key_id], it.digest, it.signature)
        ok += reader.verify_inclusion_onchain(it.batch_seq, list(it.proof), it.digest)
    return ok


def floor_verify(data: bytes, public_keys: dict[str, bytes]) -> float:
    """The floor: seconds for, per record, one digest recomputation from its view, one
    Ed25519 verification and one proof fold against its batch root, nothing else (the
    bundle is parsed and the keys known before the clock starts)."""
    bundle = parse_bundle(data, require_canonical=True)
    roots = {seq: header.root for seq, header in bundle.batches.items()}
    entries = [*bundle.items, *bundle.closure]
    gc.disable()  # as verify_bundle runs: the cyclic collector paused
    try:
        t = time.perf_counter()
        for it in entries:
            verify_view(it.view, it.digest.hex())
            verify_signature(public_keys[it.signature.key_id], it.digest, it.signature)
            verify_inclusion(it.digest, it.proof, roots[it.batch_seq])
        return time.perf_counter() - t
    finally:
        gc.enable()


def anchored_bundle(chain: DevChain, deployment: DeploymentRecord, n: int, seq: int) -> bytes:
    """A bundle of ``n`` credit changes (their rule in the closure) anchored straight on the
    chain as batch ``seq`` (their producers' keys are registered already)."""
    rule, commitments = build_records(n)
    entries = [rule, *commitments]
    tree = MerkleTree.build([c.digest for c in entries])
    manifest = build_manifest(
        seq=seq,
        prev_manifest_digest_hex="00" * 32,
        created_at="2026-04-01T00:00:00Z",
        digests=[c.digest for c in entries],
    )
    registry = chain.contract(load_abi("AnchorRegistry"), deployment.address_of("AnchorRegistry"))
    receipt = chain.transact(
        registry.functions.anchorBatch(
            seq, tree.root, tree.leaf_count, manifest_digest(manifest), manifest_cid(manifest)
        )
    )
    header = BatchHeader(
        root=tree.root,
        manifest_digest=manifest_digest(manifest),
        leaf_count=tree.leaf_count,
        tx_hash=bytes(receipt["transactionHash"]),
        block_number=int(receipt["blockNumber"]),
        block_hash=bytes(receipt["blockHash"]),
    )

    def item(c: Commitment) -> BundleItem:
        key = _key(c.record["producer"])
        return BundleItem(c, c.digest, sign_digest(key, c.digest), seq, tuple(tree.proof(c.digest)))

    bundle = Bundle(
        chain=ChainRef(
            chain.chain_id,
            deployment.address_of("AnchorRegistry"),
            deployment.address_of("TrustRegistry"),
        ),
        items=tuple(item(c) for c in commitments),
        batches={seq: header},
        closure=(item(rule),),
    )
    return serialize_bundle(bundle)


#: Run in a child process: one verification of a bundle file; prints seconds, records
#: and the peak resident set (ru_maxrss, KiB on Linux) as JSON.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ledger.core.bundle import parse_bundle
from verifier.checks import verify_bundle
from verifier.model import Pins
from verifier.proven import ProvenReader
path, url, chain_id, anchor, trust = sys.argv[2:7]
t = time.perf_counter()
with open(path, "rb") as fh:
    data = fh.read()
reader = ProvenReader.from_urls([url], anchor_registry=anchor)
v = verify_bundle(data, reader=reader, pins=Pins(int(chain_id), anchor, trust))
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"verdict": v.verdict, "records": v.record_count, "seconds": seconds,
                  "peak_kib": peak, "bundle_bytes": len(data)}))
"""


def peak_memory(path: Path, url: str, ref: ChainRef) -> dict[str, Any]:
    """``verify_bundle`` of the file at ``path`` in a child process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO_ROOT), str(path), url, str(ref.chain_id),
         ref.anchor_registry, ref.trust_registry],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the memory run failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


@contextmanager
def served(ledger: Ledger, chain: DevChain, artifacts: Any, data_dir: Path) -> Iterator[str]:
    """The app from ``create_app`` served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    app = create_app(
        CarbonLedgerSettings(data_dir=data_dir, chain="dev"),
        store=ledger.store,
        chain=chain,
        clock=ledger.service.clock,
        ledger=ledger.service,
        deployment=ledger.deployment,
        artifacts=artifacts,
    )
    # Bound here, handed to uvicorn: the port is free and ours before the server starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def export_through_api(base_url: str, token: str, records: int) -> tuple[bytes, float]:
    """One GET of the bundle of every credit change (and the rule in its closure)."""
    with httpx.Client(base_url=base_url, timeout=600) as client:
        t = time.perf_counter()
        response = client.get(
            "/v1/bundles",
            params={"type": "credit-change", "limit": records},
            headers={"Authorization": f"Bearer {token}"},
        )
        seconds = time.perf_counter() - t
    if response.status_code != 200:
        raise SystemExit(f"export failed: {response.status_code} {response.text[:500]}")
    return response.content, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument(
        "--memory-records",
        default="10000,100000",
        help="bundle sizes whose peak memory is measured (comma-separated; 0 for none)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 records, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    n = 1_000 if args.quick else args.records
    try:
        memory_sizes = [int(x) for x in args.memory_records.split(",") if int(x) > 0]
    except ValueError:
        print("--memory-records takes sizes separated by commas", file=sys.stderr)
        return 2
    if args.quick:
        memory_sizes = [1_000, 3_000]
    if not 2 <= n <= 10_000 or args.batches < 1:
        print(
            "--records must be 2..10000 (the API serves 10,000 per bundle), --batches >= 1",
            file=sys.stderr,
        )
        return 2
    anvil = default_anvil_path(REPO_ROOT)
    if not anvil.is_file():
        print(f"anvil missing at {anvil}: run `npm ci`", file=sys.stderr)
        return 3
    artifacts = compile_contracts(project_root=REPO_ROOT)
    t0 = time.perf_counter()
    rule, commitments = build_records(n - 1)
    with tempfile.TemporaryDirectory(prefix="carbonledger-bench-verify-") as name:
        tmp = Path(name)
        chain = DevChain.start(data_dir=tmp / "anvil", anvil_path=anvil)
        try:
            ledger = ledger_on_anvil(
                chain, artifacts, [rule, *commitments], args.batches, tmp / "store"
            )
            build_s = time.perf_counter() - t0
            try:
                with served(ledger, chain, artifacts, tmp / "api") as base_url:
                    data, export_s = export_through_api(base_url, ledger.token, n - 1)
            finally:
                ledger.store.close()
            bundle = parse_bundle(data, require_canonical=True)
            t = time.perf_counter()
            if serialize_bundle(bundle) != data:
                raise SystemExit("the API's bundle is not the canonical serialisation")
            serialize_s = time.perf_counter() - t
            t = time.perf_counter()
            parse_bundle(data, require_canonical=True)
            parse_s = time.perf_counter() - t
            ref = bundle.chain
            pins = Pins(ref.chain_id, ref.anchor_registry, ref.trust_registry)
            url = str(chain.rpc_url)
            proven = ProvenReader.from_urls([url], anchor_registry=ref.anchor_registry)
            load_before = load()
            t = time.perf_counter()
            v = verify_bundle(data, reader=proven, pins=pins)
            verify_s = time.perf_counter() - t
            proven2 = ProvenReader.from_urls([url], anchor_registry=ref.anchor_registry)
            t = time.perf_counter()
            v2 = verify_bundle(data, reader=proven2, pins=pins, jobs=2)
            verify2_s = time.perf_counter() - t
            at = datetime(2026, 1, 1, tzinfo=UTC)
            if report_json(v2, pins=pins, checked_at=at) != report_json(
                v, pins=pins, checked_at=at
            ):
                raise SystemExit("jobs=2 gave another report than jobs=1")
            keys = {
                kid: key.public_key
                for kid in {it.signature.key_id for it in (*bundle.items, *bundle.closure)}
                if (key := proven.key(bytes.fromhex(kid))) is not None
            }
            floor_s = floor_verify(data, keys)
            naive = ChainReader.from_rpc(
                url,
                anchor_registry=ref.anchor_registry,
                trust_registry=ref.trust_registry,
                cache=False,
            )
            t = time.perf_counter()
            naive_ok = naive_verify(data, naive)
            naive_s = time.perf_counter() - t
            load_after = load()
            memory = []
            for seq, size in enumerate(memory_sizes, start=len(bundle.batches) + 1):
                big = anchored_bundle(chain, ledger.deployment, size - 1, seq)
                path = tmp / f"bundle-{size}.json"
                path.write_bytes(big)
                del big
                run = peak_memory(path, url, ref)
                run["load"] = load()
                memory.append(run)
                path.unlink()
        finally:
            chain.stop()
    records = v.record_count
    report: dict[str, Any] = {
        "format": "carbonledger-bench-verify/1",
        "records": records,
        "batches": len(bundle.batches),
        "bundle_bytes": len(data),
        "build_and_anchor_s": round(build_s, 2),
        "serialize_s": round(serialize_s, 3),
        "parse_s": round(parse_s, 3),
        "verifier": {
            "result": v.verdict,
            "seconds": round(verify_s, 3),
            "records_per_s": round(records / verify_s, 1),
            "rpc_calls": proven.calls,
        },
        "verifier_jobs_2": {
            "seconds": round(verify2_s, 3),
            "records_per_s": round(records / verify2_s, 1),
            "rpc_calls": proven2.calls,
        },
        "jobs_2_speedup": round(verify_s / verify2_s, 2),
        "floor": {"seconds": round(floor_s, 3), "records_per_s": round(records / floor_s, 1)},
        "of_floor": round(floor_s / verify_s, 2),
        "load_before": load_before,
        "load_after": load_after,
        "memory": [
            {
                "records": m["records"],
                "bundle_mb": round(m["bundle_bytes"] / 1e6, 1),
                "peak_mb": round(m["peak_kib"] / 1024, 1),
                "seconds": round(m["seconds"], 2),
                "records_per_s": round(m["records"] / m["seconds"], 1),
                "verdict": m["verdict"],
                "load": m["load"],
            }
            for m in memory
        ],
        "naive": {
            "verified": naive_ok,
            "seconds": round(naive_s, 3),
            "records_per_s": round(records / naive_s, 1),
            "rpc_calls": naive.calls,
        },
        "speedup": round(naive_s / verify_s, 2),
        "api_export_s": round(export_s, 3),
        "api_export_mb_per_s": round(len(data) / 1e6 / export_s, 2),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"bundle: {records} records in {report['batches']} batches, {len(data):,} bytes "
            f"(signed, accepted and anchored on anvil in {report['build_and_anchor_s']} s)"
        )
        print(
            f"API export (GET /v1/bundles, uvicorn on 127.0.0.1): {report['api_export_s']} s, "
            f"{report['api_export_mb_per_s']} MB/s"
        )
        print(
            f"core serialisation (serialize_bundle): {report['serialize_s']} s; "
            f"strict parse: {report['parse_s']} s"
        )
        c, nv = report["verifier"], report["naive"]
        print(
            f"floor (per record: digest from its view, Ed25519, proof fold): "
            f"{report['floor']['records_per_s']} records/s ({report['floor']['seconds']} s)"
        )
        print(
            f"carbon-verify library, all checks, chain facts proven: "
            f"{c['records_per_s']} records/s ({c['seconds']} s, {c['rpc_calls']} RPC calls, "
            f"{c['result']})"
        )
        print(
            f"naive, one verifyInclusion eth_call per record: {nv['records_per_s']} records/s "
            f"({nv['seconds']} s, {nv['rpc_calls']} RPC calls)"
        )
        j2 = report["verifier_jobs_2"]
        print(
            f"carbon-verify library, jobs=2 (same report): {j2['records_per_s']} records/s "
            f"({j2['seconds']} s, {j2['rpc_calls']} RPC calls): "
            f"{report['jobs_2_speedup']}x one process"
        )
        print(f"of the floor: {report['of_floor']}; over naive: {report['speedup']}x")
        print(f"machine: {load_before} before the timed runs, {load_after} after")
        for m in report["memory"]:
            print(
                f"peak memory, carbon-verify in a child process: {m['records']} records "
                f"({m['bundle_mb']} MB bundle): {m['peak_mb']} MB, {m['records_per_s']} "
                f"records/s ({m['seconds']} s, {m['verdict']}; {m['load']})"
            )
    failed = [m for m in memory if m["verdict"] != "verified"]
    if v.exit_code != 0 or naive_ok != records or failed:
        print(
            f"verification did not pass: {v.verdict}, naive {naive_ok}/{records}, "
            f"memory runs {[m['verdict'] for m in memory]}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
