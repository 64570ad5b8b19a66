"""``carbonledger principals``: who may call the API, with which role, and their API keys.

::

    carbonledger principals add plant-mes --role producer \\
        --producer urn:carbonledger:producer:example-plant-mes --type carbon-record
    carbonledger principals add tuv --role auditor --grant 88.118.8/ST-TK-0101
    carbonledger principals key plant-mes        # prints the new key once
    carbonledger principals revoke-key 0123456789abcdef
    carbonledger principals list

A key is printed once on stdout and never stored: only its SHA-256 is (docs/API.md §2).
The console issues keys of every role at once (it holds the database itself); each key
issued or revoked here is an audit event of the actor ``operator``.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from api.cli.common import EXIT_OK, add_chain_options, add_store_option, print_rows
from api.settings import CarbonLedgerSettings
from ledger.core.errors import StorageError
from ledger.core.records import RECORD_TYPES
from ledger.store import Store, apikeys, sqlite_url
from ledger.store import access as access_store
from ledger.store.auditlog import OPERATOR


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "principals",
        help="API principals (producer, auditor, regulator, admin) and their API keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a principal")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=access_store.ROLES)
    add.add_argument("--producer", help="producer id the principal writes as (role producer)")
    add.add_argument(
        "--type",
        action="append",
        default=[],
        choices=RECORD_TYPES,
        dest="types",
        help="record type a producer may submit (repeat)",
    )
    add.add_argument(
        "--grant",
        action="append",
        default=[],
        dest="grants",
        help="subject an auditor reads in full (repeat; '*' for all)",
    )
    actions.add_parser("list", help="list principals")
    key = actions.add_parser("key", help="issue an API key (printed once)")
    key.add_argument("name")
    revoke = actions.add_parser("revoke-key", help="revoke an API key by its key id")
    revoke.add_argument("key_id")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    now = datetime.now(UTC)
    store = Store.open(settings.store_url or sqlite_url(settings.data_dir))
    try:
        out = _act(args, store, now)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"format": "carbonledger-cli-principals/1", **out}, sort_keys=True))
    else:
        for row in out.get("principals", []):
            print_rows([(k, v) for k, v in row.items()])
            print()
        if "api_key" in out:
            print(out["api_key"])
        elif "revoked" in out:
            print(f"revoked {out['revoked']}")
    return EXIT_OK


def _act(args: argparse.Namespace, store: Store, now: datetime) -> dict[str, Any]:
    from api.service import principal_json

    if args.action == "add":
        row = store.run(
            lambda s: access_store.add_principal(
                s,
                args.name,
                role=args.role,
                producer=args.producer,
                record_types=args.types,
                grants=args.grants,
                created_at=now,
            )
        )
        return {"principals": [principal_json(row)]}
    if args.action == "list":
        rows = store.run(access_store.list_principals, readonly=True)
        return {"principals": [principal_json(r) for r in rows]}
    if args.action == "key":
        # The console holds the database itself: it issues at once, audited as the
        # operator (the API's two-person rule is for admins: docs/API.md §2.1).
        grant = store.run(lambda s: apikeys.issue_key(s, args.name, actor=OPERATOR, at=now))
        issued = grant.key
        if issued is None:  # the console is not subject to the two-person rule
            raise StorageError(f"no key was issued for {args.name}")
        return {"key_id": issued.key_id, "principal": issued.principal, "api_key": issued.token}
    store.run(lambda s: apikeys.revoke_key(s, args.key_id, actor=OPERATOR, at=now))
    return {"revoked": args.key_id}
