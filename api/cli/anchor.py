"""``carbonledger anchor``: seal pending records and anchor the batches (the anchorer).

``--once`` runs one step and prints what it did; without it the anchorer runs until
SIGINT or SIGTERM, backing off while the chain is unreachable. It refuses to start when
the chain does not hold the recorded deployment, and stops (exit 1) with an alert when
the chain is reset under it. Only one anchorer runs at a time: a second one waits for the
database lock and does nothing meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import Chain, RpcChain
from anchoring.deployment import (
    DeploymentRecord,
    check_deployment,
    ensure_deployment,
    load_deployment,
)
from anchoring.fees import FeePolicy
from anchoring.ipfs import KuboPublisher
from api.cli.common import (
    EXIT_OK,
    SetupError,
    add_chain_options,
    add_store_option,
    admin_delay_s,
    check_npm_install,
    compile_artifacts,
    configured_chain,
    existing_store,
    print_rows,
    project_root,
    record_dir,
    role_assignment,
    setting_help,
)
from api.servicestate import read_service_state
from api.settings import CarbonLedgerSettings
from ledger.core.errors import AnchoringError
from ledger.store import Store, sqlite_url

log = logging.getLogger("carbonledger.anchor")

GWEI = 10**9


def open_store(args: argparse.Namespace, settings: CarbonLedgerSettings) -> Store:
    """The configured store, which must exist already (``--store-url`` is in ``settings``)."""
    return existing_store(settings)


def add_kubo_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubo-url",
        metavar="URL",
        help=setting_help("kubo_url", "publish batch manifests to this Kubo RPC"),
    )


def kubo_url(args: argparse.Namespace, settings: CarbonLedgerSettings) -> str | None:
    """The Kubo RPC URL: ``--kubo-url``, else the setting; None publishes nothing."""
    return getattr(args, "kubo_url", None) or settings.kubo_url or None


def kubo_publisher(url: str | None) -> KuboPublisher | None:
    return None if url is None else KuboPublisher(url)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    """When the anchorer seals a batch (``anchor`` and ``up``)."""
    parser.add_argument(
        "--batch-size", type=int, help=setting_help("batch_max_records", "seal at N records")
    )
    parser.add_argument(
        "--batch-age-s",
        type=float,
        help=setting_help("batch_max_age_s", "seal when the oldest record waited T s"),
    )


def add_fee_options(parser: argparse.ArgumentParser) -> None:
    """How the anchorer replaces a stalled transaction, and how often it looks again."""
    parser.add_argument(
        "--stall-timeout-s",
        type=float,
        help=setting_help("stall_timeout_s", "replace a tx unmined after T s"),
    )
    parser.add_argument(
        "--max-fee-gwei",
        type=int,
        help=setting_help("max_fee_gwei", "cap of maxFeePerGas for replacements"),
    )
    parser.add_argument(
        "--poll-s", type=float, help=setting_help("poll_interval_s", "seconds between idle steps")
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "anchor",
        help="seal pending records into batches and anchor them on the chain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    parser.add_argument("--once", action="store_true", help="run one step and exit")
    add_batch_options(parser)
    add_fee_options(parser)
    add_kubo_option(parser)
    parser.set_defaults(run=run)


@contextlib.contextmanager
def read_only_chain(
    args: argparse.Namespace, settings: CarbonLedgerSettings, deployment: DeploymentRecord | None
) -> Iterator[Chain | None]:
    """A chain to read from, without starting one: the rpc chain at ``--rpc`` (or the
    settings' URL), else the chain of the service running on the data directory; None when
    there is none (a dev chain is never started by a read-only command)."""
    url = settings.rpc_url
    expected = settings.expected_chain_id or (deployment.chain_id if deployment else None)
    if not url and settings.chain == "dev":
        # The running service's chain, when there is one (service-running.json).
        running = read_service_state(settings.data_dir.resolve())
        if running is not None and running.rpc_url:
            url, expected = running.rpc_url, running.chain_id
    if not url:
        yield None
        return
    from eth_account import Account

    if expected is None:
        raise AnchoringError("reading the chain needs its id: pass --chain-id")
    # Reads sign nothing; the account only satisfies the chain's constructor.
    chain = RpcChain(url, expected_chain_id=expected, signer=Account.create())
    try:
        yield chain
    finally:
        chain.close()


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    # An explicit database must exist already; the data directory's SQLite is created.
    store = (
        open_store(args, settings)
        if settings.store_url
        else Store.open(sqlite_url(settings.data_dir))
    )
    try:
        with configured_chain(settings, anvil_path=anvil) as chain:
            directory = record_dir(settings)
            if directory is None:
                deployment, _ = ensure_deployment(
                    chain,
                    artifacts,
                    data_dir=None,
                    admin_delay_s=admin_delay_s(settings),
                    roles=role_assignment(settings),
                )
            else:
                recorded = load_deployment(directory)
                if recorded is None:
                    raise SetupError(
                        f"no deployment recorded in {directory}: run `carbonledger deploy` first"
                    )
                check_deployment(chain, recorded, artifacts)
                deployment = recorded
            anchorer = Anchorer(
                store=store,
                chain=chain,
                deployment=deployment,
                artifacts=artifacts,
                limits=AnchorerLimits(
                    batch_max_records=settings.batch_max_records,
                    batch_max_age_s=settings.batch_max_age_s,
                    confirmations=settings.confirmations,
                    poll_interval_s=settings.poll_interval_s,
                ),
                fees=FeePolicy(
                    max_fee_per_gas_cap_wei=settings.max_fee_gwei * GWEI,
                    stall_timeout_s=settings.stall_timeout_s,
                ),
                publisher=kubo_publisher(kubo_url(args, settings)),
            )
            try:
                if args.once:
                    report = anchorer.run_once()
                    if args.json:
                        print(json.dumps({"format": "carbonledger-cli-anchor/1", **asdict(report)},
                                         indent=2, sort_keys=True))  # fmt: skip
                    else:
                        rows = [(k, v) for k, v in asdict(report).items() if v not in ([], True)]
                        print_rows(rows or [("idle", "nothing to seal or anchor")])
                    return EXIT_OK
                stop = threading.Event()
                previous = {
                    sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)
                }
                try:
                    anchorer.run_forever(stop)
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
                return EXIT_OK
            finally:
                anchorer.close()
    finally:
        store.close()
