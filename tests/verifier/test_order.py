"""One bundle, one byte string (docs/FORMAT.md §6): the array orders RFC 8785 leaves open
and repeated records, against the hand-written vectors of
tests/vectors/bundle/order_negative.json (mutations of valid_bundle.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import parse_bundle
from ledger.core.canonical import canonicalize
from ledger.core.errors import MalformedError
from verifier.order import check_canonical_order

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "bundle"
VALID = json.loads((VECTORS / "valid_bundle.json").read_text(encoding="utf-8"))
ORDER = json.loads((VECTORS / "order_negative.json").read_text(encoding="utf-8"))


def _at(doc: Any, path: list[Any]) -> Any:
    for seg in path:
        doc = doc[seg]
    return doc


def _apply(bundle: dict[str, Any], op: dict[str, Any]) -> None:
    if op["op"] == "append_item":
        _at(bundle, op["to"]).append(copy.deepcopy(_at(bundle, op["from"])))
        return
    target = _at(bundle, op["path"])
    if op["op"] == "swap":
        target[op["i"]], target[op["j"]] = target[op["j"]], target[op["i"]]
    elif op["op"] == "reverse":
        target.reverse()
    elif op["op"] == "sort":
        target.sort()
    elif op["op"] == "append_copy":
        target.append(copy.deepcopy(target[op["i"]]))
    else:
        raise AssertionError(f"unknown op {op['op']}")


def test_the_valid_bundle_is_in_the_documented_order() -> None:
    assert ORDER["description"] and ORDER["source"]
    check_canonical_order(parse_bundle(VALID["canonical"].encode(), require_canonical=True))


@pytest.mark.parametrize("case", ORDER["cases"], ids=lambda c: c["name"])
def test_another_order_or_a_repeat_is_refused_naming_the_place(case: dict[str, Any]) -> None:
    bundle = copy.deepcopy(VALID["bundle"])
    for op in case["ops"]:
        _apply(bundle, op)
    data = canonicalize(bundle)
    parsed = parse_bundle(data, require_canonical=True)  # the parser alone lets it through
    with pytest.raises(MalformedError) as refused:
        check_canonical_order(parsed)
    assert refused.value.path == case["path"]
    assert case["reason_contains"] in refused.value.reason
