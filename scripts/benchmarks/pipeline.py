"""`scripts/bench pipeline`: the ledger service end to end, in one run.

1. Acceptance (scripts/benchmarks/accept.py): records/s single and bulk on SQLite and
   PostgreSQL against the ceiling, the CPU cost of strict parse + digest + signature check +
   recomputation (calc/1) of the same records measured in the same run (target: bulk at
   least half the ceiling); the same figures with recomputation off are printed beside.
2. Anchoring (scripts/benchmarks/pipeline_anchor.py), on anvil: time from acceptance to
   anchored (p50/p95) at a steady rate, and gas per record at batch sizes 100, 1,000 and
   10,000 against a baseline that anchors each record in its own transaction (target: at
   least 1,000x lower at 10,000); and revocation request -> mined (p50/p95) against a
   revoke sent directly.

Options: --quick (both halves smaller), --json, --no-postgres (acceptance on SQLite only).
"""

from __future__ import annotations

from scripts.benchmarks import accept, pipeline_anchor


def main(argv: list[str] | None = None) -> int:
    args = list(argv or [])
    anchor_args = [a for a in args if a in ("--quick", "--json")]
    status = accept.main(args)
    status |= pipeline_anchor.main(anchor_args)
    return status
