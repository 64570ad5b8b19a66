"""Strict intake (``parse_json``) against a plain implementation of docs/FORMAT.md §1.1.

``parse_json`` parses in one C-level pass when a scan of the bytes finds nothing that needs
placing, and only falls back to a second, careful pass otherwise. The reference below parses
every text the careful way: ``json`` with hooks that mark every refused value, then a
recursive walk that names the first fault. Random texts, many of them with a fault planted
somewhere (a fraction, an exponent, NaN, an integer beyond 2^53-1, a repeated member name, an
escaped lone surrogate, nesting past the limit), must get the same answer from both: the
same value, or a refusal naming the same path.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER, json_path, parse_json
from ledger.core.errors import MalformedError

MAX_DEPTH = 8

# --- the reference ----------------------------------------------------------------------


class _Refused:
    def __init__(self, why: str) -> None:
        self.why = why


class _Repeated(dict[str, Any]):
    name = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    for i, name in enumerate(names):
        if name in names[:i]:
            repeated = _Repeated(pairs)
            repeated.name = name
            return repeated
    return dict(pairs)


def _integer(text: str) -> Any:
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        return _Refused("integer")
    return int(text)


def _find_fault(value: Any, path: list[str | int], depth: int) -> str | None:
    """The path of the first fault in document order, or None."""
    if isinstance(value, _Refused):
        return json_path(path)
    if isinstance(value, str):
        return json_path(path) if any(0xD800 <= ord(c) <= 0xDFFF for c in value) else None
    if isinstance(value, list | dict) and depth >= MAX_DEPTH:
        return json_path(path)
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_fault(item, [*path, i], depth + 1)
            if found is not None:
                return found
    if isinstance(value, _Repeated):
        return json_path([*path, value.name])
    if isinstance(value, dict):
        for name, item in value.items():
            if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
                return json_path([*path, name])
            found = _find_fault(item, [*path, name], depth + 1)
            if found is not None:
                return found
    return None


def _depth(text: str) -> int:
    """Deepest nesting of brackets outside strings, character by character."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def reference(text: str) -> tuple[str, Any]:
    """("value", parsed) or ("refused", path) as docs/FORMAT.md §1.1 reads."""
    if _depth(text) > MAX_DEPTH:
        return "refused", ""  # checked before parsing, so without a path
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_float=lambda t: _Refused("fraction"),
            parse_int=_integer,
            parse_constant=lambda t: _Refused("constant"),
        )
    except json.JSONDecodeError:
        return "refused", ""
    fault = _find_fault(value, [], 0)
    return ("refused", fault) if fault is not None else ("value", value)


# --- random texts, some with a planted fault --------------------------------------------

_names = st.sampled_from(["a", "b", "amount", "é", "x y", "\U0001f602", "\ufb33", ""])
_good_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15, 0])
    | st.text(max_size=6)
)
_faults = st.sampled_from(
    [
        *("1.5", "1.0", "1e3", "-0.0", "1E400", "NaN", "-Infinity", "1" * 40),
        *("9007199254740992", "-9007199254740992", "[1,-12345678901234567]"),
        *('"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ude02"', '"\\u00e9"', '"\\\\ud800"'),
        *('"\\"[[[["', '"]]]]"', '"{\\\\"', '"x:12345678901234567"', '"\ud800"'),
        # Brackets and escapes inside strings, enough to cross the limit if misread.
        *('"\\"' + "[" * 10 + '"', '"' + "]" * 10 + '"', '"\\\\"', '"\\\\\\""'),
    ]
)


@st.composite
def _text_of(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(min_value=0, max_value=9 if depth < MAX_DEPTH + 2 else 5))
    if kind <= 3:
        return json.dumps(draw(_good_scalars), ensure_ascii=draw(st.booleans()))
    if kind == 4:
        return draw(_faults) if draw(st.integers(0, 4)) == 0 else json.dumps(draw(_good_scalars))
    if kind == 5:
        return draw(st.sampled_from(["{}", "[]", " [ ] ", "{ }"]))
    if kind <= 7:
        items = draw(st.lists(_text_of(depth + 1), max_size=3))
        return "[" + ", ".join(items) + "]"
    names = draw(st.lists(_names, max_size=3))
    members = [
        json.dumps(name, ensure_ascii=draw(st.booleans())) + ":" + draw(_text_of(depth + 1))
        for name in names
    ]
    return "{" + ",".join(members) + "}"


def _outcome(text: str) -> tuple[str, Any]:
    """parse_json of ``text``, and of its UTF-8 bytes with the same answer when it has some."""
    try:
        outcome: tuple[str, Any] = "value", parse_json(text, max_depth=MAX_DEPTH)
    except MalformedError as exc:
        outcome = "refused", exc.path
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return outcome  # a raw lone surrogate: only text can carry one
    try:
        assert outcome == ("value", parse_json(data, max_depth=MAX_DEPTH))
    except MalformedError as exc:
        assert outcome == ("refused", exc.path)
    return outcome


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (``True`` is not ``1`` here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None)
@given(_text_of())
def test_strict_intake_matches_the_reference(text: str) -> None:
    kind, result = _outcome(text)
    expected_kind, expected = reference(text)
    assert kind == expected_kind, (text, result, expected)
    if kind == "value":
        assert _same(result, expected)
    else:
        assert result == expected, text


@settings(max_examples=300, deadline=None)
@given(_text_of(), st.sampled_from([" ", "\n", "\t ", "\r\n  "]))
def test_whitespace_between_tokens_changes_nothing(text: str, space: str) -> None:
    # Inside strings the added whitespace changes the values, alike for both.
    spaced = space + text.replace(",", "," + space).replace(":", space + ":" + space) + space
    kind, result = _outcome(spaced)
    expected_kind, expected = reference(spaced)
    assert kind == expected_kind, (spaced, result, expected)
    if kind == "refused":
        assert result == expected
