"""Where a registry keeps a value: storage slots from the compiler's storage layout.

``eth_getProof`` proves 32-byte storage words by slot. Which slot, and which bytes of it,
hold ``_batches[seq].leafCount`` is decided by the Solidity compiler (Solidity docs,
"Layout of State Variables in Storage" and "Mappings and Dynamic Arrays"); the verifier
takes it from the compiler's ``storageLayout`` output packaged beside the ABIs
(``verifier/abi/NAME.layout.json``, written by scripts/export_storage_layout.py), never
from slots counted by hand, so it follows the contracts when they change. A layout is
valid only for the build it came from: it names that build's runtime code hash, and the
registry's proven code hash must be it.

- a value at slot ``p``: bytes ``[32 - offset - size, 32 - offset)`` of the word
  (values are packed from the low-order end);
- ``mapping`` at slot ``p``, key ``k``: the value's slot is ``keccak256(pad32(k) ‖ pad32(p))``
  (value-type keys left-padded, ``bytesN`` right-padded);
- a struct member: its slot is the struct's slot plus the member's ``slot``;
- a dynamic array at slot ``p``: its length is the word at ``p``, element ``i`` starts at
  ``keccak256(pad32(p)) + i × (slots per element)``;
- a ``string`` or ``bytes`` at slot ``p``: shorter than 32 bytes, the word holds the data
  left-aligned and ``2 × length`` in its lowest byte; otherwise the word is
  ``2 × length + 1`` and the data fills the words from ``keccak256(pad32(p))`` on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.merkle import keccak256 as keccak

__all__ = ["Location", "StorageLayout", "bytes_length", "long_bytes_slots", "short_bytes"]

LAYOUT_FORMAT = "carbonledger-storage-layout/1"


@dataclass(frozen=True)
class Location:
    """``size`` bytes at ``offset`` (from the low-order end) of the word at ``slot``."""

    slot: int
    offset: int
    size: int
    type: str

    def extract(self, word: int) -> int:
        return (word >> (8 * self.offset)) & ((1 << (8 * self.size)) - 1)


class StorageLayout:
    """The compiler's storage layout of one contract build."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != LAYOUT_FORMAT:
            raise MalformedError(f"not a {LAYOUT_FORMAT} document")
        self.name: str = doc["name"]
        self.runtime_code_hash: str = doc["runtime_code_hash"]
        self._vars = {entry["label"]: entry for entry in doc["storage"]}
        self._types: dict[str, dict[str, Any]] = doc["types"]

    def has(self, variable: str) -> bool:
        """Whether this build declares the state variable ``variable``."""
        return variable in self._vars

    @classmethod
    def packaged(cls, name: str) -> StorageLayout:
        """The layout shipped with this verifier for ``AnchorRegistry`` or ``TrustRegistry``."""
        return _packaged(name)

    def locate(self, variable: str, *path: int | bytes | str) -> Location:
        """The location of ``variable`` followed by mapping keys (int or bytes) and struct
        member names, e.g. ``locate("_batches", 3, "leafCount")``."""
        entry = self._vars.get(variable)
        if entry is None:
            raise MalformedError(f"{self.name} has no state variable {variable!r}")
        slot, offset, type_id = int(entry["slot"]), int(entry["offset"]), entry["type"]
        for step in path:
            spec = self._types[type_id]
            if spec["encoding"] == "mapping":
                if isinstance(step, str):
                    raise MalformedError(f"{spec['label']} needs a key, not {step!r}")
                key = _key_word(step, spec["key"], self._types[spec["key"]])
                slot = int.from_bytes(keccak(key + slot.to_bytes(32, "big")), "big")
                offset, type_id = 0, spec["value"]
            elif spec["encoding"] == "dynamic_array":
                if not isinstance(step, int) or step < 0:
                    raise MalformedError(f"{spec['label']} needs an index, not {step!r}")
                per = -(-int(self._types[spec["base"]]["numberOfBytes"]) // 32)
                if int(self._types[spec["base"]]["numberOfBytes"]) < 32:
                    raise MalformedError(f"{spec['label']}: packed elements are not supported")
                first = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
                slot, offset, type_id = first + step * per, 0, spec["base"]
            elif "members" in spec:
                member = next((m for m in spec["members"] if m["label"] == step), None)
                if member is None:
                    raise MalformedError(f"{spec['label']} has no member {step!r}")
                slot += int(member["slot"])
                offset, type_id = int(member["offset"]), member["type"]
            else:
                raise MalformedError(f"{spec['label']} has no member or key {step!r}")
        size = int(self._types[type_id]["numberOfBytes"])
        if size > 32 or offset + size > 32:
            raise MalformedError(f"{variable}: not a value that fits one storage word")
        return Location(slot, offset, size, type_id)


def _key_word(key: int | bytes, type_id: str, spec: dict[str, Any]) -> bytes:
    size = int(spec["numberOfBytes"])
    if type_id.startswith(("t_uint", "t_address", "t_bool")):
        value = key if isinstance(key, int) else int.from_bytes(key, "big")
        if not 0 <= value < 1 << (8 * size):
            raise MalformedError(f"mapping key {key!r} does not fit {spec['label']}")
        return value.to_bytes(32, "big")
    if type_id.startswith("t_bytes") and isinstance(key, bytes) and len(key) == size:
        return key.ljust(32, b"\x00")
    raise MalformedError(f"mapping keys of type {spec['label']} are not supported here")


@cache
def _packaged(name: str) -> StorageLayout:
    text = resources.files("verifier.abi").joinpath(f"{name}.layout.json").read_text("utf-8")
    return StorageLayout(json.loads(text))


def bytes_length(word: int) -> int:
    """The length of the ``string``/``bytes`` whose slot holds ``word``."""
    return (word - 1) // 2 if word & 1 else (word & 0xFF) // 2


def short_bytes(word: int) -> bytes:
    """The data of a ``string``/``bytes`` shorter than 32 bytes, kept in its own slot."""
    return word.to_bytes(32, "big")[: bytes_length(word)]


def long_bytes_slots(slot: int, length: int) -> list[int]:
    """The slots holding the data of a ``string``/``bytes`` of ``length`` >= 32 bytes
    whose length word is at ``slot``."""
    first = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
    return [first + i for i in range(-(-length // 32))]
