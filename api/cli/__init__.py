"""``carbonledger``: the operator CLI, the composition root (docs/OPERATIONS.md §3).

``main(argv) -> int``: results on stdout, logs and the one-line error on
stderr, exit codes as listed in ``carbonledger --help``. Settings are loaded
here, once, from ``CARBONLEDGER_*`` variables and the command-line options, and
passed down; nothing below reads the environment.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from api.cli import anchor as anchor_command
from api.cli import anchorer_key as anchorer_key_command
from api.cli import backup as backup_command
from api.cli import bodies as bodies_command
from api.cli import chain as chain_command
from api.cli import check as check_command
from api.cli import crossborder as crossborder_command
from api.cli import deploy as deploy_command
from api.cli import keys as keys_command
from api.cli import principals as principals_command
from api.cli import serve as serve_command
from api.cli import settings as settings_command
from api.cli import status as status_command
from api.cli import trustroot as trustroot_command
from api.cli import up as up_command
from api.cli.common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_global_options_everywhere,
    exit_code_for,
    setting_source,
    settings_overrides,
)
from api.datadir import private_umask, secure_data_dir
from api.interpreter import restore_recursion_limit
from api.logs import configure_logging
from api.settings import CarbonLedgerSettings
from ledger.core.errors import LedgerError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carbonledger",
        description="Run the carbonledger service: chain, contracts, anchoring.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (
        up_command,
        deploy_command,
        chain_command,
        anchor_command,
        status_command,
        check_command,
        keys_command,
        principals_command,
        serve_command,
        settings_command,
        backup_command,
        anchorer_key_command,
        trustroot_command,
        crossborder_command,
        bodies_command,
    ):
        command.register(subparsers)
    # The global options, before or after the command (and its action) alike.
    add_global_options_everywhere(parser)
    parser.set_defaults(json=False, verbose=0)
    return parser


def _configure_logging(verbosity: int, *, json_lines: bool = False) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    configure_logging(level=level, json_lines=json_lines)


def _error(message: str) -> None:
    # One line, whatever the cause: the operator reads the cause and the fix at once.
    print(f"carbonledger: error: {' '.join(message.split())}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    restore_recursion_limit()  # the imports above raised it (api/interpreter.py)
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed usage or help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    _configure_logging(args.verbose)
    try:
        settings = CarbonLedgerSettings(**settings_overrides(args))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        _error(
            f"invalid setting {field} ({setting_source(field, args)}): {first['msg']}"
            + (f" ({exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        )
        return EXIT_USAGE
    if settings.log_format == "json":
        _configure_logging(args.verbose, json_lines=True)
    try:
        with private_umask():
            secure_data_dir(settings.data_dir)
            return int(args.run(args, settings))
    except LedgerError as exc:
        _error(exc.message)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
