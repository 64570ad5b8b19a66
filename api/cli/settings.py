"""``carbonledger settings``: the settings a command would run with, and where each came from.

Every setting is resolved in one place (``api.cli.common.settings_overrides``): a
command-line flag wins over the ``CARBONLEDGER_<NAME>`` variable, which wins over the
default (docs/OPERATIONS.md §6). This command accepts every such flag and prints the
result without starting anything. Secrets are masked: the signer's password and key, and
the password inside any URL.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from api.cli.anchor import add_batch_options, add_fee_options, add_kubo_option
from api.cli.common import (
    EXIT_OK,
    FLAG_SETTINGS,
    add_chain_options,
    add_store_option,
    print_rows,
    settings_overrides,
)
from api.cli.serve import add_api_options
from api.settings import CarbonLedgerSettings

REPORT_FORMAT = "carbonledger-cli-settings/1"
MASK = "********"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "settings",
        help="print the resolved settings (flags > CARBONLEDGER_* > defaults), secrets masked",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    add_batch_options(parser)
    add_fee_options(parser)
    add_kubo_option(parser)
    add_api_options(parser)
    parser.set_defaults(run=run)


def mask_url(url: str) -> str:
    """``url`` with the password of its user part replaced (a database or RPC URL may carry
    one); anything unparsable is masked whole rather than shown."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def shown_value(value: Any) -> Any:
    """A setting as JSON shows it: secrets masked, paths as strings, URLs without passwords."""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def resolved(args: argparse.Namespace, settings: CarbonLedgerSettings) -> dict[str, Any]:
    """``{name: {"value", "env", "flag", "source"}}`` for every field of the settings."""
    overrides = settings_overrides(args)
    flags = {field: flag for field, flag in FLAG_SETTINGS.values()}
    out: dict[str, Any] = {}
    for name in CarbonLedgerSettings.model_fields:
        if name in overrides:
            source = "flag"
        elif name in settings.model_fields_set:
            source = "env"
        else:
            source = "default"
        out[name] = {
            "value": shown_value(getattr(settings, name)),
            "env": f"CARBONLEDGER_{name.upper()}",
            "flag": flags.get(name),
            "source": source,
        }
    return out


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    report = resolved(args, settings)
    if args.json:
        print(json.dumps({"format": REPORT_FORMAT, "settings": report}, indent=2, sort_keys=True))
        return EXIT_OK
    print_rows(
        [
            (name, f"{'-' if entry['value'] is None else entry['value']}  ({entry['source']})")
            for name, entry in report.items()
        ]
    )
    return EXIT_OK
