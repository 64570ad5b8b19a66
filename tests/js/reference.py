"""Run tests/js/reference.mjs under the project's node and return its JSON answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "reference.mjs"
NODE = REPO_ROOT / "node_modules" / ".bin" / "node"
REQUIRED = ("@openzeppelin/merkle-tree", "canonicalize", "multiformats", "sm-crypto")


def node_available() -> bool:
    return NODE.exists() and all((REPO_ROOT / "node_modules" / p).exists() for p in REQUIRED)


def run_reference(request: dict[str, Any], *, timeout_s: float = 300) -> Any:
    """Send ``request`` to the reference script; skip the test if node_modules lack a package."""
    if not node_available():
        pytest.skip(f"node and node_modules with {', '.join(REQUIRED)} are needed")
    proc = subprocess.run(
        [str(NODE), str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=timeout_s,
        check=False,
        cwd=REPO_ROOT,
    )
    if proc.returncode != 0:
        raise AssertionError(f"reference.mjs failed: {proc.stderr.decode(errors='replace')}")
    return json.loads(proc.stdout)
