"""What the operator commands share: exit codes, settings to chain, the error table."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import ssl
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from eth_account import Account

from anchoring.chain import Chain, ChainIdMismatchError, ChainSetupError, RpcChain, open_chain
from anchoring.chain.dev import default_anvil_path, dev_account_keys
from anchoring.deployment import DEFAULT_ADMIN_DELAY_S, RoleAssignment
from anchoring.keystore import resolve_signer
from anchoring.revert import ContractRevertError
from api.server import ServerStartError
from api.servicestate import read_service_state
from api.settings import CarbonLedgerSettings
from ledger.core.errors import (
    AnchoringError,
    DeploymentMismatchError,
    LedgerError,
    MalformedError,
    StorageError,
    UnavailableError,
)
from ledger.store import Store, sqlite_url
from ledger.store.engine import DEFAULT_FILENAME

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

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


class SetupError(ChainSetupError):
    """What the operator must set up before the command can run (exit 2): a data
    directory, a store, a deployment; the message says which and how."""


def exit_code_for(exc: LedgerError) -> int:
    """The one table from our errors to exit codes."""
    if isinstance(exc, UnavailableError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, ChainSetupError | MalformedError | ServerStartError):
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
    "workers": ("workers", "--workers"),
}


def setting_help(field: str, text: str) -> str:
    """An option's help: what it does, its variable and its default (from the one model)."""
    info = CarbonLedgerSettings.model_fields[field]
    default = "none" if info.default is None else info.default
    return f"{text} (CARBONLEDGER_{field.upper()}; default {default})"


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The options every command accepts, before or after its name (and its action's):
    ``carbonledger --data-dir D status`` and ``carbonledger status --data-dir D`` are the
    same. Each defaults to "not given" (``argparse.SUPPRESS``), so a subcommand's parser
    never overwrites what was given before it; each given one overrides a setting."""
    if "--data-dir" in parser._option_string_actions:
        return
    hidden = argparse.SUPPRESS
    parser.add_argument(
        "--data-dir", type=Path, default=hidden, help=setting_help("data_dir", "data directory")
    )
    parser.add_argument(
        "--chain",
        choices=["memory", "dev", "rpc"],
        default=hidden,
        help=setting_help("chain", "chain kind"),
    )
    parser.add_argument(
        "--rpc",
        metavar="URL",
        default=hidden,
        help=setting_help("rpc_url", "use the rpc chain at URL"),
    )
    parser.add_argument(
        "--chain-id",
        type=int,
        default=hidden,
        help=setting_help("expected_chain_id", "expected chain id of the rpc node"),
    )
    parser.add_argument(
        "--port", type=int, default=hidden, help=setting_help("dev_port", "pin the dev port")
    )
    parser.add_argument(
        "--keystore",
        type=Path,
        default=hidden,
        help=setting_help("signer_keystore", "signer keystore file"),
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        default=hidden,
        help=setting_help("signer_password_file", "file holding the keystore password"),
    )
    parser.add_argument(
        "--project-root",
        type=Path,
        default=hidden,
        help=setting_help("project_root", "repository with contracts/"),
    )
    parser.add_argument(
        "--store-url",
        metavar="URL",
        default=hidden,
        help=setting_help("store_url", "database URL; none: SQLite in the data directory"),
    )
    parser.add_argument("--json", action="store_true", default=hidden, help="print one JSON report")
    parser.add_argument(
        "-v", "--verbose", action="count", default=hidden, help="more logs on stderr"
    )


def add_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """``add_global_options`` on ``parser`` and on every command and action below it."""
    add_global_options(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_global_options_everywhere(sub)


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """The chain and store options (kept for the commands' registration; global now)."""
    add_global_options(parser)


def add_store_option(parser: argparse.ArgumentParser) -> None:
    add_global_options(parser)


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


def existing_store(settings: CarbonLedgerSettings) -> Store:
    """The store a command reads or writes, which must exist already and be at this
    version's schema; else ``SetupError`` saying what to do (never a library's hint)."""
    if settings.store_url is None:
        directory = settings.data_dir
        if not directory.is_dir():
            raise SetupError(
                f"there is no data directory {directory}: name the service's one with "
                "--data-dir (or CARBONLEDGER_DATA_DIR), or start a service there with "
                "`carbonledger up`"
            )
        if not (directory / DEFAULT_FILENAME).is_file():
            raise SetupError(
                f"{directory} holds no store ({DEFAULT_FILENAME}): is it the service's data "
                "directory? `carbonledger up` creates one"
            )
    url = settings.store_url or sqlite_url(settings.data_dir)
    try:
        return Store.open(url, create=False)
    except StorageError as exc:
        if "schema" not in exc.message:
            raise
        raise SetupError(
            "the store was made by another version of carbonledger (its schema is not this "
            "version's): start this version's service once (`carbonledger up`), which "
            "migrates it, or use the matching carbonledger"
        ) from exc


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


#: Held while a command runs the dev chain of a data directory (its anvil and state file).
DEV_CHAIN_LOCK = "dev-chain.lock"


def client_tls_context(
    settings: CarbonLedgerSettings, *, trust_served: bool = False
) -> ssl.SSLContext:
    """The TLS context of the service's own HTTPS calls: the system's CAs, plus
    ``CARBONLEDGER_OUTBOUND_CA_FILE``; with ``trust_served`` (``up`` calling its own API),
    the certificate it serves (``CARBONLEDGER_TLS_CERT_FILE``) is trusted as it is, so a
    self-signed one verifies (docs/OPERATIONS.md §6)."""
    context = ssl.create_default_context()
    if settings.outbound_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.outbound_ca_file))
    if trust_served and settings.tls_cert_file is not None:
        context.load_verify_locations(cafile=str(settings.tls_cert_file))
        # The served certificate is a trust anchor by itself, issued by a CA or not.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def configured_signer(settings: CarbonLedgerSettings) -> LocalAccount | None:
    return resolve_signer(
        keystore_path=settings.signer_keystore,
        password=settings.signer_password.get_secret_value() if settings.signer_password else None,
        password_file=settings.signer_password_file,
        key_hex=settings.signer_key.get_secret_value() if settings.signer_key else None,
    )


@contextlib.contextmanager
def _dev_chain_lock(data_dir: Path) -> Iterator[None]:
    """One dev chain per data directory: an exclusive lock on ``dev-chain.lock`` while its
    anvil runs, so that two commands never start two anvils on one state file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / DEV_CHAIN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise SetupError(
                f"another carbonledger command (pid {holder}) runs the dev chain of "
                f"{data_dir}: wait until it ends, or stop it; two chains must never share one "
                "state file"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def configured_chain(settings: CarbonLedgerSettings, *, anvil_path: Path) -> Iterator[Chain]:
    """Open the configured chain; it is closed (a dev chain's anvil stopped) on the way out.

    The dev chain of a data directory whose service runs is that service's: the command
    connects to its RPC (from ``service-running.json``) and never starts a second anvil on
    the same state file; without a service, the command starts the dev chain itself, under
    the data directory's dev-chain lock."""
    signer = configured_signer(settings)
    if settings.chain == "dev":
        running = read_service_state(settings.data_dir.resolve())
        if running is not None and running.rpc_url:
            log.info(
                "the service of %s runs (pid %s): using its chain at %s",
                settings.data_dir,
                running.pid,
                running.rpc_url,
            )
            chain: Chain = RpcChain(
                running.rpc_url,
                expected_chain_id=running.chain_id,
                signer=signer or Account.from_key(dev_account_keys()[0]),
            )
            try:
                yield chain
            finally:
                chain.close()
            return
        with _dev_chain_lock(settings.data_dir):
            chain = open_chain(
                "dev",
                data_dir=settings.data_dir,
                anvil_path=anvil_path,
                port=settings.dev_port,
                signer=signer,
            )
            try:
                yield chain
            finally:
                chain.close()
        return
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
