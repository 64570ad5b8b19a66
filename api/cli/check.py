"""``carbonledger check``: the invariant checker (ledger.checker).

Every acknowledged record present once and in at most one batch, every batch recomputing
from its leaves, seqs contiguous, no batch anchored twice, every anchored root equal to
the on-chain root, the logHash chain intact, the database's integrity check ok, no record
past its promised anchoring time. ``--receipts FILE`` adds receipts a client kept (JSON
lines, or one JSON array): each must name a stored record with the same digest.

Exit codes: 0 every check passed; 1 a check failed (each FAIL names what is wrong);
3 indeterminate: nothing failed but the chain could not be read.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anchoring.deployment import load_deployment
from anchoring.registry import Registry
from api.cli.anchor import open_store, read_only_chain
from api.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    add_chain_options,
    add_store_option,
    compile_artifacts,
    project_root,
    record_dir,
)
from api.settings import CarbonLedgerSettings
from ledger.checker import CheckReport, run_checks
from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError, UnavailableError
from ledger.core.receipt import Receipt


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check the ledger's invariants against the store and the chain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    parser.add_argument("--receipts", type=Path, help="receipts a client kept (JSON lines)")
    parser.add_argument(
        "--no-deadline", action="store_true", help="skip the promised-anchoring-time check"
    )
    parser.set_defaults(run=run)


#: A receipts file holds one receipt a line (or one array); a receipt is far below 4 KiB.
MAX_RECEIPTS_BYTES = 256 * 1024 * 1024


def read_receipts(path: Path) -> list[Receipt]:
    """The receipts a client kept, read by the strict parser (JSON lines or one array)."""
    try:
        if path.stat().st_size > MAX_RECEIPTS_BYTES:
            raise MalformedError(f"{path} exceeds {MAX_RECEIPTS_BYTES} bytes", path="--receipts")
        data = path.read_bytes()
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", path="--receipts") from exc
    stripped = data.strip()
    try:
        if stripped.startswith(b"["):
            values = parse_json(stripped, max_bytes=MAX_RECEIPTS_BYTES, root="receipts")
        else:
            values = [
                parse_json(line, root=f"receipts[{i}]")
                for i, line in enumerate(stripped.splitlines())
                if line.strip()
            ]
    except MalformedError as exc:
        raise MalformedError(f"{path}: {exc.message}", path="--receipts") from None
    if not isinstance(values, list):
        raise MalformedError(f"{path}: expected JSON lines or one array", path="--receipts")
    return [Receipt.from_json(v, path=f"receipts[{i}]") for i, v in enumerate(values)]


def render(report: CheckReport) -> None:
    for check in report.checks:
        print(f"{check.number:>2}  {check.status:<4}  {check.name}: {check.detail}")


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    receipts = read_receipts(args.receipts) if args.receipts else []
    directory = record_dir(settings)
    deployment = load_deployment(directory) if directory else None
    store = open_store(args, settings)
    try:
        now = None if args.no_deadline else datetime.now(UTC)
        try:
            with read_only_chain(args, settings, deployment) as chain:
                view = None
                if chain is not None and deployment is not None:
                    abi = compile_artifacts(project_root(settings))["AnchorRegistry"].abi
                    view = Registry(chain, abi, deployment.address_of("AnchorRegistry"))
                report = run_checks(store, view, receipts=receipts, now=now)
        except UnavailableError:
            report = run_checks(store, None, receipts=receipts, now=now)
            report.chain_unavailable = True
    finally:
        store.close()
    if args.json:
        print(json.dumps({
            "format": "carbonledger-cli-check/1",
            "ok": report.ok,
            "chain_unavailable": report.chain_unavailable,
            "checks": [{"number": c.number, "check": c.name, "status": c.status,
                        "detail": c.detail, "problems": c.problems} for c in report.checks],
        }, indent=2, sort_keys=True))  # fmt: skip
    else:
        render(report)
    if not report.ok:
        return EXIT_REFUSED
    if report.chain_unavailable:
        return EXIT_UNAVAILABLE
    return EXIT_OK
