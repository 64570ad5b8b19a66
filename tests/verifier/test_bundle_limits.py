"""The bundle format's raised limits (docs/FORMAT.md §6): more than the first version's
10,000 items read (a bundle of 10,001 items was refused before), the canonical form is
still required of every item (compared one item at a time), and the byte limit is the
documented one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import MAX_BUNDLE_BYTES, MAX_ITEMS, parse_bundle
from ledger.core.canonical import canonicalize
from ledger.core.errors import MalformedError

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "bundle" / "valid_bundle.json"


def _many(n: int) -> dict[str, Any]:
    """The valid vector's bundle with its first item n times (the format does not forbid
    a repeated item; the verifier refuses it, docs/FORMAT.md §6)."""
    bundle = dict(json.loads(VECTOR.read_text("utf-8"))["bundle"])
    del bundle["receipts"], bundle["service"]
    bundle["items"] = [bundle["items"][0]] * n
    return bundle


def test_the_limits_are_the_documented_ones() -> None:
    assert (MAX_ITEMS, MAX_BUNDLE_BYTES) == (100_000, 512 << 20)


@pytest.mark.slow
def test_more_items_than_the_first_version_allowed_read() -> None:
    data = canonicalize(_many(10_001))
    assert len(parse_bundle(data, require_canonical=True).items) == 10_001


def test_non_canonical_bytes_of_a_later_item_are_refused() -> None:
    """The piecewise comparison reaches the last item: its members re-spaced are refused,
    and so are bytes after the bundle."""
    data = canonicalize(_many(3))
    last = data.rindex(b'"batch_seq":')
    spaced = data[:last] + b'"batch_seq": ' + data[last + len(b'"batch_seq":') :]
    for bad in (spaced, data + b" "):
        with pytest.raises(MalformedError) as raised:
            parse_bundle(bad, require_canonical=True)
        assert raised.value.path == "bundle"
    assert len(parse_bundle(data, require_canonical=True).items) == 3
