"""``carbonledger chain``: the chain's identity and height, and the deployment check.

Prints numbered checks (PASS/FAIL/SKIP); exit 1 when the chain does not hold
the recorded deployment, naming every difference.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from anchoring.deployment import deployment_differences, deployment_path, load_deployment
from api.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    add_chain_options,
    check_npm_install,
    compile_artifacts,
    configured_chain,
    print_rows,
    project_root,
    record_dir,
)
from api.settings import CarbonLedgerSettings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chain",
        help="show chain id, height and whether the recorded deployment is intact",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    checks: list[dict[str, Any]] = []
    with configured_chain(settings, anvil_path=anvil) as chain:
        height = chain.block_number()
        genesis = chain.genesis_hash_hex()
        checks.append(
            {"check": "chain answers", "status": "PASS",
             "detail": f"{chain.kind} chain id {chain.chain_id}, height {height}"}
        )  # fmt: skip
        directory = record_dir(settings)
        record = load_deployment(directory) if directory else None
        batches: int | None = None
        if directory is None or record is None:
            reason = "memory chain keeps none" if directory is None else "run `carbonledger deploy`"
            checks.append({"check": "deployment recorded", "status": "SKIP", "detail": reason})
        else:
            checks.append(
                {"check": "deployment recorded", "status": "PASS",
                 "detail": str(deployment_path(directory))}
            )  # fmt: skip
            differences = deployment_differences(chain, record, artifacts)
            checks.append(
                {"check": "chain holds the recorded deployment",
                 "status": "FAIL" if differences else "PASS",
                 "detail": "; ".join(differences) if differences else ", ".join(
                     f"{n} {c.address}" for n, c in sorted(record.contracts.items()))}
            )  # fmt: skip
            if not differences:
                registry = chain.contract(
                    artifacts["AnchorRegistry"], record.address_of("AnchorRegistry")
                )
                batches = int(chain.call(registry.functions.nextSeq())) - 1
                head = "0x" + bytes(chain.call(registry.functions.logHead())).hex()
                checks.append(
                    {"check": "anchored batches", "status": "PASS",
                     "detail": f"{batches} (log head {head})"}
                )  # fmt: skip
        summary = {
            "kind": chain.kind,
            "chain_id": chain.chain_id,
            "height": height,
            "genesis_hash": genesis,
            "rpc_url": chain.rpc_url,
            "batches": batches,
        }
    failed = any(c["status"] == "FAIL" for c in checks)
    if args.json:
        report = {"format": "carbonledger-cli-chain/1", **summary, "checks": checks}
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print_rows([(k.replace("_", " "), v) for k, v in summary.items() if v is not None])
        for i, c in enumerate(checks, 1):
            print(f"{i:>2}  {c['status']:<4}  {c['check']}: {c['detail']}")
    return EXIT_REFUSED if failed else EXIT_OK
