"""``carbon-verify``: the auditor's command line (docs/VERIFY.md).

    carbon-verify bundle FILE --rpc URL --chain-id N --registry ADDR
    carbon-verify attest FILE ... --key-file KEY --out-dir DIR
    carbon-verify cbam FILE ... --package PACKAGE
    carbon-verify code PAYLOAD --bundle FILE ...

Exit codes (docs/VERIFY.md §5): 0 every check passed and every figure was recomputed,
1 a check failed, 2 usage or unreadable input, 3 indeterminate (the RPC could not answer),
4 nothing failed but some figures could not be recomputed from the bundle. stdout carries
the result only (the table, or with ``--json`` one ``carbonledger-verify-report/1``
document, also when the input cannot be read); messages go to stderr, and progress too
when stderr is a terminal. No input produces a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.core.clock import Clock, system_clock
from ledger.core.errors import LedgerError, UnavailableError
from verifier.about import VersionAction
from verifier.invocation import UsageError, pins_from, read_bounded, run_verification, say
from verifier.model import EXIT_INDETERMINATE, EXIT_UNREADABLE

__all__ = ["build_parser", "main"]


def _chain_options(p: argparse.ArgumentParser, *, bundle_option: bool = False) -> None:
    if bundle_option:
        p.add_argument(
            "--bundle", dest="file", required=True, type=Path, metavar="FILE",
            help="the evidence bundle (JSON)",
        )  # fmt: skip
    else:
        p.add_argument("file", type=Path, metavar="FILE", help="the evidence bundle (JSON)")
    p.add_argument(
        "--trust-root",
        type=Path,
        metavar="PATH",
        help="the pins in one file (carbonledger-trust-root/1, from `carbonledger trust-root`); "
        "the options below override its pins",
    )
    p.add_argument(
        "--rpc",
        action="append",
        metavar="URL",
        help="JSON-RPC endpoint; repeat it for more endpoints, whose block hashes must agree "
        "(replaces the trust root's list)",
    )

    # Single-valued pins are collected (action "append") so that one given twice with two
    # values is refused rather than silently the last one winning.
    def single(*names: str, **kw: Any) -> None:
        p.add_argument(*names, action="append", **kw)

    single("--chain-id", type=int, metavar="N", help="pinned chain id")
    single("--registry", metavar="ADDR", help="pinned AnchorRegistry address")
    single(
        "--trust-registry",
        metavar="ADDR",
        help="second pin: the TrustRegistry the AnchorRegistry must be linked to",
    )
    single(
        "--min-depth",
        type=int,
        metavar="K",
        help="blocks an anchor must have on top, its own included (default 1)",
    )
    single("--code-hash", metavar="HEX", help="expected AnchorRegistry runtime code hash")
    single(
        "--trust-code-hash",
        metavar="HEX",
        help="expected TrustRegistry runtime code hash",
    )
    single(
        "--genesis",
        metavar="HEX",
        help="the hash of the chain's block 0 (from the deployment record): another chain "
        "with the same chain id fails check 2",
    )
    single(
        "--service-key-id",
        metavar="HEX",
        help="the service key id the bundle's receipts must be signed under (its service.json)",
    )
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="RPC timeout (s)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="check the records in N processes (the chain is read once, first); the report "
        "is the same as with one",
    )
    p.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    p.add_argument("--verbose", action="store_true", help="list every record in the table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carbon-verify",
        description="Verify carbonledger evidence bundles against the chain.",
        epilog="exit codes: 0 verified, 1 a check failed, 2 usage or unreadable input, "
        "3 indeterminate (the RPC could not answer), 4 not every figure could be recomputed "
        "(inputs hidden in this view)",
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
    c = sub.add_parser(
        "cbam", help="check a CBAM package's bundle, then recompute the package from it"
    )
    _chain_options(c)
    c.add_argument(
        "--package",
        required=True,
        type=Path,
        metavar="PATH",
        help="the carbonledger-cbam-package/1 document (JSON) the bundle's records back",
    )
    q = sub.add_parser(
        "code",
        help="check a scanned carbon-efficiency code against a bundle, offline",
        description="Verify the bundle as `bundle` does, then check the code's payload: the "
        "bundle carries a carbon-efficiency record with exactly the code's digest, its id is "
        "the one the page URL names, and it verifies. The page itself is not opened.",
    )
    q.add_argument(
        "payload",
        metavar="PAYLOAD",
        help="what the code carries: the page URL <base>/efficiency?id=…&digest=…",
    )
    _chain_options(q, bundle_option=True)
    a = sub.add_parser(
        "attest",
        help="verify, sign a report and send attestation transactions (writes to the chain)",
        description="Verify FILE as `bundle` does, then sign a report with the body's key and "
        "SEND ONE TRANSACTION per item (TrustRegistry.attest, paid in gas by that key) through "
        "the first --rpc endpoint. The other subcommands only read; this one writes.",
    )
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


def _write_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def _bundle(args: argparse.Namespace, clock: Clock) -> int:
    from verifier.report import render_table, report_json

    pins = pins_from(args)
    verification, _ = run_verification(args, pins)
    if args.json:
        _write_json(report_json(verification, pins=pins, checked_at=clock().replace(microsecond=0)))
    else:
        sys.stdout.write(render_table(verification, pins=pins, verbose=args.verbose))
    if verification.unreadable:
        say(verification.checks[0].reason)
    return verification.exit_code


def _cbam(args: argparse.Namespace, clock: Clock) -> int:
    """The bundle's numbered checks, then the package recomputed from its records
    (docs/VERIFY.md §6.2): exit 0 only when both hold."""
    from ledger.core.bundle import parse_bundle
    from ledger.core.canonical import parse_json
    from verifier.cbam import package_differences
    from verifier.report import render_table, report_json

    package = parse_json(read_bounded(args.package, what="package"), root="package")
    pins = pins_from(args)
    verification, _ = run_verification(args, pins)
    if verification.unreadable:
        say(verification.checks[0].reason)
        return verification.exit_code
    bundle = parse_bundle(read_bounded(args.file), require_canonical=True)
    differences = package_differences(package, [bundle])
    if differences:
        verification.fails_beyond_checks = "the CBAM package differs from its recomputation"
    if args.json:
        doc = report_json(verification, pins=pins, checked_at=clock().replace(microsecond=0))
        doc["cbam_package"] = {"recomputed": not differences, "differences": differences}
        _write_json(doc)
    else:
        sys.stdout.write(render_table(verification, pins=pins, verbose=args.verbose))
        if differences:
            sys.stdout.write("CBAM package: DIFFERS from its recomputation\n")
            sys.stdout.write("".join(f"  {d}\n" for d in differences))
        else:
            sys.stdout.write("CBAM package: every figure recomputes from the bundle's records\n")
    return verification.exit_code


def _code(args: argparse.Namespace, clock: Clock) -> int:
    """The bundle's numbered checks, then the scanned code against the bundle
    (docs/VERIFY.md §6.3): exit 0 only when both hold."""
    from ledger.core.bundle import parse_bundle
    from ledger.core.efficiency_code import parse_efficiency_code
    from verifier.report import render_table, report_json
    from verifier.scan import code_section

    try:
        code = parse_efficiency_code(args.payload)
    except LedgerError as exc:
        raise UsageError(f"PAYLOAD: {exc.message}") from None
    pins = pins_from(args)
    data = read_bounded(args.file)
    verification, _ = run_verification(args, pins, data=data)
    if verification.unreadable:
        say(verification.checks[0].reason)
        return verification.exit_code
    section = code_section(code, parse_bundle(data, require_canonical=True), verification)
    if not section["matches"]:
        verification.fails_beyond_checks = "the carbon-efficiency code does not match the bundle"
    exit_code = verification.exit_code
    if args.json:
        doc = report_json(verification, pins=pins, checked_at=clock().replace(microsecond=0))
        doc["efficiency_code"] = section
        _write_json(doc)
    else:
        sys.stdout.write(render_table(verification, pins=pins, verbose=args.verbose))
        if section["matches"]:
            sys.stdout.write(
                f"carbon-efficiency code: MATCHES {section['subject']} {code.record_id} "
                f"(digest {code.digest_hex}) (exit {exit_code})\n"
            )
        else:
            sys.stdout.write(f"carbon-efficiency code: DOES NOT MATCH (exit {exit_code})\n")
            sys.stdout.write("".join(f"  {p}\n" for p in section["problems"]))
    return exit_code


def _stopped(message: str, code: int, *, json_report: bool, clock: Clock) -> int:
    """Say why nothing was verified; with ``--json`` the report says it too (an error
    report: no checks, ``result`` unreadable or indeterminate, and ``error``)."""
    say(message)
    if json_report:
        from verifier.report import error_report

        _write_json(error_report(message, code, checked_at=clock().replace(microsecond=0)))
    return code


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    parser = build_parser()
    words = list(argv) if argv is not None else sys.argv[1:]
    wants_json = "--json" in words
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse has printed usage and the error
        code = int(exc.code or 0) and EXIT_UNREADABLE
        if code and wants_json:
            return _stopped("usage error (see above)", code, json_report=True, clock=clock)
        return code
    try:
        if args.command == "attest":
            from verifier.attest import attest_command

            return attest_command(args, clock)
        if args.command == "cbam":
            return _cbam(args, clock)
        if args.command == "code":
            return _code(args, clock)
        return _bundle(args, clock)
    except UsageError as exc:
        return _stopped(exc.message, EXIT_UNREADABLE, json_report=args.json, clock=clock)
    except UnavailableError as exc:
        return _stopped(exc.message, EXIT_INDETERMINATE, json_report=args.json, clock=clock)
    except LedgerError as exc:
        return _stopped(exc.message, EXIT_UNREADABLE, json_report=args.json, clock=clock)
    except KeyboardInterrupt:
        return _stopped("interrupted", EXIT_INDETERMINATE, json_report=args.json, clock=clock)
    except Exception as exc:  # never a traceback for an auditor (docs/VERIFY.md §5)
        message = f"internal error, nothing was decided ({type(exc).__name__}: {exc})"
        return _stopped(message, EXIT_INDETERMINATE, json_report=args.json, clock=clock)


if __name__ == "__main__":
    raise SystemExit(main())
