"""Chain benchmark: what anchoring costs on py-evm (memory) and anvil (dev).

For each chain, measured in the same run so the ratios compare across machines:

- anchorBatch: gas used (and its ratio to the 21000 gas of a plain transfer),
  wall time per transaction through ``Chain.transact`` (estimate, sign, send,
  receipt), and sequential tx/s against plain value transfers sent the same way;
- verifyInclusion: gas used by a transaction calling it (intrinsic 21000 and
  calldata included) for proofs of 1, 10 and 20 siblings, against the 21000
  base. A proof of d random siblings is folded into a root that is then
  anchored: the contract's work depends only on d, so this costs the same as a
  real tree of 2^d leaves without building one.

Run: ``scripts/bench chain [--txs=N] [--chains=memory,anvil] [--json]`` (options with
``=``: the dispatcher takes every bare word for a benchmark name).
Never a timed test: the figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from anchoring.chain import Chain, DevChain, MemoryChain, default_anvil_path  # noqa: E402
from anchoring.deployment import deploy_contracts  # noqa: E402
from anchoring.toolchain import compile_contracts  # noqa: E402
from ledger.core.merkle import leaf_hash, process_proof  # noqa: E402

BASE_TX_GAS = 21_000
PROOF_DEPTHS = (1, 10, 20)


def _timed(n: int, send: Callable[[int], dict[str, Any]]) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    gas: list[int] = []
    for i in range(n):
        started = time.perf_counter()
        receipt = send(i)
        latencies.append(time.perf_counter() - started)
        gas.append(int(receipt["gasUsed"]))
    return latencies, gas


def measure(chain: Chain, artifacts: dict[str, Any], txs: int) -> dict[str, Any]:
    record = deploy_contracts(chain, artifacts, admin_delay_s=0)
    registry = chain.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
    receiver = chain.dev_accounts()[1].address

    # Warm-up (connection set-up, first-call caches) is not part of either figure.
    for i in range(5):
        chain.send_value(receiver, i + 1)
    transfer_s, transfer_gas = _timed(txs, lambda i: dict(chain.send_value(receiver, i + 1)))

    def anchor(i: int) -> dict[str, Any]:
        root = os.urandom(32)
        fn = registry.functions.anchorBatch(i + 1, root, 4, os.urandom(32), "bafkreibench")
        return dict(chain.transact(fn))

    anchor_s, anchor_gas = _timed(txs, anchor)

    verify_gas: dict[int, int] = {}
    seq = txs
    for depth in PROOF_DEPTHS:
        digest = os.urandom(32)
        proof = [os.urandom(32) for _ in range(depth)]
        root = process_proof(leaf_hash(digest), proof)
        seq += 1
        chain.transact(registry.functions.anchorBatch(seq, root, 2**depth, os.urandom(32), ""))
        fn = registry.functions.verifyInclusion(seq, proof, digest)
        if not chain.call(fn):
            raise SystemExit(f"verifyInclusion rejected a valid depth-{depth} proof")
        # Sent as a transaction, so gasUsed is exact (an estimate may add a margin).
        verify_gas[depth] = int(chain.transact(fn)["gasUsed"])

    transfer_tps = txs / sum(transfer_s)
    anchor_tps = txs / sum(anchor_s)
    return {
        "chain": chain.kind,
        "txs": txs,
        "transfer_gas": int(statistics.median(transfer_gas)),
        "transfer_tx_per_s": round(transfer_tps, 1),
        "anchor_gas_first": anchor_gas[0],
        "anchor_gas_median": int(statistics.median(anchor_gas)),
        "anchor_gas_vs_base": round(statistics.median(anchor_gas) / BASE_TX_GAS, 2),
        "anchor_ms_median": round(statistics.median(anchor_s) * 1000, 2),
        "anchor_ms_p95": round(sorted(anchor_s)[int(0.95 * (len(anchor_s) - 1))] * 1000, 2),
        "anchor_tx_per_s": round(anchor_tps, 1),
        "anchor_tps_vs_transfer": round(anchor_tps / transfer_tps, 2),
        "verify_gas": verify_gas,
        "verify_gas_vs_base": {d: round(g / BASE_TX_GAS, 2) for d, g in verify_gas.items()},
    }


def _open(kind: str, workdir: Path) -> Chain:
    if kind == "memory":
        return MemoryChain()
    if kind == "anvil":
        return DevChain.start(data_dir=workdir / "anvil", anvil_path=default_anvil_path(ROOT))
    raise SystemExit(f"unknown chain {kind!r}: use memory or anvil")


def render(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, ...]] = [("figure", *(r["chain"] for r in results))]

    def row(label: str, fn: Callable[[dict[str, Any]], Any]) -> None:
        rows.append((label, *(str(fn(r)) for r in results)))

    row("plain transfer gas (baseline)", lambda r: r["transfer_gas"])
    row("plain transfer tx/s (baseline)", lambda r: r["transfer_tx_per_s"])
    row("anchorBatch gas, batch 1", lambda r: r["anchor_gas_first"])
    row("anchorBatch gas, median", lambda r: r["anchor_gas_median"])
    row("anchorBatch gas / 21000", lambda r: r["anchor_gas_vs_base"])
    row("anchorBatch ms, median", lambda r: r["anchor_ms_median"])
    row("anchorBatch ms, p95", lambda r: r["anchor_ms_p95"])
    row("anchorBatch tx/s (sequential)", lambda r: r["anchor_tx_per_s"])
    row("anchorBatch tx/s / transfer tx/s", lambda r: r["anchor_tps_vs_transfer"])
    for depth in PROOF_DEPTHS:
        rows.append(
            (f"verifyInclusion gas, depth {depth}", *(str(r["verify_gas"][depth]) for r in results))
        )
        rows.append(
            (
                f"verifyInclusion gas / 21000, depth {depth}",
                *(str(r["verify_gas_vs_base"][depth]) for r in results),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench chain", description=__doc__)
    parser.add_argument("--txs", type=int, default=50, help="transactions per measurement")
    parser.add_argument("--chains", default="memory,anvil", help="comma-separated: memory,anvil")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    artifacts = compile_contracts(project_root=ROOT)
    results = []
    with tempfile.TemporaryDirectory(prefix="carbonledger-bench-") as tmp:
        for kind in args.chains.split(","):
            chain = _open(kind.strip(), Path(tmp))
            try:
                result = measure(chain, artifacts, args.txs)
                result["chain"] = "py-evm" if kind == "memory" else "anvil"
                results.append(result)
            finally:
                chain.close()
    if args.json:
        print(json.dumps({"format": "carbonledger-bench-chain/1", "results": results}, indent=2))
    else:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
