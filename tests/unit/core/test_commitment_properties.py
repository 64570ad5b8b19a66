"""The fast digest v1 against a plain, obviously-correct implementation of docs/FORMAT.md §2.2.

The reference below is written straight from the text: flatten recursively, serialize every
``[salt, path, value]`` with the ``rfc8785`` package (the RFC's reference implementation for
Python, independent of ``ledger.core.canonical``), SHA-256 each, sort, digest. The product
code takes shortcuts for speed (path prefixes serialized once per object level, member names
escaped once, hashing in C-level loops); these properties say that no record, however
strange, can tell the two apart: the same field hashes, the same digest, and a refusal
exactly where the reference cannot serialize.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER, json_path
from ledger.core.commitment import DIGEST_DOMAIN, FieldPath, disclosure_bytes
from ledger.core.errors import MalformedError
from ledger.core.view import Commitment, Disclosure, RedactedView, commit, redact, view_digest

# --- the reference: docs/FORMAT.md §2.2, word for word ------------------------------------


def reference_pairs(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    if isinstance(value, dict):
        if not value:
            yield path, {}
        for key in sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass")):
            yield from reference_pairs(value[key], (*path, key))
    elif isinstance(value, list):
        if not value:
            yield path, []
        for i, item in enumerate(value):
            yield from reference_pairs(item, (*path, i))
    else:
        yield path, value


def reference_field_hash(salt: str, path: FieldPath, value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps([salt, list(path), value])).hexdigest()


def reference_digest(hashes: list[str]) -> bytes:
    return hashlib.sha256(DIGEST_DOMAIN + rfc8785.dumps(sorted(hashes))).digest()


def reference_full(record: dict[str, Any], salts: dict[FieldPath, str]) -> dict[FieldPath, str]:
    return {p: reference_field_hash(salts[p], p, v) for p, v in reference_pairs(record)}


# --- random records -------------------------------------------------------------------

# Every kind of character the serializer treats specially: controls (short and \u00xx
# escapes), quote and backslash, DEL (not escaped by JCS), non-ASCII below and above the
# surrogate block (U+E000..U+FFFF sorts after astral characters in UTF-16 order but before
# them in code point order), astral characters. Lone surrogates are excluded: they are not
# Unicode scalar values and are refused (tested separately).
_chars = st.sampled_from(
    [
        *("a", "Z", "0", "_", " ", '"', "\\", "/", "\x00", "\x08", "\x1f", "\n", "\x7f"),
        *("é", "€", "\u2028", "\ud7ff", "\ue000", "\ufb33", "\uffff", "😂", "\U00010000"),
    ]
) | st.characters(exclude_categories=("Cs",))
_text = st.text(_chars, max_size=8)
_int = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER) | st.sampled_from(
    [0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15, -(10**15)]
)
_scalar = st.none() | st.booleans() | _int | _text
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=40,
)


@st.composite
def _deep(draw: st.DrawFn) -> Any:
    """A chain of objects and arrays up to 60 levels deep, with a value at the bottom."""
    value = draw(_value)
    for _ in range(draw(st.integers(min_value=1, max_value=60))):
        value = {draw(_text): value} if draw(st.booleans()) else [value]
    return value


_records = st.dictionaries(_text, _value | _deep(), max_size=6)


def _salt_source(seed: int) -> Any:
    return random.Random(seed).randbytes


# --- properties -----------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_records, st.integers(min_value=0, max_value=2**32))
def test_full_view_matches_the_reference(record: dict[str, Any], seed: int) -> None:
    view = commit(record, salt_source=_salt_source(seed))
    expected = reference_full(record, dict(view.salts))
    assert view.field_hashes() == expected
    assert list(view.field_hashes()) == [p for p, _ in reference_pairs(record)]
    assert view.digest == reference_digest(list(expected.values()))


@settings(max_examples=200, deadline=None)
@given(_records, st.integers(min_value=0, max_value=2**32), st.randoms(use_true_random=False))
def test_salts_in_any_order_give_the_same_digest(
    record: dict[str, Any], seed: int, rnd: random.Random
) -> None:
    view = commit(record, salt_source=_salt_source(seed))
    shuffled = list(view.salts.items())
    rnd.shuffle(shuffled)
    assert Commitment(record, dict(shuffled)).digest == view.digest


@settings(max_examples=300, deadline=None)
@given(_records, st.integers(min_value=0, max_value=2**32), st.randoms(use_true_random=False))
def test_redacted_view_matches_the_reference(
    record: dict[str, Any], seed: int, rnd: random.Random
) -> None:
    view = commit(record, salt_source=_salt_source(seed))
    redacted = redact(view, lambda p: rnd.random() < 0.5)
    for d in redacted.disclosures:
        assert d.field_hash_hex() == reference_field_hash(d.salt, d.path, d.value)
        assert disclosure_bytes(d.salt, d.path, d.value) == rfc8785.dumps(
            [d.salt, list(d.path), d.value]
        )
    assert view_digest(redacted) == view.digest


_outside = st.sampled_from(
    [
        1.5,
        float("nan"),
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        2**64,
        "\ud800",
        "a\udfffb",
        b"bytes",
        ("tuple",),
        {1: "integer member name"},
        {"\ud83d": "lone surrogate member name"},
    ]
)


@settings(max_examples=200, deadline=None)
@given(_records, _outside, st.lists(_text, min_size=1, max_size=4))
def test_values_outside_the_domain_are_refused_with_their_path(
    record: dict[str, Any], bad: Any, where: list[str]
) -> None:
    nested: Any = bad
    for key in reversed(where[1:]):
        nested = {key: nested}
    record = {**record, where[0]: nested}
    with pytest.raises(MalformedError) as info:
        commit(record, salt_source=_salt_source(0))
    # A member name that cannot be serialized is named itself; anything else by its place.
    assert info.value.path in (json_path(where), json_path([*where, "\ud83d"]))


@settings(max_examples=200, deadline=None)
@given(_value, st.lists(_text | st.integers(0, 10**6), max_size=6), st.binary(min_size=16))
def test_one_disclosure_matches_the_reference(value: Any, path: list[Any], raw: bytes) -> None:
    salt = commit({"a": 1}, salt_source=lambda n: raw[:n]).salts[("a",)]
    if isinstance(value, dict | list) and value:
        return
    disclosure = Disclosure(salt, tuple(path), value)
    assert disclosure.field_hash_hex() == reference_field_hash(salt, tuple(path), value)
    hidden = RedactedView((disclosure,), ())
    assert view_digest(hidden) == reference_digest([reference_field_hash(salt, tuple(path), value)])
