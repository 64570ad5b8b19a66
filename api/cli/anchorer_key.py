"""``carbonledger anchorer-key``: the key the anchorer signs anchor transactions with, and
its rotation without stopping the service (docs/OPERATIONS.md §10).

  anchorer-key show
  anchorer-key rotate --new-keystore FILE --new-password-file FILE [--keep-old]

``rotate``: the operator (the registries' admin) grants the new key the anchorer's roles
(``ANCHORER_ROLE``, and ``REVOKER_ROLE`` when the old key had it), funds it on the dev
chain, records it in ``anchorer-key.json``, tells the running service (SIGHUP), waits until
the service signs with it, then takes the roles from the old key (unless ``--keep-old``).
The API keeps serving and records keep being accepted throughout; anchoring pauses only
while no batch is in flight under the old key. Each step can be run again after a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak

from anchoring.chain import DEV_CHAIN_ID
from anchoring.deployment import load_deployment
from anchoring.keystore import load_keystore, read_password_file
from api.anchorerkey import AnchorerKeyRef, read_anchorer_key, write_anchorer_key
from api.cli.common import (
    EXIT_OK,
    SetupError,
    check_npm_install,
    compile_artifacts,
    configured_chain,
    print_rows,
    project_root,
)
from api.servicestate import read_service_state
from api.settings import CarbonLedgerSettings
from ledger.core.errors import UnavailableError

REPORT_FORMAT = "carbonledger-cli-anchorer-key/1"
#: The anchorer's roles on the AnchorRegistry; the second only if the old key holds it.
ROLES = ("ANCHORER_ROLE", "REVOKER_ROLE")
#: Gas money the dev chain's operator gives a new key (its anchors cost far less).
DEV_FUNDING_WEI = 10**18
#: How long ``rotate`` waits for the running service to sign with the new key.
SWITCH_TIMEOUT_S = 300.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "anchorer-key",
        help="the anchorer's signing key: show it, rotate it without downtime",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="key_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the address the anchorer signs with")
    show.set_defaults(run=run_show)
    rotate = actions.add_parser("rotate", help="sign anchors with a new key from now on")
    rotate.add_argument("--new-keystore", type=Path, required=True, help="Web3 Secret Storage")
    rotate.add_argument(
        "--new-password-file", type=Path, required=True, help="file holding its password"
    )
    rotate.add_argument(
        "--keep-old", action="store_true", help="leave the old key its roles (revoke later)"
    )
    rotate.set_defaults(run=run_rotate)


def _role(name: str) -> bytes:
    return keccak(text=name)


def run_show(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    running = read_service_state(settings.data_dir.resolve())
    ref = read_anchorer_key(settings.data_dir)
    report = {
        "configured": ref.address if ref is not None else None,
        "service": running.anchorer if running is not None else None,
    }
    if args.json:
        print(json.dumps({"format": REPORT_FORMAT, "action": "show", **report}, indent=2))
    else:
        print_rows(
            [
                ("anchorer-key.json", report["configured"] or "none (the operator's signer)"),
                ("service signs with", report["service"] or "no service running"),
            ]
        )
    return EXIT_OK


def _wait_for_switch(data_dir: Path, pid: int, address: str) -> None:
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + SWITCH_TIMEOUT_S
    while time.monotonic() < deadline:
        running = read_service_state(data_dir)
        if running is None:
            return  # it stopped: it signs with the new key when it starts again
        if running.anchorer is not None and running.anchorer.lower() == address.lower():
            return
        time.sleep(0.5)
    raise UnavailableError(
        f"the service (pid {pid}) did not switch to {address} within {SWITCH_TIMEOUT_S:.0f} s "
        "(a batch stayed in flight?): the old key keeps its roles; run the command again"
    )


def run_rotate(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    new = load_keystore(args.new_keystore, read_password_file(args.new_password_file))
    data_dir = settings.data_dir
    deployment = load_deployment(data_dir)
    if deployment is None:
        raise SetupError(f"no deployment recorded in {data_dir}: run `carbonledger deploy` first")
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    running = read_service_state(data_dir.resolve())
    granted: list[str] = []
    revoked: list[str] = []
    funded = 0
    with configured_chain(settings, anvil_path=anvil) as chain:
        registry = chain.contract(
            artifacts["AnchorRegistry"], deployment.address_of("AnchorRegistry")
        )
        configured = read_anchorer_key(data_dir)
        old = (
            running.anchorer
            if running is not None and running.anchorer
            else (configured.address if configured is not None else chain.signer.address)
        )
        roles = [
            name for name in ROLES
            if name == "ANCHORER_ROLE" or chain.call(registry.functions.hasRole(_role(name), old))
        ]  # fmt: skip
        for name in roles:
            if not chain.call(registry.functions.hasRole(_role(name), new.address)):
                chain.transact(registry.functions.grantRole(_role(name), new.address))
                granted.append(name)
        if (
            chain.chain_id == DEV_CHAIN_ID
            and chain.balance_wei(new.address) < DEV_FUNDING_WEI // 10
        ):
            chain.send_value(new.address, DEV_FUNDING_WEI)
            funded = DEV_FUNDING_WEI
        write_anchorer_key(
            data_dir,
            AnchorerKeyRef(
                new.address, args.new_keystore.resolve(), args.new_password_file.resolve()
            ),
        )
        if running is not None:
            _wait_for_switch(data_dir.resolve(), running.pid, new.address)
        if not args.keep_old and old.lower() != new.address.lower():
            for name in roles:
                if chain.call(registry.functions.hasRole(_role(name), old)):
                    chain.transact(registry.functions.revokeRole(_role(name), old))
                    revoked.append(name)
        balance = chain.balance_wei(new.address)
    report = {
        "old": old,
        "new": new.address,
        "granted": granted,
        "revoked_from_old": revoked,
        "funded_wei": funded,
        "balance_wei": balance,
        "service_switched": running is not None,
    }
    if args.json:
        print(json.dumps({"format": REPORT_FORMAT, "action": "rotate", **report}, indent=2))
    else:
        rows: list[tuple[str, Any]] = [(k.replace("_", " "), v) for k, v in report.items()]
        if balance == 0:
            rows.append(("warning", f"{new.address} holds no gas money: fund it before it anchors"))
        print_rows(rows)
    return EXIT_OK
