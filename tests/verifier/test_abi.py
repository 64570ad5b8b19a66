"""The verifier's packaged ABIs are exactly what a fresh compile of contracts/ gives, so the
verifier needs no compiler and cannot drift from the contracts it reads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from verifier.chain import load_abi, packaged_code_hash

ROOT = Path(__file__).resolve().parents[2]


def _export_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "export_abis", ROOT / "scripts" / "export_abis.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaged_abis_equal_a_fresh_compile(artifacts: dict) -> None:
    fresh = _export_module().abi_documents(ROOT)
    assert sorted(fresh) == ["AnchorRegistry.json", "TrustRegistry.json"]
    for name, data in fresh.items():
        assert (ROOT / "verifier" / "abi" / name).read_bytes() == data, (
            f"verifier/abi/{name} is stale: run scripts/export_abis.py"
        )
    for name in ("AnchorRegistry", "TrustRegistry"):
        assert load_abi(name) == artifacts[name].abi
        assert packaged_code_hash(name) == artifacts[name].runtime_code_hash_hex


def test_export_script_check_mode_agrees() -> None:
    assert _export_module().main(["--check"]) == 0
