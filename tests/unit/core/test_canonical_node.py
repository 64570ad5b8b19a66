"""Cross-check RFC 8785 output against npm ``canonicalize`` (the RFC author's JS library)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize
from tests.js.reference import run_reference

pytestmark = pytest.mark.node

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "jcs"


def _random_value(rng: random.Random, depth: int = 0) -> object:
    pick = rng.randrange(9 if depth < 4 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick == 2:
        return rng.randint(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    if pick in (3, 4):
        alphabet = 'aZ09 "\\/\n\t\x00\x1f\x7f\u0080é€\u2028\ufb33😂\U0010ffff'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if pick in (5, 6):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["", "a", "A", "b", "10", "1", "é", "€", "😂", "\ufb33", "\u0080", "</script>"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_reference_vectors_match_npm_canonicalize() -> None:
    cases = json.loads((VECTORS / "rfc8785_reference.json").read_text(encoding="utf-8"))["cases"]
    answers = run_reference({"op": "jcs", "texts": [c["input"] for c in cases]})
    for case, answer in zip(cases, answers, strict=True):
        assert answer["canonical"] == case["expected"], case["name"]


def test_random_values_match_npm_canonicalize() -> None:
    rng = random.Random(8785)
    values = [_random_value(rng) for _ in range(500)]
    texts = [json.dumps(v) for v in values]
    answers = run_reference({"op": "jcs", "texts": texts})
    for value, answer in zip(values, answers, strict=True):
        assert canonicalize(value) == answer["canonical"].encode("utf-8")
