"""Digest v1 of random records, recomputed independently in JavaScript (tests/js)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ledger.core.canonical import MAX_SAFE_INTEGER
from ledger.core.view import commit
from tests.js.reference import run_reference

pytestmark = pytest.mark.node

_TEXT = 'aZ09 "\\\n\x00\x7fé€\u2028\ufb33😂'


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_TEXT) for _ in range(rng.randrange(6)))


def _value(rng: random.Random, depth: int) -> Any:
    pick = rng.randrange(8 if depth < 4 else 4)
    if pick == 0:
        return rng.choice([None, True, False])
    if pick == 1:
        return rng.randint(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    if pick in (2, 3):
        return _text(rng)
    if pick in (4, 5):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_random_records_match_the_javascript_digest() -> None:
    rng = random.Random(32)
    commitments = []
    for _ in range(300):
        record = {_text(rng) or "k": _value(rng, 1) for _ in range(rng.randrange(1, 6))}
        commitments.append(commit(record, salt_source=rng.randbytes))
    request = {
        "op": "commitment",
        "records": [
            {"record": c.record, "salts": [[list(p), s] for p, s in c.salts.items()]}
            for c in commitments
        ],
    }
    answers = run_reference(request)
    for c, answer in zip(commitments, answers, strict=True):
        assert c.digest_hex == answer["digest"]
        js = {tuple(f["path"]): f["field_hash"] for f in answer["field_hashes"]}
        assert c.field_hashes() == js
