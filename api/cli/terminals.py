"""``carbonledger keys terminal…``: collection terminals' keys in the TrustRegistry and the
store (docs/CONTRACTS.md §4, docs/OPERATIONS.md).

  keys terminal --terminal ID --alg sm2-sm3|ed25519 --public-key HEX
                [--distinguishing-id TEXT] --points P1,P2 [--types T1,T2]
                [--valid-from T] [--valid-until T]
  keys terminal-revoke --key-id HEX [--effective-at T]
  keys terminals

A terminal keeps its private key inside the device; the operator registers its public key
(``registerTerminalKey``, KEY_ADMIN_ROLE) and grants it the metering points it reads
(``grantMeteringPoint``) and the record types carrying its signatures (``grantRecordType``,
default ``meter-reading``; REGISTRAR_ROLE). As for producer keys, the chain is written first
and the store mirrors what the chain then holds, so a run interrupted anywhere is finished
by running it again: whatever the chain has already is not sent twice. A metering point or
type granted and withdrawn before cannot be granted to the same key again (the contract
refuses it): register a new key.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from anchoring.revert import ContractRevertError
from api.cli.common import EXIT_OK, add_chain_options, add_store_option, print_rows
from api.cli.trust import (
    Registry,
    key_id_arg,
    moment_of,
    time_arg,
    trust_registry,
    types_arg,
    window_of,
)
from api.settings import CarbonLedgerSettings
from ledger.core import keys
from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.errors import AnchoringError, MalformedError, NotFoundError
from ledger.core.identifiers import parse_identifier
from ledger.core.readings import terminal_id_hex
from ledger.core.view import parse_view, reconstruct
from ledger.store import Store, sqlite_url
from ledger.store.records import records_matching
from ledger.store.terminals import (
    StoredTerminalKey,
    all_terminal_keys,
    mirror_terminal_key,
    refresh_terminal_key,
    terminal_keys,
)

__all__ = ["identifier_of", "register_actions", "register_terminal"]

REPORT_FORMAT = "carbonledger-cli-terminals/1"
#: The TrustRegistry's scheme numbers (SCHEME_ED25519, SCHEME_SM2_SM3).
SCHEME_NUMBERS = {keys.ALG_ED25519: 1, keys.ALG_SM2_SM3: 2}
_SCHEME_NAMES = {n: name for name, n in SCHEME_NUMBERS.items()}
Grants = dict[tuple[str, str], tuple[datetime, datetime | None]]
#: Batches of a metering point read to find a terminal's identifier by its hash.
_BATCHES_LOOKED_AT = 20


def _identifier(text: str) -> str:
    """An identifier (Handle, OID, Ecode) in its canonical spelling (docs/RECORDS.md §1.4)."""
    try:
        parsed = parse_identifier(text)
    except MalformedError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None
    if parsed.canonical != text:
        raise argparse.ArgumentTypeError(f"write it in its canonical spelling {parsed.canonical!r}")
    return text


def _points(text: str) -> list[str]:
    return sorted({_identifier(p.strip()) for p in text.split(",") if p.strip()})


def register_actions(actions: Any) -> None:
    """Add the terminal actions to ``carbonledger keys``."""
    specs = {
        "terminal": ("register a terminal's key and what it may sign for", _run_terminal),
        "terminal-revoke": ("revoke a terminal's key from a moment on", _run_revoke),
        "terminals": ("list the terminal keys the store holds", _run_list),
    }
    for name, (help_text, run) in specs.items():
        sub = actions.add_parser(name, help=help_text, description=help_text)
        add_chain_options(sub)
        add_store_option(sub)
        if name == "terminal":
            sub.add_argument("--terminal", type=_identifier, required=True,
                             help="the terminal's identifier (Handle, OID or Ecode)")  # fmt: skip
            sub.add_argument("--alg", choices=keys.SIGNATURE_ALGS, required=True)
            sub.add_argument("--public-key", required=True,
                             help="hex: 65 bytes 04||x||y (SM2) or 32 bytes (Ed25519)")  # fmt: skip
            sub.add_argument("--distinguishing-id",
                             help="the SM2 signer's identifier ID_A, as text")  # fmt: skip
            sub.add_argument("--points", type=_points, required=True,
                             help="comma-separated metering points it may sign for")  # fmt: skip
            sub.add_argument("--types", type=types_arg, default=["meter-reading"],
                             help="record types carrying its signatures (default "
                                  "meter-reading)")  # fmt: skip
            sub.add_argument("--valid-from", type=time_arg, help="first valid second (default "
                             "now)")  # fmt: skip
            sub.add_argument("--valid-until", type=time_arg, help="first invalid second "
                             "(default none)")  # fmt: skip
        elif name == "terminal-revoke":
            sub.add_argument("--key-id", type=key_id_arg, required=True, help="key id (hex)")
            sub.add_argument("--effective-at", type=time_arg,
                             help="first second the key is invalid (default: now, on "
                                  "chain)")  # fmt: skip
        sub.set_defaults(run=run)


# -- the chain ------------------------------------------------------------------------------


def _chain_key(registry: Registry, kid: str) -> tuple[Any, ...] | None:
    try:
        raw = registry.chain.call(registry.contract.functions.getTerminalKey(bytes.fromhex(kid)))
    except ContractRevertError as exc:
        if exc.error_name == "TrustRegistryUnknownKey":
            return None
        raise
    return tuple(raw)


def _chain_grants(registry: Registry, kid: str) -> Grants:
    """(kind, name) -> (granted, withdrawn) as the TrustRegistry holds them."""
    fns, key = registry.contract.functions, bytes.fromhex(kid)
    out: Grants = {}
    for kind, names, read in (
        ("metering-point", fns.meteringPointsOf(key), fns.getMeteringPointGrant),
        ("record-type", fns.recordTypesOf(key), fns.getRecordTypeGrant),
    ):
        for name in registry.chain.call(names):
            granted, withdrawn = registry.chain.call(read(key, name))
            out[(kind, str(name))] = (
                datetime.fromtimestamp(int(granted), UTC),
                moment_of(int(withdrawn)),
            )
    return out


def _mirror(store: Store, registry: Registry, kid: str, tx: str | None) -> StoredTerminalKey:
    """Bring the store's row of ``kid`` in line with what the chain holds now."""
    raw = _chain_key(registry, kid)
    if raw is None:
        raise NotFoundError(f"the TrustRegistry holds no terminal key {kid}")
    scheme, public, ident, terminal_id, valid_from, valid_until, revoked_at = raw
    grants = _chain_grants(registry, kid)
    with store.transaction() as session:
        mirror_terminal_key(
            session, terminal_id_hex=bytes(terminal_id).hex(), scheme=_SCHEME_NAMES[int(scheme)],
            public_key_hex=bytes(public).hex(), distinguishing_id_hex=bytes(ident).hex() or None,
            valid_from=datetime.fromtimestamp(int(valid_from), UTC),
            valid_until=moment_of(int(valid_until)), tx_hash=tx,
        )  # fmt: skip
        refresh_terminal_key(
            session, kid, valid_until=moment_of(int(valid_until)),
            revoked_at=moment_of(int(revoked_at)), grants=grants,
        )  # fmt: skip
        return terminal_keys(session, [kid])[kid]


# -- the actions ----------------------------------------------------------------------------


def _store(settings: CarbonLedgerSettings) -> Store:
    return Store.open(settings.store_url or sqlite_url(settings.data_dir))


def _public_key(args: argparse.Namespace) -> keys.PublicKey:
    try:
        raw = bytes.fromhex(args.public_key)
    except ValueError:
        raise MalformedError("expected hex", path="--public-key") from None
    ident = args.distinguishing_id
    if args.alg == keys.ALG_SM2_SM3 and not ident:
        raise MalformedError("an SM2 key signs under a distinguishing identifier",
                             path="--distinguishing-id")  # fmt: skip
    if args.alg == keys.ALG_ED25519 and ident:
        raise MalformedError("an Ed25519 key has none", path="--distinguishing-id")
    try:
        return keys.public_key(args.alg, raw, distinguishing_id=ident.encode() if ident else None)
    except MalformedError as exc:
        raise MalformedError(exc.reason, path="--public-key") from None


def _run_terminal(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    key = _public_key(args)
    valid_from, valid_until = window_of(args)
    store = _store(settings)
    try:
        with trust_registry(settings) as registry:
            row = register_terminal(
                registry, store, key, args.terminal, window=(valid_from, valid_until),
                points=args.points, types=args.types,
            )  # fmt: skip
    finally:
        store.close()
    return _report(args, "register", [row], names={row.key_id: args.terminal})


def register_terminal(
    registry: Registry,
    store: Store,
    key: keys.PublicKey,
    terminal: str,
    *,
    window: tuple[int, int],
    points: Sequence[str],
    types: Sequence[str],
) -> StoredTerminalKey:
    """``registerTerminalKey`` unless the chain holds the key, the grants it lacks, then the
    store's mirror (the chain first, then the store; a repeat changes nothing)."""
    kid = key.key_id
    terminal_id = bytes.fromhex(terminal_id_hex(terminal))
    ident = key.distinguishing_id or b""
    fns = registry.contract.functions
    on_chain = _chain_key(registry, kid)
    tx: str | None
    if on_chain is None:
        tx = registry.send(fns.registerTerminalKey(
            bytes.fromhex(kid), SCHEME_NUMBERS[key.scheme], key.raw, ident, terminal_id,
            *window))  # fmt: skip
    else:
        if (int(on_chain[0]), bytes(on_chain[2]), bytes(on_chain[3])) != (
            SCHEME_NUMBERS[key.scheme],
            ident,
            terminal_id,
        ):
            raise AnchoringError(
                f"key {kid} is registered on chain for another terminal, scheme or "
                "distinguishing identifier"
            )
        tx = registry.tx_of("TerminalKeyRegistered", kid, "keyId")
    held = _chain_grants(registry, kid)
    wanted = [("metering-point", p) for p in points] + [("record-type", t) for t in types]
    for kind, name in wanted:
        if (kind, name) in held:
            continue  # granted (and perhaps withdrawn) before: the chain decides
        grant = fns.grantMeteringPoint if kind == "metering-point" else fns.grantRecordType
        registry.send(grant(bytes.fromhex(kid), name))
    return _mirror(store, registry, kid, tx)


def _run_revoke(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    store = _store(settings)
    try:
        with trust_registry(settings) as registry:
            on_chain = _chain_key(registry, args.key_id)
            if on_chain is None:
                raise NotFoundError(f"the TrustRegistry holds no terminal key {args.key_id}")
            revoked_at = int(on_chain[6])
            wanted = int(args.effective_at.timestamp()) if args.effective_at else 0
            done = revoked_at != 0 and (wanted == 0 or revoked_at <= wanted)
            if not done:
                fn = registry.contract.functions.revokeTerminalKey(
                    bytes.fromhex(args.key_id), wanted
                )
                registry.send(fn)
            row = _mirror(store, registry, args.key_id, None)
    finally:
        store.close()
    return _report(args, "revoke", [row], already_revoked=done)


def _run_list(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    store = _store(settings)
    try:
        with store.transaction(readonly=True) as session:
            rows = all_terminal_keys(session)
            names = {r.key_id: identifier_of(session, r) for r in rows}
    finally:
        store.close()
    return _report(args, "list", rows, names=names)


def identifier_of(session: Any, key: StoredTerminalKey) -> str | None:
    """The terminal's identifier in canonical spelling: the TrustRegistry and its mirror
    hold only its hash, so it is read from a stored batch of one of the metering points the
    key was granted whose ``terminal.id`` has that hash (None before the first batch)."""
    for grant in key.grants:
        if grant.kind != "metering-point":
            continue
        rows = records_matching(
            session, subject=grant.name, record_type="meter-reading", limit=_BATCHES_LOOKED_AT
        )
        for row in rows:
            view = parse_view(parse_json(row.full_view, root="full_view"), path="full_view")
            terminal = reconstruct(view).get("body", {}).get("terminal", {})
            name = terminal.get("id") if isinstance(terminal, dict) else None
            if isinstance(name, str) and terminal_id_hex(name) == key.terminal_id_hex:
                return name
    return None


def _describe(key: StoredTerminalKey, identifier: str | None) -> dict[str, Any]:
    def ts(moment: datetime | None) -> str | None:
        return format_timestamp(moment) if moment is not None else None

    ident = key.distinguishing_id_hex
    current = [g for g in key.grants if g.withdrawn_at is None]
    return {
        "key_id": key.key_id,
        "terminal": identifier,
        "terminal_id": key.terminal_id_hex,
        "alg": key.scheme,
        "public_key": key.public_key_hex,
        "distinguishing_id": bytes.fromhex(ident).decode("utf-8", "replace") if ident else None,
        "valid_from": ts(key.valid_from),
        "valid_until": ts(key.valid_until),
        "revoked_at": ts(key.revoked_at),
        "registered_tx": key.registered_tx_hash,
        "metering_points": [g.name for g in current if g.kind == "metering-point"],
        "record_types": [g.name for g in current if g.kind == "record-type"],
    }


def _report(
    args: argparse.Namespace,
    action: str,
    rows: list[StoredTerminalKey],
    *,
    names: dict[str, str | None] | None = None,
    **extra: Any,
) -> int:
    """``names``: key id -> the terminal's identifier, where it is known."""
    described = [_describe(r, (names or {}).get(r.key_id)) for r in rows]
    if args.json:
        report = {"format": REPORT_FORMAT, "action": action, **extra, "keys": described}
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    for i, key in enumerate(described):
        if i:
            print()
        items = [(k.replace("_", " "), v) for k, v in key.items()]
        items += list(extra.items())
        print_rows([(k, ", ".join(v) if isinstance(v, list) else "-" if v is None else v)
                    for k, v in items])  # fmt: skip
    return EXIT_OK
