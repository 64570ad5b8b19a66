"""Decoding contract reverts into typed errors, by the custom error's selector.

A revert carries ABI-encoded data: the 4-byte selector of a custom error
(``bytes4(keccak256("Name(type1,type2)"))``, Solidity docs "Errors and the Revert
Statement") followed by its arguments, or the built-in ``Error(string)`` /
``Panic(uint256)``. The selector is looked up in the ABIs of the contracts we
talk to, so a caller sees ``AnchorRegistryOutOfSequence(expected=3, given=5)``
instead of raw hex.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from ledger.core.errors import AnchoringError

# Built-in revert reasons every Solidity >= 0.8 contract may produce.
_BUILTIN_ERRORS: tuple[dict[str, Any], ...] = (
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
)


class ContractRevertError(AnchoringError):
    """A contract call or transaction reverted.

    ``error_name`` is the custom error's name (``""`` when the revert carried no
    data or an unknown selector), ``error_args`` its decoded arguments by name
    (bytes for ``bytesN``, checksum strings for addresses, ints for integers),
    ``selector_hex`` the 4-byte selector as ``0x`` hex (``""`` without data).
    """

    def __init__(
        self,
        message: str,
        *,
        error_name: str = "",
        error_args: Mapping[str, Any] | None = None,
        selector_hex: str = "",
        data: bytes = b"",
        tx_hash_hex: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args: dict[str, Any] = dict(error_args or {})
        self.selector_hex = selector_hex
        self.data = data
        self.tx_hash_hex = tx_hash_hex


def _canonical_type(param: Mapping[str, Any]) -> str:
    """The ABI type as it appears in a signature; tuples expand their components."""
    type_ = str(param["type"])
    if type_.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){type_[len('tuple') :]}"
    return type_


def error_signature(entry: Mapping[str, Any]) -> str:
    """``Name(type1,type2)`` of an ABI ``error`` entry."""
    types = ",".join(_canonical_type(p) for p in entry.get("inputs", []))
    return f"{entry['name']}({types})"


def error_selectors(abis: Iterable[Sequence[Mapping[str, Any]]]) -> dict[bytes, Mapping[str, Any]]:
    """Selector -> ABI error entry for every error declared in ``abis`` plus the built-ins."""
    table: dict[bytes, Mapping[str, Any]] = {}
    for abi in [list(_BUILTIN_ERRORS), *abis]:
        for entry in abi:
            if entry.get("type") == "error":
                table[keccak(text=error_signature(entry))[:4]] = entry
    return table


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _normalise(value: Any, type_: str) -> Any:
    if type_ == "address" and isinstance(value, str):
        return to_checksum_address(value)
    return value


def decode_revert(
    data: bytes, abis: Iterable[Sequence[Mapping[str, Any]]], *, tx_hash_hex: str | None = None
) -> ContractRevertError:
    """Turn revert data into a ``ContractRevertError`` (returned, not raised)."""
    if not data:
        return ContractRevertError(
            "the contract reverted without data (out of gas, a failed require "
            "without message, or a call to an address without code)",
            tx_hash_hex=tx_hash_hex,
        )
    selector, payload = bytes(data[:4]), bytes(data[4:])
    selector_hex = "0x" + selector.hex()
    entry = error_selectors(abis).get(selector)
    if entry is None:
        return ContractRevertError(
            f"the contract reverted with unknown error selector {selector_hex}",
            selector_hex=selector_hex,
            data=bytes(data),
            tx_hash_hex=tx_hash_hex,
        )
    inputs = list(entry.get("inputs", []))
    types = [_canonical_type(p) for p in inputs]
    try:
        values = decode(types, payload)
    except (DecodingError, ValueError, OverflowError) as exc:
        return ContractRevertError(
            f"the contract reverted with {entry['name']} but its arguments do not decode: {exc}",
            error_name=str(entry["name"]),
            selector_hex=selector_hex,
            data=bytes(data),
            tx_hash_hex=tx_hash_hex,
        )
    names = [str(p.get("name") or f"arg{i}") for i, p in enumerate(inputs)]
    args = {n: _normalise(v, t) for n, v, t in zip(names, values, types, strict=True)}
    rendered = ", ".join(f"{n}={_render(v)}" for n, v in args.items())
    return ContractRevertError(
        f"the contract reverted: {entry['name']}({rendered})",
        error_name=str(entry["name"]),
        error_args=args,
        selector_hex=selector_hex,
        data=bytes(data),
        tx_hash_hex=tx_hash_hex,
    )
