"""``carbonledger serve``: the HTTP API (docs/API.md) over the store of the data directory.

The API never drives the chain: it reads it only for ``/readyz`` (the deployment check),
and only when an RPC URL is given (``--rpc`` or ``CARBONLEDGER_RPC_URL``); the anchorer
runs apart (``carbonledger anchor``). Receipts are signed with the service key of the
data directory (created on the first start).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from anchoring.deployment import load_deployment
from api.cli.common import (
    EXIT_OK,
    add_chain_options,
    compile_artifacts,
    project_root,
    record_dir,
)
from api.settings import CarbonLedgerSettings
from ledger.core.errors import MalformedError
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
    parser.add_argument(
        "--store-url", metavar="URL", help="database URL (default: SQLite in the data directory)"
    )
    parser.add_argument("--bind", default="127.0.0.1:8080", help="HOST:PORT to listen on")
    parser.add_argument(
        "--max-merge-delay-s", type=int, default=600, help="promised anchoring delay of receipts"
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=16 * 1024 * 1024, help="largest request body"
    )
    parser.set_defaults(run=run)


def _bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise MalformedError(f"expected HOST:PORT, got {value!r}", path="--bind")
    return host or "127.0.0.1", int(port)


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    import uvicorn

    from api.app import create_app
    from api.cli.anchor import read_only_chain
    from api.service import ApiLimits

    host, port = _bind(args.bind)
    directory = record_dir(settings)
    deployment = load_deployment(directory) if directory is not None else None
    store = Store.open(args.store_url or sqlite_url(settings.data_dir))
    try:
        with read_only_chain(args, settings, deployment) as chain:
            artifacts = compile_artifacts(project_root(settings)) if chain is not None else None
            app = create_app(
                settings,
                store=store,
                chain=chain,
                deployment=deployment,
                artifacts=artifacts,
                limits=ApiLimits(max_body_bytes=args.max_body_bytes),
                max_merge_delay_s=args.max_merge_delay_s,
            )
            log.warning("serving the API on http://%s:%d/v1", host, port)
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()
    return EXIT_OK
