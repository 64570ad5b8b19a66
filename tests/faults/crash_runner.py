"""The process the crash tests kill: accept records and anchor them, one crash point armed.

    python -m tests.faults.crash_runner --data-dir D --rpc URL --records N [--armed POINT]
        [--after K] [--prefix P] [--revoke I]

It opens the store in D, the chain at URL (the deployment recorded in D), the real accept
path and the anchorer, both with the same ``CrashPoints``. It submits records P-0 .. P-(N-1)
one by one (a record already stored returns its stored receipt: a client retrying with the
same id), prints each receipt it is given as one JSON line on stdout, steps the anchorer
every few records, and then until every record is anchored. With ``--revoke I`` it asks,
after the records, for record P-I to be revoked (a request already stored is a retry) and
also steps until the revocation is on the chain. With ``--armed`` the process
SIGKILLs itself at the K-th passage of that point. At the end it prints
``{"seen": [...]}``: every crash point the run passed, so a run with nothing armed
enumerates them. Exit 0 when everything is anchored, 1 on timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import RpcChain
from anchoring.chain.dev import dev_account_keys
from anchoring.deployment import load_deployment
from anchoring.fees import FeePolicy
from anchoring.toolchain import compile_contracts
from ledger.core.errors import ConflictError
from ledger.core.reasons import reason_for
from ledger.crashpoints import CrashPoints
from ledger.service import receipt_bytes
from ledger.service.revocation import request_revocation
from ledger.store import Store, sqlite_url
from ledger.store.chainfacts import find_revocation
from ledger.store.records import count_by_status, get_record
from tests.support import ledgerdata

REPO_ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="crash_runner")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--records", type=int, default=12)
    parser.add_argument("--armed")
    parser.add_argument("--after", type=int, default=1)
    parser.add_argument("--prefix", default="crash")
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument("--revoke", type=int)
    args = parser.parse_args(argv)

    crash = CrashPoints(args.armed, after=args.after)
    store = Store.open(sqlite_url(args.data_dir))
    deployment = load_deployment(args.data_dir)
    assert deployment is not None, "the test records the deployment first"
    chain = RpcChain(
        args.rpc,
        expected_chain_id=deployment.chain_id,
        signer=Account.from_key(dev_account_keys()[0]),
        poll_interval_s=0.05,
    )
    anchorer = Anchorer(
        store=store,
        chain=chain,
        deployment=deployment,
        artifacts=compile_contracts(project_root=REPO_ROOT),
        limits=AnchorerLimits(
            batch_max_records=4,
            batch_max_age_s=0.5,
            rebroadcast_interval_s=0.2,
            retry_failed_after_s=0.5,
            # A killed leader's lease must not keep its restart waiting long.
            leader_lease_s=2.0,
        ),
        fees=FeePolicy(stall_timeout_s=30.0),
        crash_points=crash,
        holder=f"crash-runner-{args.prefix}",
    )
    service = ledgerdata.service(store, lambda: datetime.now(UTC), crash_points=crash)
    for n in range(args.records):
        rid = ledgerdata.record_id(args.prefix, n)
        receipt = service.accept(ledgerdata.submission(rid, seed=args.prefix))
        sys.stdout.write(receipt_bytes(receipt).decode() + "\n")
        sys.stdout.flush()
        if n % 3 == 2:
            anchorer.run_once()
    revoked: str | None = None
    if args.revoke is not None:
        with store.transaction(readonly=True) as session:
            target = get_record(session, ledgerdata.record_id(args.prefix, args.revoke))
            revoked = target.digest_hex
        with contextlib.suppress(ConflictError):  # asked before the crash: a retry
            request_revocation(
                store, digest_hex=revoked, reason=reason_for(1), reason_digest_hex="ab" * 32,
                requested_by="crash-runner", now=datetime.now(UTC),
            )  # fmt: skip
    deadline = time.monotonic() + args.timeout_s
    while time.monotonic() < deadline:
        anchorer.run_once()
        with store.transaction(readonly=True) as session:
            counts = count_by_status(session)
            row = find_revocation(session, revoked) if revoked is not None else None
        if (
            counts["pending"] == 0
            and counts["batched"] == 0
            and (revoked is None or (row is not None and row.state == "mined"))
        ):
            break
        time.sleep(0.1)
    else:
        print(json.dumps({"timeout": counts}), flush=True)
        return 1
    print(json.dumps({"seen": sorted(crash.seen)}), flush=True)
    anchorer.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
