"""``carbonledger up``: start (or connect to) the chain, deploy or check, anchor a demo batch.

On the dev chain anvil is started with its state in the data directory; the
contracts are deployed on the first run and checked on every later one (a
second run anchors batch 2 on the same chain). The chain is stopped cleanly on
exit unless ``--serve`` keeps it running until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from anchoring.deployment import deployment_path, ensure_deployment
from api.cli.common import (
    EXIT_OK,
    add_chain_options,
    admin_delay_s,
    check_npm_install,
    compile_artifacts,
    configured_chain,
    print_rows,
    project_root,
    record_dir,
    role_assignment,
)
from api.cli.demo import anchor_demo_batch
from api.cli.deploy import deployment_rows
from api.settings import CarbonLedgerSettings

log = logging.getLogger("carbonledger.up")

_BATCH_LABELS = {
    "seq": "batch",
    "root": "  root",
    "leaf_count": "  leaves",
    "manifest_digest": "  manifest digest",
    "manifest_cid": "  manifest cid",
    "block": "  block",
    "timestamp": "  block time",
    "log_hash": "  log hash",
    "tx": "  tx",
    "gas_used": "  gas used",
    "inclusion_verified_on_chain": "  inclusion proof",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="start the chain, deploy or check the contracts, anchor one demo batch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="anchor one batch of demo digests (what `make run` shows; at this stage `up` "
        "always does)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="keep the chain running until SIGINT/SIGTERM"
    )
    parser.set_defaults(run=run)


def _wait_for_signal() -> None:
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    with configured_chain(settings, anvil_path=anvil) as chain:
        directory = record_dir(settings)
        record, created = ensure_deployment(
            chain,
            artifacts,
            data_dir=directory,
            admin_delay_s=admin_delay_s(settings),
            roles=role_assignment(settings),
        )
        batch = anchor_demo_batch(chain, artifacts, record, now=datetime.now(UTC))
        if args.json:
            report = {
                "format": "carbonledger-cli-up/1",
                "chain": {"kind": chain.kind, "chain_id": chain.chain_id, "rpc_url": chain.rpc_url},
                "deployment_created": created,
                "deployment": record.to_json(),
                "batch": batch,
            }
            print(json.dumps(report, indent=2, sort_keys=True), flush=True)
        else:
            where = str(deployment_path(directory)) if directory else "memory chain: not recorded"
            rows: list[tuple[str, Any]] = [("chain", f"{chain.kind} {chain.rpc_url or ''}".strip())]
            rows += deployment_rows(record, created=created, where=where)
            shown = dict(batch)
            shown["timestamp"] = datetime.fromtimestamp(batch["timestamp"], UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            rows += [(_BATCH_LABELS.get(k, k), v) for k, v in shown.items()]
            print_rows(rows)
            sys.stdout.flush()
        if args.serve:
            log.warning(
                "serving %s chain at %s; SIGINT or SIGTERM stops it", chain.kind, chain.rpc_url
            )
            _wait_for_signal()
    return EXIT_OK
