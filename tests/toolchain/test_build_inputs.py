"""What reproduces the registries' code hashes, three ways alike: the list in
docs/CONTRACTS.md §1 (read from the document's text), the output of
scripts/print_build_inputs.py (a real compile of the checkout), and the code hashes the
verifier ships with its storage layouts."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from scripts.print_build_inputs import main
from verifier.chain import packaged_code_hash

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def printed() -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([]) == 0
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def _documented() -> str:
    text = (ROOT / "docs" / "CONTRACTS.md").read_text("utf-8")
    m = re.search(r"```\nremapping: (.*?)```", text, re.DOTALL)
    assert m, "CONTRACTS.md §1 no longer lists the build inputs"
    return "remapping: " + m.group(1)


def test_the_documented_source_units_and_remapping_are_the_compilers(
    printed: dict[str, Any],
) -> None:
    block = _documented().splitlines()
    assert block[0] == "remapping: " + " ".join(printed["settings"]["remappings"])
    units = [line for line in block[1:] if line.startswith(("project/", "npm/"))]
    assert sorted(units) == printed["source_units"]


def test_the_documented_code_hashes_are_the_builds_and_the_verifiers(
    printed: dict[str, Any],
) -> None:
    hashes = dict(re.findall(r"^(\w+) code hash: +(0x[0-9a-f]{64})$", _documented(), re.M))
    for name in ("AnchorRegistry", "TrustRegistry"):
        assert hashes[name] == printed["contracts"][name]["code_hash"] == packaged_code_hash(name)
