"""The TrustRegistry of the recorded deployment, as the key commands (``carbonledger keys``,
producer and terminal keys) reach it, and the arguments they share (docs/CONTRACTS.md §4).
Times are RFC 3339 UTC in whole seconds (the contract keeps uint64 seconds)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hexbytes import HexBytes

from anchoring.chain import Chain, ChainSetupError
from anchoring.deployment import check_deployment, ensure_deployment, load_deployment
from anchoring.revert import ContractRevertError
from api.cli.common import (
    admin_delay_s,
    check_npm_install,
    compile_artifacts,
    configured_chain,
    project_root,
    record_dir,
    role_assignment,
)
from api.settings import CarbonLedgerSettings
from ledger.core.canonical import parse_timestamp
from ledger.core.errors import MalformedError

__all__ = [
    "NO_END",
    "OnChainKey",
    "Registry",
    "key_id_arg",
    "moment_of",
    "seconds_of",
    "time_arg",
    "trust_registry",
    "types_arg",
    "window_of",
]

#: The contract's "no end" for a key window (validUntil is a uint64; the store keeps NULL).
NO_END = 2**64 - 1


def time_arg(text: str) -> datetime:
    """An RFC 3339 UTC time in whole seconds (an argparse type)."""
    try:
        moment = parse_timestamp(text)
    except MalformedError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None
    if moment.microsecond:
        raise argparse.ArgumentTypeError("whole seconds only (the contract keeps seconds)")
    return moment


def key_id_arg(text: str) -> str:
    """A key id: 64 lowercase hex digits (an argparse type)."""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise argparse.ArgumentTypeError("expected 64 lowercase hex characters")
    return text


def types_arg(text: str) -> list[str]:
    """Comma-separated record types, 1 to 64 bytes each (an argparse type)."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names or any(not 1 <= len(t.encode()) <= 64 for t in names):
        raise argparse.ArgumentTypeError(
            "expected record types, 1 to 64 bytes each, comma-separated"
        )
    return sorted(set(names))


@dataclass(frozen=True)
class OnChainKey:
    public_key_hex: str
    producer_id_hex: str
    valid_from: int
    valid_until: int
    revoked_at: int


@dataclass
class Registry:
    chain: Chain
    contract: Any
    from_block: int

    def get_key(self, kid: str) -> OnChainKey | None:
        try:
            raw = self.chain.call(self.contract.functions.getKey(bytes.fromhex(kid)))
        except ContractRevertError as exc:
            if exc.error_name == "TrustRegistryUnknownKey":
                return None
            raise
        pub, producer_id, valid_from, valid_until, revoked_at = raw
        return OnChainKey(bytes(pub).hex(), bytes(producer_id).hex(), int(valid_from),
                          int(valid_until), int(revoked_at))  # fmt: skip

    def tx_of(self, event: str, kid: str, field: str) -> str | None:
        """Hash of the transaction whose ``event`` names ``kid`` (after a crash)."""
        with self.chain.boundary(f"reading the {event} events of key {kid}"):
            logs = getattr(self.contract.events, event).get_logs(
                from_block=self.from_block, argument_filters={field: bytes.fromhex(kid)}
            )
        for entry in logs:
            if bytes(entry["args"][field]).hex() == kid:
                return HexBytes(entry["transactionHash"]).to_0x_hex()
        return None

    def send(self, fn: Any) -> str:
        receipt = self.chain.transact(fn)
        return HexBytes(receipt["transactionHash"]).to_0x_hex()

    def grants(self, kid: str) -> dict[str, tuple[datetime, datetime | None]]:
        """Record type -> (granted, withdrawn) as the TrustRegistry holds them."""
        key = bytes.fromhex(kid)
        out = {}
        for name in self.chain.call(self.contract.functions.recordTypesOf(key)):
            granted, withdrawn = self.chain.call(
                self.contract.functions.getRecordTypeGrant(key, name)
            )
            out[str(name)] = (datetime.fromtimestamp(int(granted), UTC), moment_of(int(withdrawn)))
        return out


@contextlib.contextmanager
def trust_registry(settings: CarbonLedgerSettings) -> Iterator[Registry]:
    """The TrustRegistry of the recorded deployment (on a memory chain: a fresh one)."""
    directory = record_dir(settings)
    found = load_deployment(directory) if directory is not None else None
    if directory is not None and found is None:
        raise ChainSetupError(
            f"no deployment is recorded in {directory}: run `carbonledger deploy` first"
        )
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    with configured_chain(settings, anvil_path=anvil) as chain:
        if found is None:
            record, _ = ensure_deployment(
                chain, artifacts, data_dir=None, admin_delay_s=admin_delay_s(settings),
                roles=role_assignment(settings),
            )  # fmt: skip
        else:
            check_deployment(chain, found, artifacts)
            record = found
        contract = chain.contract(artifacts["TrustRegistry"], record.address_of("TrustRegistry"))
        yield Registry(chain, contract, record.contracts["TrustRegistry"].deploy_block)


def seconds_of(moment: datetime | None, default: int) -> int:
    """``moment`` in seconds, ``default`` when there is none."""
    return default if moment is None else int(moment.timestamp())


def moment_of(seconds: int) -> datetime | None:
    """A contract time; 0 (never) and ``NO_END`` are None."""
    return None if seconds in (0, NO_END) else datetime.fromtimestamp(seconds, UTC)


def window_of(args: argparse.Namespace) -> tuple[int, int]:
    """``--valid-from`` (default now) and ``--valid-until`` (default no end) in seconds."""
    valid_from = seconds_of(args.valid_from, int(datetime.now(UTC).timestamp()))
    valid_until = seconds_of(args.valid_until, NO_END)
    if valid_until <= valid_from:
        raise MalformedError("must be after --valid-from", path="--valid-until")
    return valid_from, valid_until
