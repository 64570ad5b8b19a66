"""Strict JSON intake and RFC 8785 canonical form (ledger.core.canonical)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import (
    MAX_SAFE_INTEGER,
    canonicalize,
    format_timestamp,
    json_path,
    parse_json,
    parse_timestamp,
)
from ledger.core.errors import MalformedError

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "jcs"


def _load(name: str) -> dict[str, Any]:
    doc = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert doc["description"] and doc["source"]
    return doc


REFERENCE = _load("rfc8785_reference.json")["cases"]
NEGATIVE = _load("intake_negative.json")["cases"]


def _negative_input(case: dict[str, Any]) -> bytes | str:
    if "input" in case:
        return str(case["input"])
    if case.get("input_hex"):
        return bytes.fromhex(case["input_hex"])
    rep = case["input_repeat"]
    return (rep["open"] * rep["count"] + rep["close"] * rep["count"]).encode()


@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: c["name"])
def test_reference_vectors(case: dict[str, Any]) -> None:
    value = json.loads(case["input"])
    assert canonicalize(value) == case["expected"].encode("utf-8")


# "values" and "structures" hold floats (4.50, 56.0), which strict intake refuses by design.
@pytest.mark.parametrize(
    "case",
    [c for c in REFERENCE if c["name"] not in ("values", "structures")],
    ids=lambda c: c["name"],
)
def test_reference_vectors_through_strict_intake(case: dict[str, Any]) -> None:
    value = parse_json(case["input"].encode("utf-8"))
    assert canonicalize(value) == case["expected"].encode("utf-8")


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c["name"])
def test_negative_vectors_are_refused_with_their_path(case: dict[str, Any]) -> None:
    with pytest.raises(MalformedError) as info:
        parse_json(_negative_input(case))
    assert info.value.path == case["path"]
    assert case["reason_contains"] in info.value.reason


def test_float_refusal_says_quantities_are_decimal_strings() -> None:
    with pytest.raises(MalformedError, match=r'decimal strings such as "1234\.5600"'):
        parse_json(b'{"amount": 0.5}')


def test_size_limit_counts_utf8_bytes() -> None:
    doc = json.dumps({"k": "é" * 60}).encode()
    assert parse_json(doc, max_bytes=len(doc)) == {"k": "é" * 60}
    with pytest.raises(MalformedError, match="exceeds the limit"):
        parse_json(doc, max_bytes=len(doc) - 1)
    with pytest.raises(MalformedError, match="exceeds the limit"):
        parse_json(doc.decode(), max_bytes=len(doc) - 1)


def test_depth_limit_is_exact() -> None:
    assert parse_json("[" * 5 + "]" * 5, max_depth=5) == [[[[[]]]]]
    with pytest.raises(MalformedError, match="nesting deeper than 4"):
        parse_json("[" * 5 + "]" * 5, max_depth=4)


# Quadratic rescanning of unterminated strings would take hours on these inputs; linear
# scanning takes milliseconds. The timeout is a hang guard, not a speed claim.
@pytest.mark.timeout(60)
@pytest.mark.parametrize("tail", ['"\\' * 200_000, '"' * 400_000, 'x"' * 200_000])
def test_depth_check_stays_linear_on_hostile_strings(tail: str) -> None:
    with pytest.raises(MalformedError):
        parse_json("[" * 65 + tail)
    with pytest.raises(MalformedError):
        parse_json("[" * 3 + tail)


# Brackets inside strings, after escaped quotes and escaped backslashes, must neither hide
# real depth (the scanner would let deep input reach recursive code) nor add to it.
_DEEP = "[" * 65 + "]" * 65
_SHALLOW = "[" * 64 + "]" * 64


@pytest.mark.parametrize(
    "text",
    [
        f'["\\\\", "{"]" * 100}", {_DEEP}]',
        f'["\\\\\\"{"]" * 100}", {_DEEP}]',
        f'{{"\\\\": "{"}" * 100}", "a": {_DEEP}}}',
        f'["{"]" * 100}\\"", {_DEEP}]',
    ],
)
def test_escapes_cannot_hide_nesting(text: str) -> None:
    json.loads(text)  # valid JSON, only too deep
    with pytest.raises(MalformedError, match="nesting deeper than 64"):
        parse_json(text)


@pytest.mark.parametrize(
    "text",
    [
        f'["\\"{"[" * 100}", {_SHALLOW[1:-1]}]',
        f'["\\\\", "{"[" * 100}", {_SHALLOW[1:-1]}]',
        f'{{"{"{" * 100}": {_SHALLOW[1:-1]}}}',
    ],
)
def test_brackets_in_strings_do_not_count(text: str) -> None:
    assert parse_json(text) == json.loads(text)


def test_boundary_integers_and_literals_are_accepted() -> None:
    text = f'[{MAX_SAFE_INTEGER}, -{MAX_SAFE_INTEGER}, 0, -0, true, false, null, "", {{}}]'
    assert parse_json(text) == [
        MAX_SAFE_INTEGER,
        -MAX_SAFE_INTEGER,
        0,
        0,
        True,
        False,
        None,
        "",
        {},
    ]


def test_paired_surrogate_escape_is_one_scalar() -> None:
    assert parse_json('"\\ud83d\\ude02"') == "\U0001f602"


def test_error_root_name_prefixes_paths() -> None:
    with pytest.raises(MalformedError) as info:
        parse_json(b'{"items":[{"proof":[1.5]}]}', root="bundle")
    assert info.value.path == "bundle.items[0].proof[0]"
    assert str(info.value).startswith("bundle.items[0].proof[0]: ")


def test_json_path_notation() -> None:
    assert json_path(["body", "lines", 3, "amount"]) == "body.lines[3].amount"
    assert json_path([0, "a b", "é"], root="x") == 'x[0]["a b"]["é"]'
    assert json_path([]) == ""
    assert json_path(["items"], root="bundle") == "bundle.items"


def test_canonicalize_refuses_what_jcs_cannot_express() -> None:
    for bad in (float("nan"), 2**53, {"k": "\ud800"}, {1: "non-string key"}, b"bytes"):
        with pytest.raises(MalformedError):
            canonicalize(bad)


# Values inside the fast path's domain plus floats, which force the reference path.
_keys = st.text(max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(max_size=20)
)
_json = st.recursive(
    _scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=30,
)
_strict = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_canonicalize_is_byte_identical_to_rfc8785(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(_strict)
def test_canonical_bytes_parse_back_to_the_same_value(value: Any) -> None:
    data = canonicalize(value)
    assert parse_json(data) == value
    assert canonicalize(parse_json(data)) == data


@settings(max_examples=200, deadline=None)
@given(_strict)
def test_whitespace_and_key_order_do_not_change_canonical_bytes(value: Any) -> None:
    loose = json.dumps(value, indent=3, ensure_ascii=True)
    assert canonicalize(parse_json(loose)) == canonicalize(value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_other_errors(data: bytes) -> None:
    with contextlib.suppress(MalformedError):
        parse_json(data)


def test_timestamps_round_trip_and_are_strict() -> None:
    moment = datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-01-31T12:00:00Z"
    assert format_timestamp(moment.replace(microsecond=1500)) == "2026-01-31T12:00:00.001500Z"
    east = moment.astimezone(timezone(timedelta(hours=8)))
    assert format_timestamp(east) == "2026-01-31T12:00:00Z"
    assert parse_timestamp("2026-01-31T12:00:00.5Z") == moment.replace(microsecond=500000)
    for bad in ("2026-01-31T12:00:00+00:00", "2026-01-31 12:00:00Z", "2026-02-30T00:00:00Z", 5):
        with pytest.raises(MalformedError):
            parse_timestamp(bad, path="x")
    with pytest.raises(MalformedError):
        format_timestamp(datetime(2026, 1, 1))
