"""The strict readers every ``from_json`` uses (ledger.core.jsonshape)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.core import jsonshape
from ledger.core.errors import MalformedError

REQUIRED = frozenset({"a", "b"})


def _refused(reader: Any, *args: Any, **kwargs: Any) -> MalformedError:
    with pytest.raises(MalformedError) as info:
        reader(*args, **kwargs)
    return info.value


def test_members_exactly() -> None:
    assert jsonshape.members({"a": 1, "b": 2}, "x", REQUIRED) == {"a": 1, "b": 2}
    assert jsonshape.members({"a": 1, "b": 2, "c": 3}, "x", REQUIRED, {"c"}) == {
        "a": 1,
        "b": 2,
        "c": 3,
    }


@pytest.mark.parametrize(
    ("value", "reason", "member"),
    [
        ({"b": 2}, "missing member 'a'", "a"),
        ({}, "missing member 'a'", "a"),
        ({"a": 1, "b": 2, "z": 0, "y": 0}, "unknown member 'y'", "y"),
        # A missing member is named before an unknown one.
        ({"b": 2, "z": 0}, "missing member 'a'", "a"),
    ],
)
def test_members_names_the_first_fault(value: Any, reason: str, member: str) -> None:
    error = _refused(jsonshape.members, value, "bundle.items[3]", REQUIRED)
    assert isinstance(error, jsonshape.MemberError)
    assert (error.path, error.reason, error.member) == ("bundle.items[3]", reason, member)


@pytest.mark.parametrize("value", [[], "a", None, 1])
def test_members_wants_an_object(value: Any) -> None:
    error = _refused(jsonshape.members, value, "x", REQUIRED)
    assert (error.path, error.reason) == ("x", "expected an object")


def test_integer_bounds_and_booleans() -> None:
    assert jsonshape.integer(0, "n", minimum=0) == 0
    assert jsonshape.integer(5, "n", minimum=1, maximum=5) == 5
    assert _refused(jsonshape.integer, True, "n").reason == "expected an integer"
    assert _refused(jsonshape.integer, "1", "n").reason == "expected an integer"
    assert _refused(jsonshape.integer, 0, "n", minimum=1).reason == (
        "expected an integer >= 1, got 0"
    )
    assert _refused(jsonshape.integer, 6, "n", maximum=5).reason == (
        "expected an integer <= 5, got 6"
    )


def test_array_limit() -> None:
    assert jsonshape.array([1, 2], "a", limit=2) == [1, 2]
    assert _refused(jsonshape.array, {}, "a").reason == "expected an array"
    assert _refused(jsonshape.array, [1, 2, 3], "a", limit=2).reason == (
        "3 entries exceed the limit of 2"
    )


def test_string_length() -> None:
    assert jsonshape.string("id", "s", min_chars=1, max_chars=2) == "id"
    assert _refused(jsonshape.string, 1, "s").reason == "expected a string"
    assert _refused(jsonshape.string, "", "s", min_chars=1, max_chars=9).reason == (
        "expected a string of 1 to 9 characters"
    )


@pytest.mark.parametrize(
    ("value", "prefixed", "reason"),
    [
        (5, False, "expected a hex string"),
        ("AB" * 32, False, "expected lowercase hex"),
        ("abc", False, "expected lowercase hex"),
        ("ab" * 31, False, "expected 32 bytes, got 31"),
        ("0x" + "ab" * 32, False, "expected lowercase hex"),
        ("ab" * 32, True, "expected 0x-prefixed lowercase hex"),
        ("0x" + "ab" * 33, True, "expected 32 bytes, got 33"),
    ],
)
def test_hex_refusals(value: Any, prefixed: bool, reason: str) -> None:
    error = _refused(jsonshape.hex_bytes, value, "d", size=32, prefixed=prefixed)
    assert (error.path, error.reason) == ("d", reason)


def test_hex_reads() -> None:
    assert jsonshape.hex_bytes("ab" * 32, "d", size=32) == b"\xab" * 32
    assert jsonshape.hex_bytes("0x" + "01" * 32, "d", size=32, prefixed=True) == b"\x01" * 32
    assert jsonshape.hex_text("cd" * 64, "d", size=64) == "cd" * 64


def test_address_wants_checksum_case() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
    assert jsonshape.address(good, "a") == good
    assert _refused(jsonshape.address, good.lower(), "a").reason == (
        "expected a 0x address in EIP-55 checksum case"
    )
