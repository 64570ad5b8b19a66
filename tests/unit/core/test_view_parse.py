"""Reading views (``parse_view``, docs/FORMAT.md §2.3) against a plain, entry-by-entry reader.

``parse_view`` checks all entries of a view in a few passes at once and reads entry by entry
only when those fail. The reference below reads every view entry by entry, as the format
text does. On views with one fault planted in a random place (a negative or boolean index,
a bad salt, a wrong entry length, a repeated path, a disclosed object, a bad field hash),
both must give the same view or refuse at the same path.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.canonical import MAX_SAFE_INTEGER
from ledger.core.errors import MalformedError
from ledger.core.view import Commitment, Disclosure, RedactedView, commit, parse_view, redact

_SALT = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")
_HASH = re.compile(r"[0-9a-f]{64}")


def _ref_path(value: Any, where: str) -> tuple[str | int, ...]:
    if not isinstance(value, list):
        raise MalformedError("path", path=where)
    for i, seg in enumerate(value):
        if isinstance(seg, bool) or not isinstance(seg, str | int):
            raise MalformedError("segment", path=f"{where}[{i}]")
        if isinstance(seg, int) and seg < 0:
            raise MalformedError("index", path=f"{where}[{i}]")
    return tuple(value)


def _ref_salt(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _SALT.fullmatch(value):
        raise MalformedError("salt", path=where)
    return value


def reference(obj: dict[str, Any]) -> Commitment | RedactedView:
    """Entry by entry; the members and kinds are assumed right (they are not mutated)."""
    if obj["kind"] == "full":
        salts: dict[tuple[str | int, ...], str] = {}
        for i, entry in enumerate(obj["salts"]):
            where = f"view.salts[{i}]"
            if not isinstance(entry, list) or len(entry) != 2:
                raise MalformedError("entry", path=where)
            p = _ref_path(entry[0], f"{where}[0]")
            salt = _ref_salt(entry[1], f"{where}[1]")
            if p in salts:
                raise MalformedError("repeated", path=where)
            salts[p] = salt
        return Commitment(obj["record"], salts)
    shown = []
    for i, entry in enumerate(obj["disclosures"]):
        where = f"view.disclosures[{i}]"
        if not isinstance(entry, list) or len(entry) != 3:
            raise MalformedError("entry", path=where)
        salt = _ref_salt(entry[0], f"{where}[0]")
        p = _ref_path(entry[1], f"{where}[1]")
        if isinstance(entry[2], dict | list) and entry[2]:
            raise MalformedError("value", path=f"{where}[2]")
        shown.append(Disclosure(salt, p, entry[2]))
    for i, h in enumerate(obj["hidden"]):
        if not isinstance(h, str) or not _HASH.fullmatch(h):
            raise MalformedError("hash", path=f"view.hidden[{i}]")
    return RedactedView(tuple(shown), tuple(obj["hidden"]))


def _outcome(read: Any, obj: dict[str, Any]) -> tuple[str, Any]:
    try:
        view = read(obj)
    except MalformedError as exc:
        return "refused", exc.path
    return "view", view.to_json()


_scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
_values = st.recursive(
    _scalars | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=15,
)
_records = st.dictionaries(st.text(max_size=4), _values, min_size=1, max_size=5)
_bad_segments = st.sampled_from([-1, True, False, 1.5, None, ["a"], {}])
_bad_salts = st.sampled_from(["A" * 21, "A" * 21 + "B", "A" * 23, 7, None, "A" * 21 + "="])
_bad_hashes = st.sampled_from(["AB" * 32, "ab" * 31, 5, None, "g" * 64])


def _plant(obj: dict[str, Any], rnd: random.Random, data: st.DataObject) -> None:
    """Plant one fault (or none) in a random entry of the view."""
    entries = obj["salts"] if obj["kind"] == "full" else obj["disclosures"]
    if not entries or rnd.random() < 0.2:
        if obj["kind"] == "redacted" and obj["hidden"] and rnd.random() < 0.5:
            obj["hidden"][rnd.randrange(len(obj["hidden"]))] = data.draw(_bad_hashes)
        return
    i = rnd.randrange(len(entries))
    path_at, salt_at = (0, 1) if obj["kind"] == "full" else (1, 0)
    fault = rnd.randrange(6)
    if fault == 0 and entries[i][path_at]:
        entries[i][path_at][rnd.randrange(len(entries[i][path_at]))] = data.draw(_bad_segments)
    elif fault == 1:
        entries[i][salt_at] = data.draw(_bad_salts)
    elif fault == 2:
        entries[i] = entries[i][:-1] if rnd.random() < 0.5 else [*entries[i], 0]
    elif fault == 3:
        entries.append(copy.deepcopy(entries[i]))
    elif fault == 4 and obj["kind"] == "redacted":
        entries[i][2] = rnd.choice([{"x": 1}, [1], {}, []])
    elif fault == 5:
        entries[i] = tuple(entries[i]) if rnd.random() < 0.5 else "entry"


@settings(max_examples=400, deadline=None)
@given(_records, st.randoms(use_true_random=False), st.data())
def test_parse_view_matches_the_reference(
    record: dict[str, Any], rnd: random.Random, data: st.DataObject
) -> None:
    full = commit(record, salt_source=random.Random(rnd.random()).randbytes)
    for view in (full, redact(full, lambda p: rnd.random() < 0.6)):
        obj = copy.deepcopy(view.to_json())
        _plant(obj, rnd, data)
        assert _outcome(parse_view, obj) == _outcome(reference, obj)
