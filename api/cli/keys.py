"""``carbonledger keys``: producer keys in the store and in the TrustRegistry (docs/FORMAT.md §3).

  keys create --producer NAME --types T1,T2 --out FILE [--valid-from T] [--valid-until T]
  keys rotate --key-id HEX --out FILE [--valid-from T] [--valid-until T]
  keys revoke --key-id HEX [--effective-at T]
  keys list [--producer NAME]
  keys terminal …, keys terminal-revoke …, keys terminals: collection terminals' keys
  (``api.cli.terminals``)

The chain is the authority a verifier trusts; the store mirrors it so the accept path can
check signatures without a chain call. Every change is therefore made on the chain first
and written to the store, with the transaction hash, only after the transaction is mined.
A key signs only the record types the registrar granted it (docs/CONTRACTS.md §4):
``create --types`` grants them (``grantRecordType``, the signer must hold REGISTRAR_ROLE
as well as KEY_ADMIN_ROLE); a rotation carries them to the new key on the chain.
Each step can be run again after a crash: the new private key is written (mode 0600)
before anything else, and an existing ``--out`` file is taken as the key to finish
registering; the chain is read (``getKey``) before any transaction, so a key registered
before the crash is not registered twice, and the store row is completed from what the
chain holds. Times are RFC 3339 UTC in whole seconds (the contract keeps uint64 seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli import terminals
from api.cli.common import EXIT_OK, add_chain_options, add_store_option, print_rows
from api.cli.trust import (
    OnChainKey,
    key_id_arg,
    moment_of,
    seconds_of,
    time_arg,
    trust_registry,
    types_arg,
    window_of,
)
from api.settings import CarbonLedgerSettings
from ledger.core.canonical import format_timestamp
from ledger.core.errors import AnchoringError, MalformedError, NotFoundError
from ledger.core.signature import key_id as key_id_of
from ledger.core.signature import public_key_bytes
from ledger.service.service_key import read_key_file, write_key_file
from ledger.store import Store, Transaction, sqlite_url
from ledger.store.producers import (
    ProducerKey,
    all_producer_keys,
    get_producer_key,
    keys_of,
    mirror_key,
    replace_key_types,
    types_of_keys,
)

REPORT_FORMAT = "carbonledger-cli-keys/1"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="producer keys: create, rotate, revoke (store and TrustRegistry), list",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    specs = {
        "create": ("create a producer key and register it", _run_create),
        "rotate": ("replace a key by a new one of the same producer", _run_rotate),
        "revoke": ("revoke a key from a moment on", _run_revoke),
        "list": ("list the producer keys the store holds", _run_list),
    }
    for name, (help_text, run) in specs.items():
        sub = actions.add_parser(name, help=help_text, description=help_text)
        add_chain_options(sub)
        add_store_option(sub)
        if name == "create":
            sub.add_argument("--producer", required=True, help="the records' producer string")
            sub.add_argument(
                "--types",
                type=types_arg,
                required=True,
                help="comma-separated record types the key may sign (granted on-chain)",
            )
        elif name == "list":
            sub.add_argument("--producer", help="only this producer's keys")
        else:
            sub.add_argument("--key-id", type=key_id_arg, required=True, help="key id (hex)")
        if name in ("create", "rotate"):
            sub.add_argument(
                "--out",
                type=Path,
                required=True,
                help="private key file to write (0600); an existing one is resumed",
            )
            sub.add_argument("--valid-from", type=time_arg, help="first valid second (default now)")
            sub.add_argument("--valid-until", type=time_arg, help="first invalid second (default "
                             "none)")  # fmt: skip
        if name == "revoke":
            sub.add_argument(
                "--effective-at",
                type=time_arg,
                help="first second the key is invalid (default: now, on chain)",
            )
        sub.set_defaults(run=run)
    terminals.register_actions(actions)


# -- helpers ------------------------------------------------------------------------------


def _store(args: argparse.Namespace, settings: CarbonLedgerSettings) -> Store:
    # Registering keys may come before the service's first start: the store is made here.
    return Store.open(settings.store_url or sqlite_url(settings.data_dir))


def _load_or_generate(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key at ``path`` (resuming an interrupted run) or a new one written there first."""
    if path.exists():
        return read_key_file(path), True
    key = Ed25519PrivateKey.generate()
    write_key_file(path, key)
    return key, False


def _producer_id(producer: str) -> str:
    # docs/CONTRACTS.md §4: producerId = sha256(UTF-8 bytes of the producer string).
    return hashlib.sha256(producer.encode("utf-8")).hexdigest()


def _mirror(session: Transaction, kid: str, producer: str, chain_key: OnChainKey, tx: str | None,
            grants: dict[str, tuple[datetime, datetime | None]] | None = None,
            ) -> ProducerKey:  # fmt: skip
    """The store row of ``kid``, created or brought in line with the chain."""
    row = mirror_key(
        session, producer=producer, public_key_hex=chain_key.public_key_hex,
        valid_from=datetime.fromtimestamp(chain_key.valid_from, UTC),
        valid_until=moment_of(chain_key.valid_until), revoked_at=moment_of(chain_key.revoked_at),
        tx_hash=tx, at=datetime.now(UTC),
    )  # fmt: skip
    if grants is not None:
        replace_key_types(session, kid, grants)
    return row


def _describe(row: ProducerKey, session: Transaction) -> dict[str, Any]:
    def ts(moment: datetime | None) -> str | None:
        return format_timestamp(moment) if moment is not None else None

    return {
        "key_id": row.key_id,
        "producer": row.producer,
        "public_key": row.public_key_hex,
        "valid_from": ts(row.valid_from),
        "valid_until": ts(row.valid_until),
        "revoked_at": ts(row.revoked_at),
        "registered_tx": row.registered_tx_hash,
        "record_types": [
            t.record_type
            for t in types_of_keys(session, [row.key_id]).get(row.key_id, [])
            if t.withdrawn_at is None
        ],
    }


def _report(args: argparse.Namespace, action: str, keys: list[dict[str, Any]], **extra: Any
            ) -> int:  # fmt: skip
    if args.json:
        report = {"format": REPORT_FORMAT, "action": action, **extra, "keys": keys}
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        for i, key in enumerate(keys):
            if i:
                print()
            rows = [(k.replace("_", " "), v if v is not None else "-") for k, v in key.items()]
            print_rows(rows + [(k.replace("_", " "), v) for k, v in extra.items()])
    return EXIT_OK


# -- the actions --------------------------------------------------------------------------


def _run_create(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    producer: str = args.producer
    if not producer or len(producer) > 200:
        raise MalformedError("expected 1 to 200 characters", path="--producer")
    valid_from, valid_until = window_of(args)
    key, resumed = _load_or_generate(args.out)
    pub_hex, kid = public_key_bytes(key).hex(), key_id_of(key)
    store = _store(args, settings)
    try:
        with trust_registry(settings) as registry:
            chain_key = registry.get_key(kid)
            if chain_key is None:
                tx: str | None = registry.send(registry.contract.functions.registerKey(
                    bytes.fromhex(kid), bytes.fromhex(pub_hex),
                    bytes.fromhex(_producer_id(producer)), valid_from, valid_until))  # fmt: skip
                chain_key = registry.get_key(kid)
            else:
                tx = registry.tx_of("KeyRegistered", kid, "keyId")
            if chain_key is None or chain_key.producer_id_hex != _producer_id(producer):
                raise AnchoringError(
                    f"key {kid} is registered on chain for another producer id "
                    f"({chain_key.producer_id_hex if chain_key else 'none'}), not {producer!r}"
                )
            granted = registry.grants(kid)
            for record_type in args.types:
                if record_type not in granted:
                    registry.send(registry.contract.functions.grantRecordType(
                        bytes.fromhex(kid), record_type))  # fmt: skip
            grants = registry.grants(kid)
            with store.transaction() as session:
                row = _describe(_mirror(session, kid, producer, chain_key, tx, grants), session)
    finally:
        store.close()
    return _report(args, "create", [row], key_file=str(args.out), resumed=resumed)


def _run_rotate(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    valid_from, valid_until = window_of(args)
    store = _store(args, settings)
    try:
        with store.transaction(readonly=True) as session:
            old = get_producer_key(session, args.key_id)
            producer = old.producer
        key, resumed = _load_or_generate(args.out)
        pub_hex, kid = public_key_bytes(key).hex(), key_id_of(key)
        if kid == args.key_id:
            raise MalformedError(f"{args.out} holds the key being rotated", path="--out")
        with trust_registry(settings) as registry:
            new_key = registry.get_key(kid)
            if new_key is None:
                tx: str | None = registry.send(registry.contract.functions.rotateKey(
                    bytes.fromhex(args.key_id), bytes.fromhex(kid), bytes.fromhex(pub_hex),
                    valid_from, valid_until))  # fmt: skip
                new_key = registry.get_key(kid)
            else:
                tx = registry.tx_of("KeyRotated", kid, "newKeyId")
            old_key = registry.get_key(args.key_id)
            if new_key is None or old_key is None:
                raise AnchoringError(f"the TrustRegistry does not hold key {args.key_id} or {kid}")
            new_grants = registry.grants(kid)
            with store.transaction() as session:
                old_row = _describe(_mirror(session, args.key_id, producer, old_key, None), session)
                new_row = _describe(_mirror(session, kid, producer, new_key, tx, new_grants),
                                    session)  # fmt: skip
    finally:
        store.close()
    return _report(args, "rotate", [old_row, new_row], key_file=str(args.out), resumed=resumed)


def _run_revoke(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    store = _store(args, settings)
    try:
        with store.transaction(readonly=True) as session:
            producer = get_producer_key(session, args.key_id).producer
        with trust_registry(settings) as registry:
            chain_key = registry.get_key(args.key_id)
            if chain_key is None:
                raise NotFoundError(f"the TrustRegistry holds no key {args.key_id}")
            wanted = seconds_of(args.effective_at, 0)
            done = chain_key.revoked_at != 0 and (wanted == 0 or chain_key.revoked_at <= wanted)
            if not done:
                registry.send(
                    registry.contract.functions.revokeKey(bytes.fromhex(args.key_id), wanted)
                )
                chain_key = registry.get_key(args.key_id) or chain_key
            with store.transaction() as session:
                row = _describe(_mirror(session, args.key_id, producer, chain_key, None), session)
    finally:
        store.close()
    return _report(args, "revoke", [row], already_revoked=done)


def _run_list(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    store = _store(args, settings)
    try:
        with store.transaction(readonly=True) as session:
            rows = keys_of(session, args.producer) if args.producer else all_producer_keys(session)
            keys = [_describe(r, session) for r in rows]
    finally:
        store.close()
    if args.json:
        return _report(args, "list", keys)
    for key in keys:
        state = "revoked" if key["revoked_at"] else "active"
        print(f"{key['key_id']}  {key['producer']}  {key['valid_from']} .. "
              f"{key['valid_until'] or 'open'}  {state}  "
              f"{','.join(key['record_types']) or '(no record types)'}")  # fmt: skip
    return EXIT_OK
