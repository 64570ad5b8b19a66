"""The compiled code uses no opcode introduced after Paris, so it runs unchanged on py-evm,
anvil, Hardhat's node and a Besu/QBFT chain whose milestones stop before Shanghai
(docs/CONTRACTS.md "Why evmVersion paris"). No chain needed."""

from __future__ import annotations

from typing import Any

import pytest

# Shanghai: PUSH0 (EIP-3855). Cancun: TLOAD/TSTORE (EIP-1153), MCOPY (EIP-5656),
# BLOBHASH (EIP-4844), BLOBBASEFEE (EIP-7516).
AFTER_PARIS = {0x5F: "PUSH0", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x49: "BLOBHASH",
               0x4A: "BLOBBASEFEE"}  # fmt: skip


def strip_metadata(code: bytes) -> bytes:
    """Drop the CBOR metadata solc appends (its length is in the last two bytes)."""
    length = int.from_bytes(code[-2:], "big")
    return code[: -(length + 2)]


def opcodes(code: bytes) -> list[tuple[int, int]]:
    """(offset, opcode) of every instruction in a linear sweep; PUSH data is skipped."""
    out, i = [], 0
    while i < len(code):
        op = code[i]
        out.append((i, op))
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return out


@pytest.mark.parametrize("name", ["AnchorRegistry", "TrustRegistry"])
def test_no_opcode_after_paris(artifacts: dict[str, Any], name: str) -> None:
    artifact = artifacts[name]
    assert artifact.settings["evmVersion"] == "paris"
    runtime = artifact.runtime_bytecode
    # Without immutables the creation code is the constructor followed by the runtime code.
    assert artifact.bytecode.endswith(runtime)
    constructor = artifact.bytecode[: -len(runtime)]
    for part, code in (("runtime", strip_metadata(runtime)), ("constructor", constructor)):
        found = [(off, AFTER_PARIS[op]) for off, op in opcodes(code) if op in AFTER_PARIS]
        assert not found, f"{name} {part} code uses {found[:5]}"
