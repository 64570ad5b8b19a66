"""Benchmark of ``carbon-verify``: records/s verified from a 10,000-record bundle on anvil.

Measures, in one run against the same anvil and the same bundle:
- the verifier library (every numbered check; chain reads through HTTP JSON-RPC, cached per
  batch, key and run, revocations and attestations from one eth_getLogs each);
- a naive verifier that makes one RPC call per record: the same offline digest and
  signature checks, then ``AnchorRegistry.verifyInclusion(seq, proof, digest)`` as an
  eth_call for every record (the contract checks the proof against its stored root);
- the core serialisation (``serialize_bundle``) and strict parsing of the bundle.

The records are credit changes (calc/1 recomputation of total and grade included) signed
by a registered producer key and anchored in several batches.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.verify [--records N] [--batches B] [--quick] [--json]
Exit codes: 0 done, 1 a verification did not pass, 2 usage error, 3 anvil missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from hexbytes import HexBytes  # noqa: E402

from anchoring.chain import DevChain, default_anvil_path  # noqa: E402
from anchoring.deployment import deploy_contracts  # noqa: E402
from anchoring.toolchain import compile_contracts  # noqa: E402
from ledger.core.bundle import (  # noqa: E402
    BatchHeader,
    Bundle,
    BundleItem,
    ChainRef,
    parse_bundle,
    serialize_bundle,
)
from ledger.core.commitment import Commitment, commit, verify_view  # noqa: E402
from ledger.core.examples import rules, trail  # noqa: E402
from ledger.core.merkle import (  # noqa: E402
    ZERO_DIGEST_HEX,
    MerkleTree,
    build_manifest,
    manifest_cid,
    manifest_digest,
)
from ledger.core.signature import (  # noqa: E402
    key_id,
    private_key_from_seed,
    public_key_bytes,
    sign_digest,
    verify_signature,
)
from verifier.chain import ChainReader, load_abi  # noqa: E402
from verifier.checks import verify_bundle  # noqa: E402
from verifier.model import Pins  # noqa: E402

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
            digests, scores=scores, rid=f"urn:carbonledger:credit-change:bench-{i:05d}"
        )
        out.append(commit(record))
    return rule, out


def anchor_all(
    chain: DevChain, artifacts: Any, commitments: list[Commitment], batches: int
) -> Bundle:
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=3600)
    anchor_addr = deployment.address_of("AnchorRegistry")
    trust_addr = deployment.address_of("TrustRegistry")
    trust = chain.contract(load_abi("TrustRegistry"), trust_addr)
    registry = chain.contract(load_abi("AnchorRegistry"), anchor_addr)
    for producer in sorted({c.record["producer"] for c in commitments}):
        pub = public_key_bytes(_key(producer))
        chain.transact(
            trust.functions.registerKey(
                bytes.fromhex(key_id(pub)),
                pub,
                hashlib.sha256(producer.encode()).digest(),
                1735689600,
                1924992000,
            )
        )
    size = -(-len(commitments) // batches)
    groups = [commitments[i : i + size] for i in range(0, len(commitments), size)]
    headers: dict[int, BatchHeader] = {}
    trees: dict[int, MerkleTree] = {}
    seq_of: dict[bytes, int] = {}
    prev = ZERO_DIGEST_HEX
    for seq, group in enumerate(groups, start=1):
        digests = [c.digest for c in group]
        tree = MerkleTree.build(digests)
        manifest = build_manifest(
            seq=seq,
            prev_manifest_digest_hex=prev,
            created_at="2026-04-01T00:00:00Z",
            digests=digests,
        )
        receipt = chain.transact(
            registry.functions.anchorBatch(
                seq, tree.root, tree.leaf_count, manifest_digest(manifest), manifest_cid(manifest)
            )
        )
        prev = manifest_digest(manifest).hex()
        trees[seq] = tree
        headers[seq] = BatchHeader(
            tree.root,
            manifest_digest(manifest),
            tree.leaf_count,
            bytes(HexBytes(receipt["transactionHash"])),
            int(receipt["blockNumber"]),
            bytes(HexBytes(receipt["blockHash"])),
        )
        seq_of.update({d: seq for d in digests})

    def item(c: Commitment) -> BundleItem:
        seq = seq_of[c.digest]
        sig = sign_digest(_key(c.record["producer"]), c.digest)
        return BundleItem(c, c.digest, sig, seq, tuple(trees[seq].proof(c.digest)))

    items, closure = commitments[1:], commitments[:1]
    return Bundle(
        ChainRef(chain.chain_id, anchor_addr, trust_addr),
        tuple(item(c) for c in items),
        headers,
        tuple(item(c) for c in closure),
    )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1,000 records, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    n = 1_000 if args.quick else args.records
    if not 1 <= n <= 10_000 or args.batches < 1:
        print("--records must be 1..10000 (a bundle's item limit), --batches >= 1", file=sys.stderr)
        return 2
    anvil = default_anvil_path(REPO_ROOT)
    if not anvil.is_file():
        print(f"anvil missing at {anvil}: run `npm ci`", file=sys.stderr)
        return 3
    artifacts = compile_contracts(project_root=REPO_ROOT)
    t0 = time.perf_counter()
    rule, commitments = build_records(n - 1)
    with tempfile.TemporaryDirectory() as tmp:
        chain = DevChain.start(data_dir=Path(tmp) / "anvil", anvil_path=anvil)
        try:
            bundle = anchor_all(chain, artifacts, [rule, *commitments], args.batches)
            build_s = time.perf_counter() - t0
            t = time.perf_counter()
            data = serialize_bundle(bundle)
            serialize_s = time.perf_counter() - t
            t = time.perf_counter()
            parse_bundle(data, require_canonical=True)
            parse_s = time.perf_counter() - t
            ref = bundle.chain
            pins = Pins(ref.chain_id, ref.anchor_registry, ref.trust_registry)
            url = str(chain.rpc_url)
            cached = ChainReader.from_rpc(
                url, anchor_registry=ref.anchor_registry, trust_registry=ref.trust_registry
            )
            t = time.perf_counter()
            v = verify_bundle(data, reader=cached, pins=pins)
            cached_s = time.perf_counter() - t
            naive = ChainReader.from_rpc(
                url,
                anchor_registry=ref.anchor_registry,
                trust_registry=ref.trust_registry,
                cache=False,
            )
            t = time.perf_counter()
            naive_ok = naive_verify(data, naive)
            naive_s = time.perf_counter() - t
        finally:
            chain.stop()
    records = v.record_count
    report = {
        "format": "carbonledger-bench-verify/1",
        "records": records,
        "batches": len(bundle.batches),
        "bundle_bytes": len(data),
        "build_and_anchor_s": round(build_s, 2),
        "serialize_s": round(serialize_s, 3),
        "parse_s": round(parse_s, 3),
        "verifier": {
            "result": v.verdict,
            "seconds": round(cached_s, 3),
            "records_per_s": round(records / cached_s, 1),
            "rpc_calls": cached.calls,
        },
        "naive": {
            "verified": naive_ok,
            "seconds": round(naive_s, 3),
            "records_per_s": round(records / naive_s, 1),
            "rpc_calls": naive.calls,
        },
        "speedup": round(naive_s / cached_s, 2),
        "api_export_s": None,  # TODO(api): time GET of this bundle through the HTTP API
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"bundle: {records} records in {report['batches']} batches, {len(data):,} bytes "
            f"(built, signed and anchored on anvil in {report['build_and_anchor_s']} s)"
        )
        print(
            f"core serialisation (serialize_bundle): {report['serialize_s']} s; "
            f"strict parse: {report['parse_s']} s"
        )
        c, nv = report["verifier"], report["naive"]
        print(
            f"carbon-verify library, all checks, reads cached per batch: "
            f"{c['records_per_s']} records/s ({c['seconds']} s, {c['rpc_calls']} RPC calls, "
            f"{c['result']})"
        )
        print(
            f"naive, one verifyInclusion eth_call per record: {nv['records_per_s']} records/s "
            f"({nv['seconds']} s, {nv['rpc_calls']} RPC calls)"
        )
        print(f"speed-up: {report['speedup']}x")
        print(
            "TODO(api): seconds to export this bundle through the HTTP API: not measured yet "
            "(the export route does not exist); core serialisation time above stands in"
        )
    if v.exit_code != 0 or naive_ok != records:
        print(
            f"verification did not pass: {v.verdict}, naive {naive_ok}/{records}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
