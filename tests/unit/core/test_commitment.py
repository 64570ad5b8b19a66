"""Salted field commitments and record digest v1 (ledger.core.commitment, docs/FORMAT.md §2.2)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize
from ledger.core.commitment import disclosure_bytes, flatten, record_digest
from ledger.core.errors import DigestMismatchError, MalformedError, VerificationError
from ledger.core.view import (
    HIDDEN,
    Commitment,
    Disclosure,
    RedactedView,
    commit,
    parse_view,
    reconstruct,
    redact,
    verify_view,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "commitment"
DOC = json.loads((VECTORS / "generic.json").read_text(encoding="utf-8"))
CASES = DOC["cases"]
TYPES = json.loads((VECTORS / "record_types.json").read_text(encoding="utf-8"))
FORMAT_MD = Path(__file__).resolve().parents[3] / "docs" / "FORMAT.md"


def _salts(case: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    return {tuple(p): s for p, s in case["salts"]}


def _counter_salts() -> Any:
    state = {"n": 0}

    def source(n: int) -> bytes:
        state["n"] += 1
        return hashlib.sha256(str(state["n"]).encode()).digest()[:n]

    return source


def test_vectors_have_provenance() -> None:
    assert DOC["description"] and DOC["source"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_digest_matches_reference(case: dict[str, Any]) -> None:
    commitment = Commitment(case["record"], _salts(case))
    expected = {tuple(p): h for p, h in case["field_hashes"]}
    assert commitment.field_hashes() == expected
    assert commitment.digest_hex == case["digest"]
    assert record_digest(case["record"], _salts(case)).hex() == case["digest"]
    verify_view(commitment, case["digest"])


@pytest.mark.parametrize("case", TYPES["cases"], ids=lambda c: c["name"])
def test_digest_of_each_record_type_matches_reference(case: dict[str, Any]) -> None:
    assert TYPES["description"] and TYPES["source"]
    commitment = Commitment(case["record"], _salts(case))
    assert len(commitment.field_hashes()) == case["field_hash_count"]
    assert commitment.digest_hex == case["digest"]


def test_format_doc_example_is_the_vector() -> None:
    doc = FORMAT_MD.read_text(encoding="utf-8")
    first = CASES[0]
    for value in (first["salts"][0][1], first["field_hashes"][0][1], first["digest"]):
        assert value in doc
    assert CASES[1]["digest"] in doc


def test_object_key_and_array_index_never_flatten_alike() -> None:
    by_name = {c["name"]: c for c in CASES}
    assert flatten({"a": {"0": 1}}) == [(("a", "0"), 1)]
    assert flatten({"a": [1]}) == [(("a", 0), 1)]
    salt = "A" * 22
    assert disclosure_bytes(salt, ("a", "0"), 1) != disclosure_bytes(salt, ("a", 0), 1)
    assert by_name["object_key_zero"]["digest"] != by_name["array_index_zero"]["digest"]


def test_empty_containers_are_pairs() -> None:
    assert flatten({"o": {}, "l": [], "n": {"x": [{}]}}) == [
        (("l",), []),
        (("n", "x", 0), {}),
        (("o",), {}),
    ]
    assert flatten({}) == [((), {})]


def test_flatten_order_is_utf16_member_order() -> None:
    record = {"\ufb33": 1, "\U0001f602": 2, "a": 3}
    assert [p for p, _ in flatten(record)] == [("a",), ("\U0001f602",), ("\ufb33",)]


def test_disclosure_is_jcs_of_salt_path_value() -> None:
    assert disclosure_bytes("c2FsdHNhbHRzYWx0c2FsdA", ("b", 0, "é"), "1.50") == (
        '["c2FsdHNhbHRzYWx0c2FsdA",["b",0,"é"],"1.50"]'.encode()
    )


def test_commit_draws_one_salt_per_pair_from_the_source() -> None:
    calls: list[int] = []

    def source(n: int) -> bytes:
        calls.append(n)
        return bytes([len(calls)]) * n

    c = commit({"a": [1, 2], "b": {}}, salt_source=source)
    assert calls == [16, 16, 16]
    assert c.salts[("a", 0)] == "AQEBAQEBAQEBAQEBAQEBAQ"
    with pytest.raises(MalformedError, match="salt source"):
        commit({"a": 1}, salt_source=lambda n: b"short")


def test_commit_refuses_values_outside_the_domain() -> None:
    for bad in (
        {"q": 1.5},
        {"q": MAX_SAFE_INTEGER + 1},
        {"q": b"x"},
        {"q": {1: "int key"}},
        {"q": "\ud800"},
        ["not", "an object"],
    ):
        with pytest.raises(MalformedError):
            commit(bad, salt_source=_counter_salts())  # type: ignore[arg-type]


def _carbon() -> dict[str, Any]:
    return copy.deepcopy(next(c for c in CASES if c["name"] == "carbon_like")["record"])


def test_redacted_view_verifies_against_the_same_digest() -> None:
    c = commit(_carbon(), salt_source=_counter_salts())
    view = redact(c, lambda p: p[:1] in (("type",), ("subject",)) or p[:3] == ("body", "lines", 1))
    verify_view(view, c.digest_hex)
    assert len(view.disclosures) == 5
    assert len(view.hidden) == len(flatten(c.record)) - 5
    assert list(view.hidden) == sorted(view.hidden)
    shown = reconstruct(view)
    assert shown["type"] == "carbon-record"
    assert shown["body"]["lines"][0] is HIDDEN
    assert shown["body"]["lines"][1]["amount"] == "0.8500"
    assert "id" not in shown


def test_reveal_all_and_reveal_nothing_both_verify() -> None:
    c = commit(_carbon(), salt_source=_counter_salts())
    verify_view(redact(c, lambda p: True), c.digest_hex)
    verify_view(redact(c, lambda p: False), c.digest_hex)
    assert reconstruct(redact(c, lambda p: True)) == c.record


def test_view_json_round_trips() -> None:
    c = commit(_carbon(), salt_source=_counter_salts())
    for view in (c, redact(c, lambda p: p[0] == "body")):
        data = canonicalize(view.to_json())
        again = parse_view(json.loads(data))
        assert canonicalize(again.to_json()) == data
        verify_view(again, c.digest_hex)


# --- corruption: every one of these must fail verification -------------------------------


def _view_json() -> tuple[dict[str, Any], str]:
    c = commit(_carbon(), salt_source=_counter_salts())
    return redact(c, lambda p: p[0] in ("type", "body")).to_json(), c.digest_hex


def test_changed_disclosed_value_fails() -> None:
    view, digest = _view_json()
    view["disclosures"][0][2] = "9999.0000"
    with pytest.raises(DigestMismatchError) as info:
        verify_view(parse_view(view), digest)
    assert info.value.expected == digest


def test_moved_disclosure_path_fails() -> None:
    view, digest = _view_json()
    view["disclosures"][0][1] = ["body", "lines", 5, "amount"]
    with pytest.raises(DigestMismatchError):
        verify_view(parse_view(view), digest)


def test_omitted_disclosure_fails() -> None:
    view, digest = _view_json()
    del view["disclosures"][0]
    with pytest.raises(DigestMismatchError):
        verify_view(parse_view(view), digest)


def test_duplicated_field_hash_fails() -> None:
    view, digest = _view_json()
    view["hidden"].append(view["hidden"][0])
    with pytest.raises(VerificationError, match="appears twice"):
        verify_view(parse_view(view), digest)


def test_disclosed_field_also_listed_as_hidden_fails() -> None:
    view, digest = _view_json()
    item = parse_view(view)
    assert isinstance(item, RedactedView)
    twice = RedactedView(item.disclosures, (*item.hidden, item.disclosures[0].field_hash_hex()))
    with pytest.raises(VerificationError, match="appears twice"):
        verify_view(twice, digest)


def test_full_view_claiming_a_field_the_record_omits_fails() -> None:
    c = commit(_carbon(), salt_source=_counter_salts())
    record = copy.deepcopy(c.record)
    del record["subject"]
    with pytest.raises(VerificationError, match="no such field"):
        verify_view(Commitment(record, c.salts), c.digest_hex)
    salts = dict(c.salts)
    del salts[("subject",)]
    with pytest.raises(VerificationError, match="no salt"):
        verify_view(Commitment(c.record, salts), c.digest_hex)


def test_bad_salts_and_shapes_are_malformed() -> None:
    view, _ = _view_json()
    for mutate, path in [
        (lambda v: v["disclosures"][0].__setitem__(0, "A" * 21), "view.disclosures[0][0]"),
        (lambda v: v["disclosures"][0].__setitem__(0, "A" * 21 + "B"), "view.disclosures[0][0]"),
        (lambda v: v["disclosures"][0].__setitem__(1, ["a", -1]), "view.disclosures[0][1][1]"),
        (lambda v: v["disclosures"][0].__setitem__(2, {"x": 1}), "view.disclosures[0][2]"),
        (lambda v: v["hidden"].__setitem__(0, "AB" * 32), "view.hidden[0]"),
        (lambda v: v.__setitem__("kind", "partial"), "view.kind"),
        (lambda v: v.__setitem__("extra", 1), "view"),
    ]:
        bad = copy.deepcopy(view)
        mutate(bad)
        with pytest.raises(MalformedError) as info:
            parse_view(bad)
        assert info.value.path == path


def test_verify_view_wants_a_lowercase_digest() -> None:
    c = commit({"a": 1}, salt_source=_counter_salts())
    with pytest.raises(MalformedError):
        verify_view(c, c.digest_hex.upper())


def test_conflicting_disclosures_cannot_be_reconstructed() -> None:
    salt = "A" * 22
    bad = RedactedView((Disclosure(salt, ("a",), 1), Disclosure(salt, ("a", 0), 2)), ())
    with pytest.raises(MalformedError):
        reconstruct(bad)


# --- properties -----------------------------------------------------------------------

_scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(max_size=10)
)
_value = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
_record = st.dictionaries(st.text(max_size=5), _value, max_size=5)


@settings(max_examples=150, deadline=None)
@given(_record, st.randoms(use_true_random=False))
def test_any_redaction_verifies(record: dict[str, Any], rnd: Any) -> None:
    c = commit(record, salt_source=_counter_salts())
    view = redact(c, lambda p: rnd.random() < 0.5)
    verify_view(view, c.digest_hex)
    assert view_roundtrip(view) == canonicalize(view.to_json())


def view_roundtrip(view: Any) -> bytes:
    return canonicalize(parse_view(json.loads(canonicalize(view.to_json()))).to_json())


@settings(max_examples=150, deadline=None)
@given(_record, st.data())
def test_changing_any_disclosed_value_breaks_the_digest(record: dict[str, Any], data: Any) -> None:
    c = commit(record, salt_source=_counter_salts())
    view = redact(c, lambda p: True)
    i = data.draw(st.integers(min_value=0, max_value=len(view.disclosures) - 1))
    old = view.disclosures[i]
    new_value = data.draw(
        _scalar.filter(lambda v: v != old.value or type(v) is not type(old.value))
    )
    changed = list(view.disclosures)
    changed[i] = Disclosure(old.salt, old.path, new_value)
    with pytest.raises(DigestMismatchError):
        verify_view(RedactedView(tuple(changed), view.hidden), c.digest_hex)


def test_salts_hide_equal_values() -> None:
    a = commit({"grade": "AA"}, salt_source=_counter_salts())
    b = commit({"grade": "AA"}, salt_source=lambda n: b"\x07" * n)
    assert a.digest != b.digest
