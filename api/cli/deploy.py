"""``carbonledger deploy``: deploy the registries, or check the recorded deployment.

A recorded deployment is never replaced silently: without ``--replace`` an
existing record is checked against the chain (exit 1 on any difference); with
``--replace`` it is archived as ``deployment.<utc>.json`` and a new one made.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from anchoring.deployment import (
    DeploymentRecord,
    archive_deployment,
    deployment_path,
    ensure_deployment,
)
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
from api.settings import CarbonLedgerSettings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="deploy AnchorRegistry and TrustRegistry, or check the recorded deployment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="archive the recorded deployment and deploy anew (after a deliberate chain reset)",
    )
    parser.set_defaults(run=run)


def deployment_rows(
    record: DeploymentRecord, *, created: bool, where: str
) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("deployment", ("created" if created else "verified") + f" ({where})"),
        ("chain id", record.chain_id),
        ("genesis", record.genesis_hash_hex),
    ]
    for name, contract in sorted(record.contracts.items()):
        rows.append((name, f"{contract.address} (block {contract.deploy_block})"))
    return rows


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    with configured_chain(settings, anvil_path=anvil) as chain:
        directory = record_dir(settings)
        archived = archive_deployment(directory) if args.replace and directory else None
        record, created = ensure_deployment(
            chain,
            artifacts,
            data_dir=directory,
            admin_delay_s=admin_delay_s(settings),
            roles=role_assignment(settings),
        )
    where = str(deployment_path(directory)) if directory else "memory chain: not recorded"
    if args.json:
        report = {
            "format": "carbonledger-cli-deploy/1",
            "created": created,
            "record_path": str(deployment_path(directory)) if directory else None,
            "archived_path": str(archived) if archived else None,
            "deployment": record.to_json(),
        }
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        rows = deployment_rows(record, created=created, where=where)
        if archived:
            rows.insert(1, ("archived", str(archived)))
        print_rows(rows)
    return EXIT_OK
