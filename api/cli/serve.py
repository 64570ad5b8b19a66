"""``carbonledger serve``: the HTTP API (docs/API.md) over the store of the data directory.

The API never drives the chain: it reads it only for ``/readyz`` (the deployment check),
and only when an RPC URL is given (``--rpc`` or ``CARBONLEDGER_RPC_URL``); the anchorer
runs apart (``carbonledger anchor``). Receipts are signed with the service key of the
data directory (created on the first start). ``--workers N`` serves with N processes on
one socket (docs/OPERATIONS.md, "Several API workers").
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from anchoring.deployment import load_deployment
from api.cli.common import (
    EXIT_OK,
    add_chain_options,
    add_merge_delay_option,
    add_store_option,
    compile_artifacts,
    configure_service_logging,
    project_root,
    record_dir,
    setting_help,
)
from api.cli.runner import stop_on_signals
from api.server import ApiServer, ServerStartError, tls_files
from api.settings import CarbonLedgerSettings
from api.workers import ApiWorkers, api_workers
from ledger.core.errors import MalformedError
from ledger.service import load_or_create
from ledger.store import Store, sqlite_url

log = logging.getLogger("carbonledger.serve")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the HTTP API (write, read, bundles) on --bind",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    add_api_options(parser)
    parser.set_defaults(run=run)


def add_api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind", metavar="HOST:PORT", help=setting_help("bind", "listen here"))
    add_merge_delay_option(parser)
    parser.add_argument(
        "--max-body-bytes", type=int, help=setting_help("max_body_bytes", "largest request body")
    )
    add_workers_option(parser)


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=setting_help("workers", "API worker processes on one socket"),
    )


def _bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise MalformedError(f"expected HOST:PORT, got {value!r}", path="--bind")
    return host or "127.0.0.1", int(port)


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    from api.app import create_app
    from api.cli.anchor import read_only_chain
    from api.limits import ApiLimits

    configure_service_logging(args, settings)
    host, port = _bind(settings.bind)
    directory = record_dir(settings)
    deployment = load_deployment(directory) if directory is not None else None
    store_url = settings.store_url or sqlite_url(settings.data_dir)
    store = Store.open(store_url)
    try:
        with read_only_chain(args, settings, deployment) as chain:
            artifacts = compile_artifacts(project_root(settings)) if chain is not None else None
            limits = ApiLimits(max_body_bytes=settings.max_body_bytes)
            server: ApiServer | ApiWorkers
            if settings.workers > 1:
                load_or_create(settings.data_dir)  # the receipt key, before any worker
                server = api_workers(
                    settings,
                    workers=settings.workers,
                    host=host,
                    port=port,
                    store_url=store_url,
                    deployment=deployment,
                    rpc_url=chain.rpc_url if chain is not None else None,
                    chain_id=chain.chain_id if chain is not None else None,
                    artifacts=artifacts,
                    limits=limits,
                    max_merge_delay_s=settings.max_merge_delay_s,
                )
            else:
                app = create_app(
                    settings,
                    store=store,
                    chain=chain,
                    deployment=deployment,
                    artifacts=artifacts,
                    limits=limits,
                    max_merge_delay_s=settings.max_merge_delay_s,
                )
                certfile, keyfile = tls_files(settings)
                server = ApiServer(app, host=host, port=port, certfile=certfile, keyfile=keyfile)
            with stop_on_signals() as stop:
                url = server.start()
                # The result of the command: where it serves (port 0 picks a free one).
                print(f"{url}/v1", flush=True)
                log.warning("serving the API on %s/v1; SIGINT or SIGTERM stops", url)
                try:
                    server.wait(stop)
                finally:
                    server.stop()
            if server.failure is not None:
                raise ServerStartError(server.failure)
    finally:
        store.close()
    return EXIT_OK
