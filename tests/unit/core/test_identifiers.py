"""Handle, OID and Ecode identifiers (ledger.core.identifiers) against tests/vectors/identifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.errors import MalformedError
from ledger.core.identifiers import (
    SCHEMES,
    parse_ecode,
    parse_handle,
    parse_identifier,
    parse_oid,
)
from ledger.core.types import fields as f

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "identifiers"
PARSERS = {"handle": parse_handle, "oid": parse_oid, "ecode": parse_ecode}
DOCS = {s: json.loads((VECTORS / f"{s}.json").read_text(encoding="utf-8")) for s in SCHEMES}


def _cases(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(scheme, case) for scheme, doc in DOCS.items() for case in doc[kind]]


def _id(param: tuple[str, dict[str, Any]]) -> str:
    return f"{param[0]}-{param[1]['name']}"


def test_vectors_have_provenance() -> None:
    for doc in DOCS.values():
        assert doc["description"] and doc["source"]


@pytest.mark.parametrize("param", _cases("valid"), ids=_id)
def test_valid(param: tuple[str, dict[str, Any]]) -> None:
    scheme, case = param
    ident = PARSERS[scheme](case["text"])
    assert (ident.scheme, ident.canonical) == (scheme, case["canonical"]) == (scheme, case["text"])
    assert parse_identifier(case["text"]) == ident
    assert f.identifier(case["text"], "subject") == ident
    for other, parse in PARSERS.items():
        if other != scheme:
            with pytest.raises(MalformedError):
                parse(case["text"])


@pytest.mark.parametrize("param", _cases("non_canonical"), ids=_id)
def test_non_canonical_spellings_normalise_but_records_refuse_them(
    param: tuple[str, dict[str, Any]],
) -> None:
    scheme, case = param
    ident = parse_identifier(case["text"])
    assert (ident.scheme, ident.canonical) == (scheme, case["canonical"])
    assert parse_identifier(ident.canonical) == ident
    with pytest.raises(MalformedError) as info:
        f.identifier(case["text"], "body.equipment.identifiers[0].value")
    assert info.value.path == "body.equipment.identifiers[0].value"
    assert repr(case["canonical"]) in info.value.reason


@pytest.mark.parametrize("param", _cases("invalid"), ids=_id)
def test_invalid(param: tuple[str, dict[str, Any]]) -> None:
    scheme, case = param
    with pytest.raises(MalformedError) as info:
        PARSERS[scheme](case["text"], "subject")
    assert info.value.path == "subject"
    assert case["message_contains"] in info.value.reason
    # The dispatcher refuses it too (by the shape it has, which may be another scheme's).
    with pytest.raises(MalformedError) as info:
        parse_identifier(case["text"], "subject")
    assert info.value.path == "subject"


@pytest.mark.parametrize(
    "text", ["", "ABC", "desnz-2025", "-1", "ä"], ids=["empty", "word", "slug", "sign", "letter"]
)
def test_dispatcher_names_all_three_schemes_when_none_fits(text: str) -> None:
    with pytest.raises(MalformedError, match="Handle") as info:
        parse_identifier(text, "subject")
    assert info.value.path == "subject"


def test_scheme_can_be_forced() -> None:
    assert parse_identifier("1.2.156", scheme="oid").scheme == "oid"
    with pytest.raises(MalformedError, match="without '/'"):
        parse_identifier("1.2.156", scheme="handle")
    with pytest.raises(MalformedError, match="unknown identifier scheme"):
        parse_identifier("1.2.156", scheme="urn")


def test_non_strings_are_refused() -> None:
    for parse in (*PARSERS.values(), parse_identifier):
        with pytest.raises(MalformedError, match="as a string"):
            parse(156)  # type: ignore[arg-type]


arcs = st.integers(min_value=0, max_value=10**30)


@given(
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=39),
    st.lists(arcs, max_size=8),
    st.lists(st.integers(min_value=0, max_value=3), min_size=11, max_size=11),
)
def test_oid_padding_normalises_to_the_minimal_spelling(
    first: int, second: int, rest: list[int], pads: list[int]
) -> None:
    values = [first, second, *rest]
    canonical = ".".join(map(str, values))
    padded = ".".join("0" * pad + str(v) for v, pad in zip(values, pads, strict=False))
    assert parse_oid(padded).canonical == canonical
    assert parse_oid(canonical).canonical == canonical


@given(
    st.lists(st.from_regex(r"[0-9A-Za-z-]{1,6}", fullmatch=True), min_size=1, max_size=4),
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and "\x00" not in s),
)
def test_handle_canonical_form_is_a_fixed_point(segments: list[str], suffix: str) -> None:
    text = ".".join(segments) + "/" + suffix
    try:
        ident = parse_handle(text)
    except MalformedError:
        return  # the suffix held a control, format or space character
    assert parse_handle(ident.canonical) == ident
    assert ident.canonical.split("/", 1)[0] == ".".join(segments).lower()
