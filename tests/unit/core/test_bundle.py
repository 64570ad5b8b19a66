"""Evidence bundle format (ledger.core.bundle, docs/FORMAT.md §6)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import BUNDLE_FORMAT, bundle_from_json, parse_bundle, serialize_bundle
from ledger.core.errors import DigestMismatchError, InclusionProofError, LedgerError, MalformedError
from ledger.core.receipt import verify_receipt
from ledger.core.signature import verify_signature
from ledger.core.view import RedactedView

# Pure: also run in the verifier's wheel-only venv (tests/verifier/test_distribution.py).
pytestmark = pytest.mark.verifier_dist

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "bundle"
VALID = json.loads((VECTORS / "valid_bundle.json").read_text(encoding="utf-8"))
NEGATIVE = json.loads((VECTORS / "negative.json").read_text(encoding="utf-8"))
CANONICAL = VALID["canonical"].encode("utf-8")
PRODUCER_PUB = bytes.fromhex(
    json.loads((VECTORS.parent / "signature" / "ed25519.json").read_text())["producer"][0][
        "public_key"
    ]
)
SERVICE_PUB = bytes.fromhex(
    json.loads((VECTORS.parent / "receipt" / "receipt.json").read_text())["public_key"]
)


def test_vectors_have_provenance() -> None:
    for doc in (VALID, NEGATIVE):
        assert doc["description"] and doc["source"]


def test_valid_bundle_parses_and_re_encodes_byte_for_byte() -> None:
    bundle = parse_bundle(CANONICAL, require_canonical=True)
    assert serialize_bundle(bundle) == CANONICAL
    assert bundle.format == BUNDLE_FORMAT
    assert bundle.chain.chain_id == 31337
    assert [i.is_redacted for i in bundle.items] == [False, True]
    assert isinstance(bundle.items[1].view, RedactedView)
    assert len(bundle.closure) == 1 and bundle.receipts is not None


def test_valid_bundle_evidence_checks_out() -> None:
    bundle = parse_bundle(CANONICAL)
    for item in (*bundle.items, *bundle.closure):
        item.verify_against(bundle.batches[item.batch_seq].root)
        verify_signature(PRODUCER_PUB, item.digest, item.signature)
    assert bundle.receipts is not None
    verify_receipt(bundle.receipts[0], SERVICE_PUB)
    assert bundle.item_for_digest(bundle.closure[0].digest) is bundle.closure[0]


def test_non_canonical_bytes_are_refused_when_required() -> None:
    pretty = json.dumps(json.loads(CANONICAL), indent=1).encode()
    assert serialize_bundle(parse_bundle(pretty)) == CANONICAL
    with pytest.raises(MalformedError, match="canonical form"):
        parse_bundle(pretty, require_canonical=True)


def test_bundle_without_receipts_keeps_that_shape() -> None:
    obj = json.loads(CANONICAL)
    del obj["receipts"], obj["service"]
    bundle = bundle_from_json(obj)
    assert bundle.receipts is None and bundle.service is None
    assert "receipts" not in bundle.to_json() and "service" not in bundle.to_json()


def _apply(obj: Any, mutations: list[list[Any]]) -> Any:
    obj = copy.deepcopy(obj)
    for op, at, *rest in mutations:
        parent = obj
        for seg in at[:-1]:
            parent = parent[seg]
        if op == "set":
            parent[at[-1]] = rest[0]
        elif op == "delete":
            del parent[at[-1]]
        elif op == "rename":
            parent[rest[0]] = parent.pop(at[-1])
    return obj


@pytest.mark.parametrize("case", NEGATIVE["cases"], ids=lambda c: c["name"])
def test_negative_vectors(case: dict[str, Any]) -> None:
    data = json.dumps(_apply(VALID["bundle"], case["mutations"])).encode()
    with pytest.raises(MalformedError) as info:
        parse_bundle(data)
    assert info.value.path == case["path"]
    assert case["reason_contains"] in info.value.reason


def test_duplicate_key_in_bundle_names_its_path() -> None:
    text = CANONICAL.decode().replace('"batch_seq":1,', '"batch_seq":1,"batch_seq":1,', 1)
    with pytest.raises(MalformedError) as info:
        parse_bundle(text.encode())
    # JCS puts "closure" before "items", so the first batch_seq in the bytes is the closure's.
    assert info.value.path == "bundle.closure[0].batch_seq"


def test_size_limit() -> None:
    with pytest.raises(MalformedError, match="exceeds the limit"):
        parse_bundle(CANONICAL, max_bytes=len(CANONICAL) - 1)


def test_swapped_proofs_and_views_fail_verification() -> None:
    obj = json.loads(CANONICAL)
    obj["items"][0]["proof"], obj["items"][1]["proof"] = (
        obj["items"][1]["proof"],
        obj["items"][0]["proof"],
    )
    bundle = bundle_from_json(obj)
    with pytest.raises(InclusionProofError):
        bundle.items[0].verify_against(bundle.batches[1].root)
    obj = json.loads(CANONICAL)
    obj["items"][0]["digest"] = obj["items"][1]["digest"]
    bundle = bundle_from_json(obj)
    with pytest.raises(DigestMismatchError):
        bundle.items[0].verify_against(bundle.batches[1].root)


def test_random_single_byte_mutations_never_pass_unnoticed() -> None:
    # Reliability target 4: a mutated bundle either fails to parse canonically or fails a
    # check; it never verifies as the same evidence. The chain's facts (coordinates and batch
    # headers) stand in as the original bundle's, as a verifier would read them on-chain.
    original = parse_bundle(CANONICAL)
    rng = random.Random(4)
    for _ in range(2000):
        data = bytearray(CANONICAL)
        pos = rng.randrange(len(data))
        data[pos] = (data[pos] + rng.randrange(1, 256)) % 256
        try:
            bundle = parse_bundle(bytes(data), require_canonical=True)
            if bundle.chain != original.chain or bundle.batches != original.batches:
                continue
            for item in (*bundle.items, *bundle.closure):
                item.verify_against(bundle.batches[item.batch_seq].root)
                verify_signature(PRODUCER_PUB, item.digest, item.signature)
            assert bundle.receipts is not None
            for receipt in bundle.receipts:
                verify_receipt(receipt, SERVICE_PUB)
        except LedgerError:
            continue
        raise AssertionError(f"mutation at byte {pos} went unnoticed")


def _subtrees(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _subtrees(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _subtrees(v, (*path, i))
    return out


def test_structural_mutations_only_raise_ledger_errors() -> None:
    # Any subtree replaced by another JSON value: the parser either accepts the bundle or
    # refuses it with a LedgerError; nothing else (KeyError, TypeError, ...) escapes.
    rng = random.Random(14)
    base = json.loads(CANONICAL)
    paths = [p for p in _subtrees(base) if p]
    replacements: list[Any] = [None, True, 0, -1, 2**53 - 1, "", "x", "0x", "ab" * 32, [], {}]
    replacements += [["ab" * 32], {"kind": "full"}, [[], "", 0], {"": None}]
    for _ in range(3000):
        obj = copy.deepcopy(base)
        path = rng.choice(paths)
        parent = obj
        for seg in path[:-1]:
            parent = parent[seg]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(replacements))
        try:
            bundle = bundle_from_json(obj)
            serialize_bundle(bundle)
        except LedgerError:
            pass
