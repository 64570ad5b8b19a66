"""Decoding revert data by selector (unit: no chain, no I/O beyond reading vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode

from anchoring.revert import ContractRevertError, decode_revert, error_selectors, error_signature
from anchoring.toolchain import ContractArtifact

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "chain" / "revert_selectors.json"
ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _vectors() -> list[dict[str, str]]:
    data = json.loads(VECTORS.read_text())
    assert data["description"] and data["source"]
    vectors: list[dict[str, str]] = data["vectors"]
    return vectors


def _abis(artifacts: dict[str, ContractArtifact]) -> list[list[dict[str, Any]]]:
    return [a.abi for a in artifacts.values()]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["signature"])
def test_selectors_match_reference(
    vector: dict[str, str], artifacts: dict[str, ContractArtifact]
) -> None:
    table = error_selectors(_abis(artifacts))
    signatures = {error_signature(entry): "0x" + sel.hex() for sel, entry in table.items()}
    assert signatures[vector["signature"]] == vector["selector"]


def test_custom_error_with_address_and_bytes32(artifacts: dict[str, ContractArtifact]) -> None:
    role = bytes.fromhex("ab" * 32)
    data = bytes.fromhex("e2517d3f") + encode(["address", "bytes32"], [ACCOUNT, role])
    err = decode_revert(data, _abis(artifacts))
    assert isinstance(err, ContractRevertError)
    assert err.error_name == "AccessControlUnauthorizedAccount"
    assert err.error_args == {"account": ACCOUNT, "neededRole": role}
    assert err.selector_hex == "0xe2517d3f"
    assert "AccessControlUnauthorizedAccount(account='0x7099" in err.message


def test_builtin_error_string_and_panic() -> None:
    err = decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["no way"]), [])
    assert (err.error_name, err.error_args) == ("Error", {"message": "no way"})
    panic = decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]), [])
    assert (panic.error_name, panic.error_args) == ("Panic", {"code": 0x11})


def test_unknown_selector_and_empty_data() -> None:
    unknown = decode_revert(bytes.fromhex("deadbeef") + bytes(32), [])
    assert unknown.error_name == "" and unknown.selector_hex == "0xdeadbeef"
    assert "unknown error selector 0xdeadbeef" in unknown.message
    empty = decode_revert(b"", [])
    assert empty.error_name == "" and empty.selector_hex == ""
    assert "without data" in empty.message


def test_truncated_arguments_do_not_escape_as_raw_errors(
    artifacts: dict[str, ContractArtifact],
) -> None:
    truncated = bytes.fromhex("b531c57b") + bytes(10)
    err = decode_revert(truncated, _abis(artifacts))
    assert err.error_name == "AnchorRegistryOutOfSequence"
    assert err.error_args == {}
    assert "do not decode" in err.message
