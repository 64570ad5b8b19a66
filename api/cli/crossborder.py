"""``carbonledger assess`` and ``carbonledger convert``: the cross-border desk of a running
service (docs/API.md §3.7), called over its HTTP API with the caller's API key.

``assess`` pre-assesses a stored carbon record (``--source``) or a draft record
(``--draft FILE``, never stored) for a region and prints the answer (JSON); ``--store``
keeps the assessment as a signed risk-assessment record. ``convert`` has the service
compute, sign and submit the factor substitution of a stored record under the region's
rule (``--supplements FILE`` / ``--allocations FILE``: JSON arrays, docs/CALC.md §6.1).

Exit codes: 0 done (whatever the level: read ``assessment.level``), 1 refused by the
service (409: the subject is red-locked for the region, the message names the
assessment; 404: no such record the caller sees; 403), 2 bad arguments or a request
the service found malformed (its path named), 3 the service could not be reached.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from api.settings import CarbonLedgerSettings
from ledger.client.problems import problem_error
from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError, UnavailableError

__all__ = ["register"]

TIMEOUT_S = 60.0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the service's base URL (default: http://BIND)")
    parser.add_argument(
        "--api-key-file",
        type=Path,
        required=True,
        help="file holding the caller's API key (a producer, auditor or regulator)",
    )
    parser.add_argument("--region", required=True, help="target region (EU, GB, SEA, NA, ...)")
    parser.add_argument(
        "--choice",
        action="append",
        default=[],
        metavar="LINE=SET#ENTRY",
        help="the factor for a line the rule leaves open (repeatable)",
    )


def register(subparsers: Any) -> None:
    assess = subparsers.add_parser(
        "assess",
        help="pre-assess a carbon record for a region (risk level, tariff burden)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(assess)
    source = assess.add_mutually_exclusive_group(required=True)
    source.add_argument("--source", help="id of a stored carbon record")
    source.add_argument("--draft", type=Path, help="a carbon record (JSON file), never stored")
    assess.add_argument("--import-date", required=True, help="YYYY-MM-DD of the import")
    assess.add_argument("--store", action="store_true", help="store it as a risk assessment")
    assess.set_defaults(run=run_assess)

    convert = subparsers.add_parser(
        "convert",
        help="have the service convert a stored carbon record under a region's rule",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(convert)
    convert.add_argument("--source", required=True, help="id of a stored carbon record")
    convert.add_argument("--supplements", type=Path, help="JSON array of activity lines")
    convert.add_argument("--allocations", type=Path, help="JSON array of allocations")
    convert.set_defaults(run=run_convert)


def _json_file(path: Path, what: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", path=what) from None
    return parse_json(data, root=what)


def _choices(values: list[str]) -> list[dict[str, str]]:
    out = []
    for value in values:
        line, sep, rest = value.partition("=")
        set_id, sep2, entry = rest.rpartition("#")
        if not (line and sep and sep2 and set_id and entry):
            raise MalformedError(f"{value!r} is not LINE=SET#ENTRY", path="--choice")
        out.append({"line_id": line, "set": set_id, "entry": entry})
    return out


def _post(args: argparse.Namespace, settings: CarbonLedgerSettings, path: str, body: Any) -> Any:
    base = (args.url or f"http://{settings.bind}").rstrip("/")
    try:
        token = args.api_key_file.read_text().strip()
    except OSError as exc:
        raise MalformedError(
            f"cannot read the API key: {exc.strerror}", path="--api-key-file"
        ) from None
    try:
        response = httpx.post(
            base + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_S,
        )
    except httpx.TransportError as exc:
        raise UnavailableError(f"{base}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 400:
        raise problem_error(response)
    return response.json()


def _print(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))
    return 0


def run_assess(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    body: dict[str, Any] = {
        "region": args.region,
        "import_date": args.import_date,
        "choices": _choices(args.choice),
        "store": bool(args.store),
    }
    if args.draft is not None:
        body["draft"] = _json_file(args.draft, "--draft")
    else:
        body["source"] = args.source
    return _print(_post(args, settings, "/v1/assessments", body))


def run_convert(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    body: dict[str, Any] = {
        "region": args.region,
        "source": args.source,
        "choices": _choices(args.choice),
    }
    if args.supplements is not None:
        body["supplements"] = _json_file(args.supplements, "--supplements")
    if args.allocations is not None:
        body["allocations"] = _json_file(args.allocations, "--allocations")
    return _print(_post(args, settings, "/v1/conversions", body))
