"""``carbonledger trust-root``: write the auditor's trust root of this deployment.

The pins an auditor needs (docs/VERIFY.md §2) in one ``carbonledger-trust-root/1`` file:
the chain id and genesis hash, both registries' addresses and runtime code hashes (from
the deployment record), the service key id (from the data directory's service key), the
depth an anchor needs (the confirmations setting) and the JSON-RPC endpoints to read the
chain through (``--endpoint``, repeatable; default: the running service's own). Publish
it; an auditor checks it once against the consortium's publication and verifies with
``carbon-verify bundle FILE --trust-root trust-root.json``.

Exit codes: 0 written; 2 no deployment or service key in the data directory, or no
endpoint known.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from anchoring.deployment import load_deployment
from api.cli.common import EXIT_OK, setting_help
from api.cli.runner import read_service_state
from api.settings import CarbonLedgerSettings
from ledger.core.errors import MalformedError
from ledger.service.service_key import load_service_key
from verifier.trustroot import TrustRoot

__all__ = ["build_trust_root", "register", "write_trust_root"]

TRUST_ROOT_FILE = "trust-root.json"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "trust-root",
        help="write the auditor's trust root (carbonledger-trust-root/1) of this deployment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help=setting_help("data_dir", "data directory"))
    parser.add_argument(
        "--endpoint",
        action="append",
        metavar="URL",
        help="a JSON-RPC endpoint auditors may read the chain through (repeatable); "
        "default: the running service's",
    )
    parser.add_argument(
        "--out", type=Path, metavar="PATH", help="write the file here (default: stdout)"
    )
    parser.set_defaults(run=run)


def build_trust_root(data_dir: Path, *, endpoints: list[str] | None, min_depth: int) -> TrustRoot:
    """The trust root of the deployment recorded in ``data_dir``."""
    deployment = load_deployment(data_dir)
    if deployment is None:
        raise MalformedError(
            f"no deployment recorded in {data_dir}: run `carbonledger deploy` or `up` first"
        )
    if not endpoints:
        state = read_service_state(data_dir)
        if state is None or not state.rpc_url:
            raise MalformedError(
                "no --endpoint given and no running service names its RPC endpoint: give the "
                "endpoints auditors should read the chain through"
            )
        endpoints = [state.rpc_url]
    anchor = deployment.contracts["AnchorRegistry"]
    trust = deployment.contracts["TrustRegistry"]
    return TrustRoot(
        chain_id=deployment.chain_id,
        genesis_hash=deployment.genesis_hash_hex,
        anchor_registry=anchor.address,
        anchor_code_hash=anchor.runtime_code_hash_hex,
        trust_registry=trust.address,
        trust_code_hash=trust.runtime_code_hash_hex,
        service_key_id=load_service_key(data_dir).key_id,
        min_depth=min_depth,
        rpc=tuple(dict.fromkeys(endpoints)),
    )


def write_trust_root(root: TrustRoot, path: Path) -> Path:
    """Write ``root`` to ``path`` (pretty JSON, UTF-8); returns ``path``."""
    try:
        path.write_text(json.dumps(root.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MalformedError(f"cannot write the trust root to {path}: {exc.strerror}") from None
    return path


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = build_trust_root(
        settings.data_dir, endpoints=args.endpoint, min_depth=settings.confirmations
    )
    # The file is read back strictly before anyone is given it.
    TrustRoot.from_json(root.to_json())
    if args.out is None:
        print(json.dumps(root.to_json(), indent=2))
    else:
        write_trust_root(root, args.out)
        print(args.out)
    return EXIT_OK
