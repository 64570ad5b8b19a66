"""The repository stands alone: its comments, docstrings and documents cite what is in
it (docs/ sections, modules, standards), never notes kept elsewhere; and product code
never uses ``assert`` for control flow (``python -O`` removes every assert)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("ledger", "anchoring", "api", "verifier")
TEXT_SUFFIXES = {".py", ".md", ".json", ".mjs", ".js", ".cjs", ".sol", ".toml", ".html", ".cfg"}

# Citations of documents that are not part of the repository: the design and style notes,
# the planning notes and issue tracker, and the shared folder next to the checkout.
OUTSIDE = re.compile(
    r"DESIGN(?:\.md)?\s*(?:§|\\u00a7)"
    r"|\bDESIGN\.md\b"
    r"|\bSTYLE(?:\.md)?\s*[\"(:]"
    r"|\bSTYLE\.md\b"
    r"|reliability[ -]anchors?"
    r"|\bissue\s+#?\d+"
    r"|\.\./shared"
)


def _tracked_text_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [
        ROOT / name
        for name in out.split("\0")
        if name and Path(name).suffix in TEXT_SUFFIXES and (ROOT / name).is_file()
    ]


def _citations(paths: list[Path]) -> list[str]:
    offenders = []
    for path in paths:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()[:80]}")
    return offenders


def test_nothing_cites_a_document_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    paths = [p for p in _tracked_text_files() if p != me and "contracts" not in p.parts]
    assert _citations(paths) == []


def test_the_contracts_cite_nothing_outside_the_repository() -> None:
    paths = [p for p in _tracked_text_files() if "contracts" in p.parts]
    assert _citations(paths) == []


def test_the_pattern_finds_the_citations_it_names() -> None:
    for text in (
        "(DESIGN.md §3.2)",
        "(DESIGN §5)",
        '(STYLE "Errors")',
        "(reliability anchors A7)",
        "(issue 4 item 2)",
        "see ../shared/reference",
    ):
        assert OUTSIDE.search(text), text
    for text in ("docs/FORMAT.md §2.2", "a design choice", "an issue with the node"):
        assert not OUTSIDE.search(text), text


def test_no_assert_in_product_code() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Assert)
            ]
    assert offenders == []
