"""The fast canonical form of parsed values (``canonicalize_parsed``) equals RFC 8785 as
``canonicalize`` computes it (itself checked against the ``rfc8785`` reference), byte for
byte, on every value ``parse_json`` can return; and it hands whatever it cannot write
exactly to ``canonicalize``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize, canonicalize_parsed, parse_json
from ledger.core.errors import MalformedError
from ledger.core.view import commit
from ledger.examples import example_records

# Characters JCS treats specially or orders differently from Python: controls, quote,
# backslash, DEL, non-ASCII below the surrogates, U+E000..U+FFFF, astral characters.
_chars = st.sampled_from(
    [
        *("a", "Z", "0", " ", '"', "\\", "/", "\x00", "\x1f", "\n", "\t", "\x7f"),
        *("é", "€", "\u2028", "\ud7ff", "\ue000", "\ufb33", "\uffff", "😂", "\U00010000"),
    ]
) | st.characters(exclude_categories=("Cs",))
_text = st.text(_chars, max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0])
    | _text
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=30,
)
_ascii = st.text(st.characters(max_codepoint=0x7F), max_size=8)
_ascii_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | _ascii,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ascii, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_values, st.booleans(), st.sampled_from([None, 1, 3]))
def test_parsed_values_serialize_as_jcs(value: Any, ascii_only: bool, indent: int | None) -> None:
    # Any spelling of the value (escaped or not, spaced or not) parses to the same value.
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    parsed = parse_json(text)
    assert canonicalize_parsed(parsed) == canonicalize(parsed) == canonicalize(value)


@settings(max_examples=300, deadline=None)
@given(_ascii_values)
def test_ascii_values_take_the_fast_way(value: Any) -> None:
    # Nothing in them needs canonicalize, so the bytes are json's own.
    parsed = parse_json(canonicalize(value))
    fast = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonicalize_parsed(parsed) == fast.encode() == canonicalize(value)


def test_member_order_by_utf16_code_units() -> None:
    # Code points put U+E000 first; UTF-16 puts the astral character (D83D DE02) first.
    value = {"\ue000": 1, "\U0001f602": 2, "a": {"\uffff": [], "\U00010000": {}}}
    assert canonicalize_parsed(value) == canonicalize(value)
    assert canonicalize_parsed(value).index("😂".encode()) < canonicalize_parsed(value).index(
        "\ue000".encode()
    )


def test_del_and_controls() -> None:
    value = {"\x7f": '\x7f\x00\x1f\n\t"\\/', "b": [1, -2, True, None]}
    assert canonicalize_parsed(value) == canonicalize(value)


@pytest.mark.parametrize(
    "value", [{"k": "\ud800"}, float("nan"), {"k": b"bytes"}, {"k": {1, 2}}, ["\udfff"]]
)
def test_what_json_cannot_write_goes_to_canonicalize(value: Any) -> None:
    with pytest.raises(MalformedError):
        canonicalize(value)
    with pytest.raises(MalformedError):
        canonicalize_parsed(value)


def test_every_example_full_view() -> None:
    for record in example_records().values():
        view = commit(record).to_json()
        assert canonicalize_parsed(view) == canonicalize(view)
