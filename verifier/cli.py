"""``carbon-verify``: the auditor's command line (docs/VERIFY.md).

    carbon-verify bundle FILE --rpc URL --chain-id N --registry ADDR
    carbon-verify attest FILE ... --key-file KEY --out-dir DIR

Exit codes (docs/VERIFY.md §5): 0 every check passed, 1 a check failed, 2 usage or unreadable
input, 3 indeterminate (the RPC could not answer). stdout carries the result only (the
table, or with ``--json`` one ``carbonledger-verify-report/1`` document); messages go to
stderr, and progress too when stderr is a terminal. No input produces a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ledger.core.clock import Clock, system_clock
from ledger.core.errors import LedgerError, UnavailableError
from verifier.about import VersionAction
from verifier.invocation import UsageError, pins_from, run_verification, say
from verifier.model import EXIT_INDETERMINATE, EXIT_UNREADABLE

__all__ = ["build_parser", "main"]


def _chain_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="FILE", help="the evidence bundle (JSON)")
    p.add_argument(
        "--rpc",
        required=True,
        action="append",
        metavar="URL",
        help="JSON-RPC endpoint; repeat it for more endpoints, whose block hashes must agree",
    )
    p.add_argument("--chain-id", required=True, type=int, metavar="N", help="pinned chain id")
    p.add_argument(
        "--registry", required=True, metavar="ADDR", help="pinned AnchorRegistry address"
    )
    p.add_argument(
        "--trust-registry",
        metavar="ADDR",
        help="optional second pin: the TrustRegistry the AnchorRegistry must be linked to",
    )
    p.add_argument(
        "--min-depth",
        type=int,
        default=1,
        metavar="K",
        help="blocks an anchor must have on top, its own included (default 1)",
    )
    p.add_argument("--code-hash", metavar="HEX", help="expected AnchorRegistry runtime code hash")
    p.add_argument(
        "--trust-code-hash", metavar="HEX", help="expected TrustRegistry runtime code hash"
    )
    p.add_argument(
        "--service-key-id",
        metavar="HEX",
        help="the service key id the bundle's receipts must be signed under (its service.json)",
    )
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="RPC timeout (s)")
    p.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    p.add_argument("--verbose", action="store_true", help="list every record in the table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carbon-verify",
        description="Verify carbonledger evidence bundles against the chain.",
        epilog="exit codes: 0 verified, 1 a check failed, 2 usage or unreadable input, "
        "3 indeterminate (the RPC could not answer)",
    )
    parser.add_argument("--version", action=VersionAction, help="version and formats read")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bundle", help="check a bundle and print the numbered checks")
    _chain_options(b)
    b.add_argument(
        "--file",
        dest="files",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="a local document to find among the bundle's archive records (repeatable)",
    )
    a = sub.add_parser("attest", help="verify, sign a report and file attestations on-chain")
    _chain_options(a)
    a.add_argument(
        "--key-file",
        required=True,
        type=Path,
        metavar="PATH",
        help="the body's Ethereum key: 0x hex, or a keystore JSON",
    )
    a.add_argument("--password-file", type=Path, metavar="PATH", help="keystore password")
    a.add_argument(
        "--verdict",
        choices=["conforms", "findings", "nonconforms"],
        help="default: conforms when every check passed, nonconforms otherwise",
    )
    a.add_argument(
        "--out-dir",
        required=True,
        type=Path,
        metavar="DIR",
        help="where report.json and report.txt are written",
    )
    return parser


def _bundle(args: argparse.Namespace, clock: Clock) -> int:
    from verifier.report import render_table, report_json

    pins = pins_from(args)
    verification, _ = run_verification(args, pins)
    if args.json:
        doc = report_json(verification, pins=pins, checked_at=clock().replace(microsecond=0))
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render_table(verification, pins=pins, verbose=args.verbose))
    if verification.unreadable:
        say(verification.checks[0].reason)
    return verification.exit_code


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse has printed usage and the error
        return int(exc.code or 0) and EXIT_UNREADABLE
    try:
        if args.command == "attest":
            from verifier.attest import attest_command

            return attest_command(args, clock)
        return _bundle(args, clock)
    except UsageError as exc:
        say(exc.message)
        return EXIT_UNREADABLE
    except UnavailableError as exc:
        say(exc.message)
        return EXIT_INDETERMINATE
    except LedgerError as exc:
        say(exc.message)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INDETERMINATE
    except Exception as exc:  # never a traceback for an auditor (docs/VERIFY.md §5)
        say(f"internal error, nothing was decided ({type(exc).__name__}: {exc})")
        return EXIT_INDETERMINATE


if __name__ == "__main__":
    raise SystemExit(main())
