"""Benchmarks of the pure core: strict parsing, record digests and Merkle batches.

Measures, in one run on the same inputs, each figure as a ratio to a baseline of that run:
- record digest v1 (docs/FORMAT.md §2.2) of the example storage-tank carbon record (about
  200 field pairs, 7 KB), computed from its full view, against one RFC 8785 serialization of
  the whole record (``canonicalize``; target: digest at most 2x), with the ``rfc8785``
  package and ``json.dumps`` shown for context;
- strict parsing (``parse_json``, docs/FORMAT.md §1.1) against ``json.loads`` of the same
  bytes (target: at most 3x) for the 7 KB record, its 19 KB submission and a 1 MB bulk of
  submissions, and the bulk against parsing its submissions one by one (target: at most 1x);
- Merkle tree build for 10k and 100k leaves and inclusion-proof verification per second,
  each against @openzeppelin/merkle-tree running in node on the same leaves.

Usage (from the repository root):
    .venv/bin/python -m scripts.benchmarks.core [--quick] [--json] [--node PATH]
Exit codes: 0 done, 2 usage error, 3 node or node_modules missing (JS ratios not measured).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import rfc8785

from ledger.core.canonical import canonicalize, parse_json
from ledger.core.merkle import MerkleTree, verify_inclusion
from ledger.core.signature import private_key_from_seed, sign_digest
from ledger.core.view import Commitment, commit
from ledger.examples import CR_TANK, example_records
from ledger.service.submission import BATCH_FORMAT, SUBMISSION_FORMAT

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Targets of the ratios: what the pure core costs against what one serialization, or one
#: plain parse, of the same bytes costs.
DIGEST_OVER_JCS_TARGET = 2.0
PARSE_OVER_JSON_LOADS_TARGET = 3.0
BULK_BYTES = 1 << 20

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


def example_carbon_record() -> dict[str, Any]:
    """The example storage-tank carbon record: 197 field pairs, about 7 KB as JCS."""
    return example_records()[CR_TANK]


def submission_bytes(commitment: Commitment, *, seed: bytes = b"\x01" * 32) -> bytes:
    """A signed submission of ``commitment`` (docs/SUBMISSION.md), as a producer sends it."""
    signature = sign_digest(private_key_from_seed(seed), commitment.digest)
    submission = {"format": SUBMISSION_FORMAT, "view": commitment.to_json()}
    return canonicalize({**submission, "signature": signature.to_json()})


def seconds_per_call(fn: Callable[[], Any], min_time_s: float) -> float:
    """Mean seconds per call of ``fn``, measured for at least ``min_time_s``."""
    n, elapsed = 0, 0.0
    start = time.perf_counter()
    while elapsed < min_time_s:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
    return elapsed / n


def compare(
    fn: Callable[[], Any], baseline: Callable[[], Any], min_time_s: float, rounds: int = 10
) -> tuple[float, float]:
    """Seconds per call of ``fn`` and of ``baseline``, timed in alternating batches.

    Each figure is the least batch mean over ``rounds`` rounds: on a machine shared with
    other work, the least disturbed batch, and both sides see the same moments.
    """
    per_batch_s = min_time_s / (2 * rounds)
    calls = max(1, round(per_batch_s / seconds_per_call(fn, per_batch_s / 4)))
    base_calls = max(1, round(per_batch_s / seconds_per_call(baseline, per_batch_s / 4)))
    best, best_base = float("inf"), float("inf")
    for _ in range(rounds):
        best = min(best, _batch_s(fn, calls))
        best_base = min(best_base, _batch_s(baseline, base_calls))
    return best, best_base


def _batch_s(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def bench_digest(min_time_s: float) -> dict[str, Any]:
    record = example_carbon_record()
    view = commit(record, salt_source=random.Random(1).randbytes)
    digest_s, jcs_s = compare(
        lambda: Commitment(record, view.salts).digest, partial(canonicalize, record), min_time_s
    )
    _, reference_s = compare(
        partial(canonicalize, record), partial(rfc8785.dumps, record), min_time_s / 2
    )
    _, dumps_s = compare(
        partial(canonicalize, record),
        partial(json.dumps, record, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        min_time_s / 2,
    )
    return {
        "record_bytes": len(canonicalize(record)),
        "pairs": len(view.salts),
        "digest_us": round(digest_s * 1e6, 1),
        "jcs_us": round(jcs_s * 1e6, 1),
        "rfc8785_package_us": round(reference_s * 1e6, 1),
        "json_dumps_us": round(dumps_s * 1e6, 1),
        "digest_over_jcs": round(digest_s / jcs_s, 2),
        "digest_over_rfc8785_package": round(digest_s / reference_s, 2),
        "digest_over_json_dumps": round(digest_s / dumps_s, 2),
    }


def bench_parse(min_time_s: float) -> dict[str, Any]:
    record = example_carbon_record()
    view = commit(record, salt_source=random.Random(2).randbytes)
    one = submission_bytes(view)
    count = max(1, BULK_BYTES // (len(one) + 1))
    bulk_items = [
        submission_bytes(commit(record, salt_source=random.Random(10 + i).randbytes))
        for i in range(count)
    ]
    head = b'{"format":"' + BATCH_FORMAT.encode() + b'","submissions":['
    bulk = head + b",".join(bulk_items) + b"]}"
    inputs = {"record": canonicalize(record), "submission": one, "bulk": bulk}
    out: dict[str, Any] = {}
    for name, data in inputs.items():
        strict_s, loads_s = compare(
            partial(parse_json, data, max_bytes=len(data)), partial(json.loads, data), min_time_s
        )
        out[name] = {
            "bytes": len(data),
            "strict_us": round(strict_s * 1e6, 1),
            "json_loads_us": round(loads_s * 1e6, 1),
            "strict_over_json_loads": round(strict_s / loads_s, 2),
        }

    def one_by_one() -> list[Any]:
        # Kept, as a bulk's values are: both sides hold the same parsed values at the end.
        return [parse_json(item) for item in bulk_items]

    bulk_s, singles_s = compare(
        partial(parse_json, bulk, max_bytes=len(bulk)), one_by_one, min_time_s
    )
    out["bulk"]["submissions"] = count
    out["bulk"]["over_one_by_one"] = round(bulk_s / singles_s, 2)
    return out


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


def print_report(report: dict[str, Any]) -> None:
    d, p, m = report["digest"], report["parse"], report["merkle"]
    print(f"record: {d['record_bytes']} bytes JCS, {d['pairs']} field pairs")
    print(
        f"digest v1 from the full view: {d['digest_us']} us; one JCS serialization "
        f"{d['jcs_us']} us; digest / JCS {d['digest_over_jcs']}x "
        f"(target <= {DIGEST_OVER_JCS_TARGET})"
    )
    print(
        f"  for context: rfc8785 package {d['rfc8785_package_us']} us "
        f"({d['digest_over_rfc8785_package']}x), json.dumps {d['json_dumps_us']} us "
        f"({d['digest_over_json_dumps']}x)"
    )
    for name, f in p.items():
        print(
            f"strict parse {name} ({f['bytes']} bytes): {f['strict_us']} us; json.loads "
            f"{f['json_loads_us']} us; strict / json.loads {f['strict_over_json_loads']}x "
            f"(target <= {PARSE_OVER_JSON_LOADS_TARGET})"
        )
    b = p["bulk"]
    print(
        f"bulk of {b['submissions']} submissions / the same parsed one by one: "
        f"{b['over_one_by_one']}x (target <= 1)"
    )
    for build in m["builds"]:
        js = (
            f", JS {build['js_build_s']} s, {build['speedup_vs_js']}x"
            if "js_build_s" in build
            else ""
        )
        print(f"merkle build {build['leaves']} leaves: {build['build_s']} s{js}")
    js = (
        f", JS {m['js_verify_per_s']}/s, {m['verify_speedup_vs_js']}x"
        if "js_verify_per_s" in m
        else ""
    )
    print(f"proof verification: {m['verify_per_s']}/s{js}")


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
    min_time_s = 0.3 if args.quick else 2.0
    report: dict[str, Any] = {
        "format": "carbonledger-bench-core/2",
        "digest": bench_digest(min_time_s),
        "parse": bench_parse(min_time_s),
        "merkle": bench_merkle(sizes, 2_000 if args.quick else 20_000, node),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
