"""Benchmarks of the pure core: record digests and Merkle batches.

Measures, in one run on the same inputs:
- record digest v1 (DESIGN.md §3.2) of a ~2 KB carbon record with 30 activity lines, in
  records/s, and its cost relative to one RFC 8785 serialization (the ``rfc8785`` package)
  plus one SHA-256 of the same record;
- Merkle tree build for 10k and 100k leaves and inclusion-proof verification per second,
  each against @openzeppelin/merkle-tree running in node on the same leaves.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.core [--quick] [--json] [--node PATH]
Exit codes: 0 done, 2 usage error, 3 node or node_modules missing (JS ratios not measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785

from ledger.core.commitment import commit
from ledger.core.merkle import MerkleTree, verify_inclusion

REPO_ROOT = Path(__file__).resolve().parents[2]

# Builds StandardMerkleTree.of on the given digests and verifies the given proofs; times
# only the work itself (not node start-up or JSON parsing), like the Python side.
_JS = r"""
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const out = [];
  for (const digests of req.builds) {
    const values = digests.map((d) => ["0x" + d]);
    const t0 = process.hrtime.bigint();
    const tree = StandardMerkleTree.of(values, ["bytes32"]);
    const t1 = process.hrtime.bigint();
    out.push({ leaves: digests.length, build_s: Number(t1 - t0) / 1e9, root: tree.root.slice(2) });
  }
  const v = req.verify;
  const proofs = v.proofs.map((p) => p.map((x) => "0x" + x));
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < proofs.length; i++) {
    const leaf = ["0x" + v.digests[i]];
    if (StandardMerkleTree.verify("0x" + v.root, ["bytes32"], leaf, proofs[i])) ok++;
  }
  const t1 = process.hrtime.bigint();
  process.stdout.write(JSON.stringify({ builds: out, verify_s: Number(t1 - t0) / 1e9, ok }));
});
"""


def carbon_record(lines: int = 30) -> dict[str, Any]:
    """A representative carbon-record: 30 activity lines with decimal-string quantities."""
    rng = random.Random(2026)
    stages = ["A1", "A2", "A3", "A4"]
    activities = ["electricity", "natural-gas", "titanium-sponge", "steel-plate", "diesel"]
    return {
        "type": "carbon-record",
        "schema_version": 1,
        "id": "rec-2026-000042",
        "subject": "88.118.8/TI-HX-0042",
        "issued_at": "2026-01-31T12:00:00Z",
        "producer": "plant-a.example",
        "refs": [
            {"rel": "factor-set", "id": "fs-cn-2025.2", "digest": "ab" * 32},
            {"rel": "rule", "id": "rr-eu-cbam-2026", "digest": "cd" * 32},
        ],
        "body": {
            "boundary": "cradle-to-gate",
            "lines": [
                {
                    "stage": stages[i % 4],
                    "activity": rng.choice(activities),
                    "amount": f"{rng.randrange(1, 10**7) / 10**4:.4f}",
                    "unit": "kWh",
                }
                for i in range(lines)
            ],
            "total_kgco2e": "18234.5512",
        },
    }


def _rate(fn: Callable[[], Any], min_time_s: float) -> float:
    """Calls per second of ``fn``, measured for at least ``min_time_s``."""
    n, elapsed = 0, 0.0
    start = time.perf_counter()
    while elapsed < min_time_s:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
    return n / elapsed


def bench_digest(min_time_s: float) -> dict[str, Any]:
    record = carbon_record()
    commitment = commit(record, salt_source=random.Random(1).randbytes)
    size = len(rfc8785.dumps(record))
    digest_rate = _rate(lambda: type(commitment)(record, commitment.salts).digest, min_time_s)
    raw_rate = _rate(lambda: hashlib.sha256(rfc8785.dumps(record)).digest(), min_time_s)
    return {
        "record_bytes": size,
        "pairs": len(commitment.salts),
        "digest_records_per_s": round(digest_rate, 1),
        "jcs_plus_sha256_per_s": round(raw_rate, 1),
        "digest_cost_vs_jcs_plus_sha256": round(raw_rate / digest_rate, 2),
    }


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_merkle(sizes: list[int], n_proofs: int, node: Path | None) -> dict[str, Any]:
    rng = random.Random(7)
    builds = []
    trees = []
    leaf_sets = []
    for n in sizes:
        digests = [rng.randbytes(32) for _ in range(n)]
        elapsed, tree = _time(lambda d=digests: MerkleTree.build(d))  # type: ignore[misc]
        builds.append({"leaves": n, "build_s": round(elapsed, 4)})
        trees.append(tree)
        leaf_sets.append(digests)
    tree, digests = trees[-1], leaf_sets[-1]
    sample = rng.sample(digests, min(n_proofs, len(digests)))
    proofs = [tree.proof(d) for d in sample]
    start = time.perf_counter()
    for d, p in zip(sample, proofs, strict=True):
        verify_inclusion(d, p, tree.root)
    verify_rate = len(sample) / (time.perf_counter() - start)
    result: dict[str, Any] = {"builds": builds, "verify_per_s": round(verify_rate, 1)}
    if node is None:
        return result
    request = {
        "builds": [[d.hex() for d in ds] for ds in leaf_sets],
        "verify": {
            "root": tree.root.hex(),
            "digests": [d.hex() for d in sample],
            "proofs": [[x.hex() for x in p] for p in proofs],
        },
    }
    proc = subprocess.run(
        [str(node), "-e", _JS],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    js = json.loads(proc.stdout)
    for ours, theirs, t in zip(builds, js["builds"], trees, strict=True):
        if theirs["root"] != t.root.hex():
            raise RuntimeError(f"root differs from OpenZeppelin's at {t.leaf_count} leaves")
        ours["js_build_s"] = round(theirs["build_s"], 4)
        ours["speedup_vs_js"] = round(theirs["build_s"] / ours["build_s"], 2)
    if js["ok"] != len(sample):
        raise RuntimeError("OpenZeppelin refused one of our proofs")
    js_rate = len(sample) / js["verify_s"]
    result["js_verify_per_s"] = round(js_rate, 1)
    result["verify_speedup_vs_js"] = round(verify_rate / js_rate, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    parser.add_argument("--node", type=Path, default=REPO_ROOT / "node_modules" / ".bin" / "node")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    node: Path | None = args.node
    status = 0
    if (
        node is None
        or not node.exists()
        or not (REPO_ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").exists()
    ):
        print("node or @openzeppelin/merkle-tree missing: JS ratios skipped", file=sys.stderr)
        node, status = None, 3
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000]
    report: dict[str, Any] = {
        "format": "carbonledger-bench-core/1",
        "digest": bench_digest(0.3 if args.quick else 2.0),
        "merkle": bench_merkle(sizes, 2_000 if args.quick else 20_000, node),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        d, m = report["digest"], report["merkle"]
        print(f"record: {d['record_bytes']} bytes JCS, {d['pairs']} field pairs")
        print(f"digest v1: {d['digest_records_per_s']} records/s")
        print(
            f"JCS + SHA-256 only: {d['jcs_plus_sha256_per_s']} records/s "
            f"(digest costs {d['digest_cost_vs_jcs_plus_sha256']}x)"
        )
        for b in m["builds"]:
            js = f", JS {b['js_build_s']} s, {b['speedup_vs_js']}x" if "js_build_s" in b else ""
            print(f"merkle build {b['leaves']} leaves: {b['build_s']} s{js}")
        js = (
            f", JS {m['js_verify_per_s']}/s, {m['verify_speedup_vs_js']}x"
            if "js_verify_per_s" in m
            else ""
        )
        print(f"proof verification: {m['verify_per_s']}/s{js}")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
