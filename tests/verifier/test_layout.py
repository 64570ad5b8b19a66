"""The storage layouts the verifier ships are exactly the compiler's for the contracts in
contracts/ (so the slots it proves follow the contracts when they change), and locate
the values the registry's own view functions return."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.support import Ledger
from verifier.chain import packaged_code_hash
from verifier.evm.layout import StorageLayout

ROOT = Path(__file__).resolve().parents[2]


def _export_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "export_storage_layout", ROOT / "scripts" / "export_storage_layout.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaged_layouts_equal_a_fresh_compile(artifacts: dict[str, Any]) -> None:
    fresh = _export_module().layout_documents(ROOT)
    assert sorted(fresh) == ["AnchorRegistry.layout.json", "TrustRegistry.layout.json"]
    for name, data in fresh.items():
        assert (ROOT / "verifier" / "abi" / name).read_bytes() == data, (
            f"verifier/abi/{name} is stale: run scripts/export_storage_layout.py"
        )
    for name in ("AnchorRegistry", "TrustRegistry"):
        assert StorageLayout.packaged(name).runtime_code_hash == packaged_code_hash(name)


def test_export_script_check_mode_agrees() -> None:
    assert _export_module().main(["--check"]) == 0


@pytest.mark.anvil
def test_located_slots_hold_what_the_views_return(anvil_ledger: Ledger) -> None:
    """Read with plain eth_getStorageAt (no proof): the layout's slots hold getBatch's
    values and the batch count."""
    layout = StorageLayout.packaged("AnchorRegistry")
    w3, address = anvil_ledger.chain.w3, anvil_ledger.anchor_address
    registry = anvil_ledger.contract("AnchorRegistry")

    def read(variable: str, *path: Any) -> int:
        at = layout.locate(variable, *path)
        return at.extract(int.from_bytes(w3.eth.get_storage_at(address, at.slot), "big"))

    assert read("_batchCount") == registry.functions.nextSeq().call() - 1
    for seq in anvil_ledger.headers:
        root, count, manifest, block, ts, log_hash = registry.functions.getBatch(seq).call()
        assert read("_batches", seq, "root") == int.from_bytes(root, "big")
        assert read("_batches", seq, "leafCount") == count
        assert read("_batches", seq, "manifestDigest") == int.from_bytes(manifest, "big")
        assert read("_batches", seq, "blockNumber") == block
        assert read("_batches", seq, "timestamp") == ts
        assert read("_batches", seq, "logHash") == int.from_bytes(log_hash, "big")
