"""Decoding the hex of JSON-RPC answers (Ethereum JSON-RPC "quantity" and "data"
encodings), strictly: whatever does not decode is refused with the member's path, and
the caller names the endpoint it came from."""

from __future__ import annotations

import re

from ledger.core.errors import MalformedError

__all__ = ["data", "quantity"]

_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}\Z")
# Whole bytes: an even length is checked apart (a repeated two-digit group makes the
# regular expression several times slower on the proof nodes, ~1 KB each).
_DATA = re.compile(r"0x[0-9a-fA-F]*\Z")


def quantity(value: object, path: str) -> int:
    """A JSON-RPC quantity ("0x1b4") as an int; at most 256 bits."""
    if not isinstance(value, str) or not _QUANTITY.match(value):
        raise MalformedError(f"expected a hex quantity, got {_show(value)}", path=path)
    return int(value, 16)


def data(value: object, path: str, *, length: int | None = None) -> bytes:
    """JSON-RPC data ("0x…", whole bytes), of exactly ``length`` bytes when given."""
    if not isinstance(value, str) or len(value) % 2 or not _DATA.match(value):
        raise MalformedError(f"expected 0x-prefixed hex bytes, got {_show(value)}", path=path)
    raw = bytes.fromhex(value[2:])
    if length is not None and len(raw) != length:
        raise MalformedError(f"expected {length} bytes, got {len(raw)}", path=path)
    return raw


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
