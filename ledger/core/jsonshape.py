"""Strict readers for parsed JSON: exact members, typed values, hex, integer ranges.

Every ``from_json`` reads its input through these, so that an object with a member too
many or too few, a string where an integer belongs or hex in the wrong case is refused the
same way everywhere, with a ``MalformedError`` naming the JSON path (notation of
docs/FORMAT.md §1.1): ``bundle.items[3].digest: expected 32 bytes, got 31``. The input is a
value ``ledger.core.canonical.parse_json`` returned, so it holds no float, no duplicate
member and no lone surrogate; these readers check its shape.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from eth_utils import is_checksum_address

from ledger.core.errors import MalformedError

__all__ = [
    "MemberError",
    "address",
    "array",
    "hex_bytes",
    "hex_text",
    "integer",
    "members",
    "obj",
    "string",
]

_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})*\Z")


class MemberError(MalformedError):
    """An object lacks a member or has one no reader knows; ``member`` names it.

    The path is the object's; the reason names the member (``missing member 'digest'``).
    """

    def __init__(self, reason: str, *, path: str, member: str) -> None:
        super().__init__(reason, path=path)
        self.member = member


def obj(value: Any, path: str) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise MalformedError("expected an object", path=path)
    return value


def members(
    value: Any, path: str, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """``value`` if it is an object with every ``required`` member and no member beyond
    ``required`` and ``optional``; the first missing, then the first unknown member (in
    code point order) is refused with a ``MemberError``."""
    found = obj(value, path)
    names = found.keys()
    if names == required:
        return found
    missing = [name for name in required if name not in names]
    if missing:
        name = min(missing)
        raise MemberError(f"missing member {name!r}", path=path, member=name)
    unknown = [name for name in names if name not in required and name not in optional]
    if unknown:
        name = min(unknown)
        raise MemberError(f"unknown member {name!r}", path=path, member=name)
    return found


def array(value: Any, path: str, *, limit: int | None = None) -> list[Any]:
    """``value`` if it is a JSON array of at most ``limit`` entries."""
    if not isinstance(value, list):
        raise MalformedError("expected an array", path=path)
    if limit is not None and len(value) > limit:
        raise MalformedError(f"{len(value)} entries exceed the limit of {limit}", path=path)
    return value


def integer(
    value: Any, path: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` if it is an integer (never a boolean) within ``minimum`` and ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedError("expected an integer", path=path)
    if minimum is not None and value < minimum:
        raise MalformedError(f"expected an integer >= {minimum}, got {value}", path=path)
    if maximum is not None and value > maximum:
        raise MalformedError(f"expected an integer <= {maximum}, got {value}", path=path)
    return value


def string(value: Any, path: str, *, min_chars: int = 0, max_chars: int | None = None) -> str:
    """``value`` if it is a string of ``min_chars`` to ``max_chars`` characters."""
    if not isinstance(value, str):
        raise MalformedError("expected a string", path=path)
    if len(value) < min_chars or (max_chars is not None and len(value) > max_chars):
        most = "" if max_chars is None else f" to {max_chars}"
        raise MalformedError(f"expected a string of {min_chars}{most} characters", path=path)
    return value


def hex_text(value: Any, path: str, *, size: int, prefixed: bool = False) -> str:
    """``value`` if it is ``size`` bytes as lowercase hex (after ``0x`` when ``prefixed``).

    Digests, field hashes and key ids are bare; EVM hashes carry ``0x`` (docs/FORMAT.md).
    """
    if not isinstance(value, str):
        raise MalformedError("expected a hex string", path=path)
    digits = value
    if prefixed:
        if not value.startswith("0x"):
            raise MalformedError("expected 0x-prefixed lowercase hex", path=path)
        digits = value[2:]
    if len(digits) != 2 * size or not _LOWER_HEX.match(digits):
        if not _LOWER_HEX.match(digits):
            raise MalformedError("expected lowercase hex", path=path)
        raise MalformedError(f"expected {size} bytes, got {len(digits) // 2}", path=path)
    return value


def hex_bytes(value: Any, path: str, *, size: int, prefixed: bool = False) -> bytes:
    """The bytes ``hex_text`` accepts."""
    text = hex_text(value, path, size=size, prefixed=prefixed)
    return bytes.fromhex(text[2:] if prefixed else text)


def address(value: Any, path: str) -> str:
    """``value`` if it is a 20-byte EVM address in EIP-55 checksum case."""
    if not isinstance(value, str) or not is_checksum_address(value):
        raise MalformedError("expected a 0x address in EIP-55 checksum case", path=path)
    return value
