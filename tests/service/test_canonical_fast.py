"""The accept path's fast canonical form of ASCII-only input equals RFC 8785 as
``ledger.core.canonical.canonicalize`` (itself checked against the ``rfc8785`` reference)
computes it, byte for byte."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize, parse_json
from ledger.core.commitment import commit
from ledger.core.examples import example_records
from ledger.service.submission import _canonical, _is_ascii

ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | ascii_text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_ascii_values_serialize_as_jcs(value: Any) -> None:
    reference = canonicalize(value)
    # Whatever escapes JCS uses for control characters, the bytes stay ASCII without \u
    # only when there are none; the fast path is taken for the parsed value either way.
    assert _canonical(parse_json(reference), ascii_input=True) == reference


def test_del_and_controls() -> None:
    value = {"\x7f": '\x7f\x00\x1f\n\t"\\/', "b": [1, -2, True, None]}
    assert _canonical(value, ascii_input=True) == canonicalize(value)


def test_every_example_full_view() -> None:
    for record in example_records().values():
        view = commit(record).to_json()
        reference = canonicalize(view)
        assert _canonical(view, ascii_input=_is_ascii(reference)) == reference


def test_non_ascii_input_is_not_taken_for_ascii() -> None:
    assert not _is_ascii('{"a":"é"}'.encode())
    assert not _is_ascii(b'{"a":"\\u00e9"}')
    assert _is_ascii(b'{"a":"e\\n"}')
