"""The import direction of STYLE.md "The map": every arrow points down.

Each check imports the package in a fresh interpreter, so what another test
imported cannot hide a forbidden dependency.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# ledger.core is pure: no I/O frameworks, no chain, no store, nothing above it.
CORE_FORBIDDEN = [
    "sqlalchemy",
    "fastapi",
    "starlette",
    "web3",
    "httpx",
    "requests",
    "solcx",
    "anchoring",
    "api",
    "verifier",
    "ledger.store",
]


def _modules(package: str) -> list[str]:
    path = ROOT / package.replace(".", "/")
    names = [package]
    for info in pkgutil.walk_packages([str(path)], prefix=package + "."):
        names.append(info.name)
    return names


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def _offenders(loaded: set[str], forbidden: list[str]) -> list[str]:
    return sorted(
        name for name in loaded for bad in forbidden if name == bad or name.startswith(bad + ".")
    )


def test_core_imports_nothing_impure() -> None:
    loaded = _loaded_after_import(_modules("ledger.core"))
    assert _offenders(loaded, CORE_FORBIDDEN) == []


@pytest.mark.parametrize("package", ["ledger", "anchoring", "verifier"])
def test_nothing_imports_api(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from api" not in text and "import api" not in text, path
