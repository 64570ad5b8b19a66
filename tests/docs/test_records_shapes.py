"""docs/RECORDS.md §3.4 writes out every line and difference shape of a factor
substitution: each object of its ``jsonl`` blocks, read from the document's text, is
equal to a line or difference of the example records (which the record validator
accepts), and together they cover every action, every gwp_treatment and every difference
kind but ``stage-not-in-source`` (which no example produces; its shape is stated inline).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ledger import examples
from ledger.core.canonical import parse_json
from ledger.core.records import validate_record
from ledger.core.types import vocab
from ledger.core.types.substitution import GWP_TREATMENTS

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "RECORDS.md").read_text("utf-8")


def _section() -> str:
    start = TEXT.index("### 3.4 `factor-substitution`")
    return TEXT[start : TEXT.index("### 3.5", start)]


def _blocks() -> list[list[dict[str, Any]]]:
    blocks = re.findall(r"```jsonl\n(.*?)```", _section(), re.DOTALL)
    assert len(blocks) == 2, "RECORDS.md §3.4 no longer writes out lines and differences"
    return [[parse_json(line) for line in b.splitlines() if line.strip()] for b in blocks]


def _substitutions() -> list[dict[str, Any]]:
    out = []
    for value in examples.example_records().values():
        record = getattr(value, "record", value)
        if record["type"] == "factor-substitution":
            validate_record(json.loads(json.dumps(record)))
            out.append(record)
    assert out
    return out


def test_every_written_line_is_a_line_of_an_example_record() -> None:
    lines, _ = _blocks()
    real = [line for r in _substitutions() for line in r["body"]["lines"]]
    assert all(line in real for line in lines)
    assert {line["action"] for line in lines} == set(vocab.SUBSTITUTION_ACTIONS)
    assert {line["gwp_treatment"] for line in lines if "gwp_treatment" in line} == set(
        GWP_TREATMENTS
    )


def test_every_written_difference_is_a_difference_of_an_example_record() -> None:
    _, differences = _blocks()
    real = [d for r in _substitutions() for d in r["body"]["differences"]]
    assert all(d in real for d in differences)
    assert {d["kind"] for d in differences} == set(vocab.DIFFERENCE_KINDS) - {"stage-not-in-source"}
    assert '`{"kind": "stage-not-in-source", "stage": …}`' in " ".join(_section().split())
