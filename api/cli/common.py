"""What the operator commands share: exit codes, settings to chain, the error table."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from anchoring.chain import Chain, ChainIdMismatchError, ChainSetupError, open_chain
from anchoring.chain.dev import default_anvil_path
from anchoring.deployment import DEFAULT_ADMIN_DELAY_S, RoleAssignment
from anchoring.keystore import resolve_signer
from anchoring.revert import ContractRevertError
from api.settings import CarbonLedgerSettings
from ledger.core.errors import (
    AnchoringError,
    DeploymentMismatchError,
    LedgerError,
    MalformedError,
    UnavailableError,
)

log = logging.getLogger("carbonledger")

#: Exit codes of ``carbonledger``, documented in ``carbonledger --help``.
EXIT_OK = 0
EXIT_REFUSED = 1  # the chain or deployment is not the recorded one, or a tx reverted
EXIT_USAGE = 2  # bad arguments or settings, missing key or npm install, port in use
EXIT_UNAVAILABLE = 3  # a dependency (RPC node, anvil) could not answer

EXIT_CODES_HELP = """exit codes:
  0  success
  1  refused: the chain or the deployment differs from the record, or a transaction reverted
  2  usage or setup error: bad arguments or settings, missing or undecryptable signer key,
     missing npm install, dev port already in use
  3  unavailable: the RPC node or the dev chain could not answer (retrying may help)"""


def exit_code_for(exc: LedgerError) -> int:
    """The one table from our errors to exit codes."""
    if isinstance(exc, UnavailableError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, ChainSetupError | MalformedError):
        return EXIT_USAGE
    if isinstance(exc, DeploymentMismatchError | ChainIdMismatchError | ContractRevertError):
        return EXIT_REFUSED
    return EXIT_REFUSED


#: Command-line options that override one setting each: the argparse ``dest`` → the field
#: of ``CarbonLedgerSettings`` (env ``CARBONLEDGER_<FIELD>``) and the option's spelling. A
#: flag defaults to None so that an unset flag leaves the environment (or the default) in
#: force: flags win over the environment, the environment over the defaults.
FLAG_SETTINGS: dict[str, tuple[str, str]] = {
    "data_dir": ("data_dir", "--data-dir"),
    "chain": ("chain", "--chain"),
    "rpc": ("rpc_url", "--rpc"),
    "chain_id": ("expected_chain_id", "--chain-id"),
    "port": ("dev_port", "--port"),
    "keystore": ("signer_keystore", "--keystore"),
    "password_file": ("signer_password_file", "--password-file"),
    "project_root": ("project_root", "--project-root"),
    "kubo_url": ("kubo_url", "--kubo-url"),
    "store_url": ("store_url", "--store-url"),
    "batch_size": ("batch_max_records", "--batch-size"),
    "batch_age_s": ("batch_max_age_s", "--batch-age-s"),
    "stall_timeout_s": ("stall_timeout_s", "--stall-timeout-s"),
    "max_fee_gwei": ("max_fee_gwei", "--max-fee-gwei"),
    "poll_s": ("poll_interval_s", "--poll-s"),
    "bind": ("bind", "--bind"),
    "max_merge_delay_s": ("max_merge_delay_s", "--max-merge-delay-s"),
    "max_body_bytes": ("max_body_bytes", "--max-body-bytes"),
}


def setting_help(field: str, text: str) -> str:
    """An option's help: what it does, its variable and its default (from the one model)."""
    info = CarbonLedgerSettings.model_fields[field]
    default = "none" if info.default is None else info.default
    return f"{text} (CARBONLEDGER_{field.upper()}; default {default})"


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that touches the chain accepts (each overrides a setting)."""
    parser.add_argument("--data-dir", type=Path, help=setting_help("data_dir", "data directory"))
    parser.add_argument(
        "--chain", choices=["memory", "dev", "rpc"], help=setting_help("chain", "chain kind")
    )
    parser.add_argument(
        "--rpc", metavar="URL", help=setting_help("rpc_url", "use the rpc chain at URL")
    )
    parser.add_argument(
        "--chain-id",
        type=int,
        help=setting_help("expected_chain_id", "expected chain id of the rpc node"),
    )
    parser.add_argument("--port", type=int, help=setting_help("dev_port", "pin the dev port"))
    parser.add_argument(
        "--keystore", type=Path, help=setting_help("signer_keystore", "signer keystore file")
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        help=setting_help("signer_password_file", "file holding the keystore password"),
    )
    parser.add_argument(
        "--project-root",
        type=Path,
        help=setting_help("project_root", "repository with contracts/"),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON report")


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-url",
        metavar="URL",
        help=setting_help("store_url", "database URL; none: SQLite in the data directory"),
    )


def add_merge_delay_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-merge-delay-s",
        type=int,
        help=setting_help("max_merge_delay_s", "anchoring delay promised in receipts"),
    )


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI options that override the environment (init arguments win in pydantic-settings).

    Commands that lack an option simply have no such attribute: only the options a command
    offers, and the operator gave, are overrides."""
    overrides: dict[str, Any] = {}
    for dest, (field, _) in FLAG_SETTINGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[field] = value
    if "chain" not in overrides and "rpc_url" in overrides:
        overrides["chain"] = "rpc"
    return overrides


def setting_source(field: str, args: argparse.Namespace) -> str:
    """Where an invalid value came from, for the one-line error: the flag if the operator
    gave it, and always the variable (the fix may be in either place)."""
    env = f"CARBONLEDGER_{field.upper()}"
    for dest, (name, flag) in FLAG_SETTINGS.items():
        if name == field and getattr(args, dest, None) is not None:
            return f"{flag} / {env}"
    return env


def project_root(settings: CarbonLedgerSettings) -> Path:
    from anchoring.toolchain import find_project_root

    if settings.project_root is not None:
        return settings.project_root.resolve()
    return find_project_root()


def check_npm_install(root: Path, settings: CarbonLedgerSettings) -> Path:
    """Fail early, before anything runs, when ``npm ci`` has not been run; returns anvil's path."""
    from anchoring.toolchain import node_modules_dir

    try:
        node_modules_dir(root)
    except AnchoringError as exc:
        raise ChainSetupError(exc.message) from exc
    anvil = settings.anvil_path or default_anvil_path(root)
    if settings.chain == "dev" and not anvil.is_file():
        raise ChainSetupError(f"the anvil binary is missing ({anvil}): run `npm ci` in {root}")
    return anvil


def compile_artifacts(root: Path) -> Mapping[str, Any]:
    from anchoring.toolchain import compile_contracts

    return compile_contracts(project_root=root)


@contextlib.contextmanager
def configured_chain(settings: CarbonLedgerSettings, *, anvil_path: Path) -> Iterator[Chain]:
    """Open the configured chain; it is closed (a dev chain's anvil stopped) on the way out."""
    signer = resolve_signer(
        keystore_path=settings.signer_keystore,
        password=settings.signer_password.get_secret_value() if settings.signer_password else None,
        password_file=settings.signer_password_file,
        key_hex=settings.signer_key.get_secret_value() if settings.signer_key else None,
    )
    chain = open_chain(
        settings.chain,
        data_dir=settings.data_dir,
        anvil_path=anvil_path,
        port=settings.dev_port,
        rpc_url=settings.rpc_url,
        expected_chain_id=settings.expected_chain_id,
        signer=signer,
        confirmations=settings.confirmations,
    )
    try:
        yield chain
    finally:
        chain.close()


def record_dir(settings: CarbonLedgerSettings) -> Path | None:
    """Where the deployment record lives; the memory chain keeps none (it dies with us)."""
    return None if settings.chain == "memory" else settings.data_dir


def admin_delay_s(settings: CarbonLedgerSettings) -> int:
    if settings.admin_delay_s is not None:
        return settings.admin_delay_s
    return DEFAULT_ADMIN_DELAY_S[settings.chain]


def role_assignment(settings: CarbonLedgerSettings) -> RoleAssignment:
    return RoleAssignment(
        anchorer=settings.anchorer,
        revoker=settings.revoker,
        key_admin=settings.key_admin,
        registrar=settings.registrar,
    )


def configure_service_logging(args: argparse.Namespace, settings: CarbonLedgerSettings) -> None:
    """The service's logs: JSON lines (unless ``log_format`` is ``text``), at INFO so that
    the access log is written (``-v`` for DEBUG)."""
    from api.logs import configure_logging

    level = logging.DEBUG if getattr(args, "verbose", 0) > 1 else logging.INFO
    configure_logging(level=level, json_lines=settings.log_format != "text")


def print_rows(rows: list[tuple[str, Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}", file=out)
