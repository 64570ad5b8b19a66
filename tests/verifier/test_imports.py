"""Importing the verifier loads only the pure core and read-only chain code (docs/VERIFY.md
§1): no store, no web framework, no API, no anchoring (checked in a fresh interpreter,
so nothing another test imported can hide a dependency)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "api",
    "anchoring",
    "ledger.store",
    "solcx",
)


def _loaded(modules: list[str]) -> set[str]:
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


def _offenders(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded for bad in FORBIDDEN if m == bad or m.startswith(bad + "."))


def test_importing_the_cli_loads_nothing_forbidden() -> None:
    loaded = _loaded(["verifier.cli"])
    assert "verifier.cli" in loaded
    assert _offenders(loaded) == []


def test_every_verifier_module_loads_nothing_forbidden() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "verifier").rglob("*.py")
        if p.stem != "__main__"  # runs the CLI when imported
    )
    loaded = _loaded(modules)
    assert set(modules) <= loaded
    assert _offenders(loaded) == []
