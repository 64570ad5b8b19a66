"""``carbonledger bodies accredit|withdraw|list``: the mutual-recognition whitelist, kept by
the registrar in the TrustRegistry (docs/OPERATIONS.md §3).

``accredit`` writes ``accreditBody`` (or updates and reinstates an accreditation) from the
registrar's account: the body's address, name, scope, the regions it is recognised in
and its validity. The scheme and the accreditation body are part of the scope, written
``SCHEME / ACCREDITATION-BODY: SCOPE`` (``ISO 14065:2020 / CNAS: verification of product
carbon footprints``), so every reader of the contract sees them. ``withdraw`` writes
``withdrawAccreditation``. Both mirror the result into the store at once (the chain
follower writes the same facts when it reads the events). ``list`` prints the mirror,
``--region R`` only the bodies recognised for R now.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from eth_utils import is_address, to_checksum_address

from api.cli.common import EXIT_OK, add_chain_options, add_store_option, print_rows
from api.cli.trust import time_arg, trust_registry
from api.settings import CarbonLedgerSettings
from ledger.core.errors import MalformedError
from ledger.store import Store, sqlite_url
from ledger.store.chainmirror import (
    Accreditation,
    accreditations,
    mirror_body,
    withdraw_body,
)

__all__ = ["register", "scope_text"]

REPORT_FORMAT = "carbonledger-cli-bodies/1"


def _address(text: str) -> str:
    if not is_address(text):
        raise argparse.ArgumentTypeError("expected an EVM address (0x + 40 hex)")
    return str(to_checksum_address(text))


def _regions(text: str) -> str:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions or any(not r.replace("-", "").isalnum() for r in regions):
        raise argparse.ArgumentTypeError("expected comma-separated region codes (EU,GB,SEA)")
    return ",".join(regions)


def scope_text(scheme: str, accreditation_body: str, scope: str) -> str:
    """The scope as the contract keeps it: ``SCHEME / ACCREDITATION-BODY: SCOPE``."""
    return f"{scheme} / {accreditation_body}: {scope}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bodies",
        help="accredited verification bodies: accredit, withdraw (TrustRegistry), list",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="bodies_action", metavar="ACTION", required=True)
    accredit = actions.add_parser("accredit", help="accredit a body (or update it)")
    accredit.add_argument("--address", type=_address, required=True, help="the body's account")
    accredit.add_argument("--name", required=True, help="the body's name")
    accredit.add_argument("--scheme", default="ISO 14065:2020", help="accreditation scheme")
    accredit.add_argument(
        "--accreditation-body", required=True, help="who accredits it (CNAS, UKAS, DAkkS...)"
    )
    accredit.add_argument("--scope", required=True, help="what it is accredited to verify")
    accredit.add_argument(
        "--regions", type=_regions, required=True, help="regions it is recognised in: EU,GB"
    )
    accredit.add_argument("--valid-from", type=time_arg, required=True, help="first valid second")
    accredit.add_argument("--valid-until", type=time_arg, required=True, help="first invalid one")
    withdraw = actions.add_parser("withdraw", help="withdraw a body's accreditation")
    withdraw.add_argument("--address", type=_address, required=True, help="the body's account")
    listing = actions.add_parser("list", help="list the accredited bodies the store mirrors")
    listing.add_argument("--region", help="only the bodies recognised for this region now")
    for sub, run in ((accredit, _run_accredit), (withdraw, _run_withdraw), (listing, _run_list)):
        add_chain_options(sub)
        add_store_option(sub)
        sub.set_defaults(run=run)


def _store(settings: CarbonLedgerSettings) -> Store:
    return Store.open(settings.store_url or sqlite_url(settings.data_dir))


def _row(a: Accreditation) -> dict[str, Any]:
    return a.to_json()


def _report(args: argparse.Namespace, action: str, rows: list[dict[str, Any]]) -> int:
    if args.json:
        print(json.dumps({"format": REPORT_FORMAT, "action": action, "bodies": rows}, indent=2))
        return EXIT_OK
    for i, row in enumerate(rows):
        if i:
            print()
        print_rows([(k.replace("_", " "), v) for k, v in row.items()])
    return EXIT_OK


def _run_accredit(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    start, end = args.valid_from, args.valid_until
    if start >= end:
        raise MalformedError("must be after --valid-from", path="--valid-until")
    scope = scope_text(args.scheme, args.accreditation_body, args.scope)
    with trust_registry(settings) as registry:
        registry.send(registry.contract.functions.accreditBody(
            args.address, args.name, scope, args.regions, int(start.timestamp()),
            int(end.timestamp())))  # fmt: skip
        block = registry.chain.block_number()
    store = _store(settings)
    try:
        with store.transaction() as session:
            mirror_body(
                session, address=args.address, name=args.name, scope=scope,
                regions=args.regions, valid_from=start, valid_until=end, withdrawn=False,
                block_number=block,
            )  # fmt: skip
            rows = [_row(a) for a in accreditations(session) if a.address == args.address]
    finally:
        store.close()
    return _report(args, "accredit", rows)


def _run_withdraw(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    with trust_registry(settings) as registry:
        registry.send(registry.contract.functions.withdrawAccreditation(args.address))
        block = registry.chain.block_number()
    store = _store(settings)
    try:
        with store.transaction() as session:
            withdraw_body(session, args.address, block_number=block)
            rows = [_row(a) for a in accreditations(session) if a.address == args.address]
    finally:
        store.close()
    return _report(args, "withdraw", rows)


def _run_list(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    now = datetime.now(UTC)
    store = _store(settings)
    try:
        with store.transaction(readonly=True) as session:
            found = accreditations(session)
    finally:
        store.close()
    if args.region:
        found = [a for a in found if a.recognises(args.region, now)]
    return _report(args, "list", [_row(a) for a in found])
