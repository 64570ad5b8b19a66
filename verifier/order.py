"""One bundle, one byte string (docs/FORMAT.md §6): the orders a bundle's JSON cannot fix.

RFC 8785 fixes the order of object members, but not of arrays. A full view's salts, a
redacted view's disclosures and its hidden field hashes are arrays whose order carries
no meaning, so the format fixes one (docs/FORMAT.md §2.3): salts and disclosures in
canonical pair order, hidden field hashes ascending. And a record appears at most once in
a bundle, item or closure. Anything else could re-order or repeat without changing what
the bundle proves, and two byte strings would carry one bundle: the verifier refuses it
as unreadable (exit 2), naming the place.

Kept apart from ``ledger.core.bundle`` (the parser) so that the parser stays a parser and
this rule reads in one place; the exporter produces these orders by construction.
"""

from __future__ import annotations

from ledger.core.bundle import Bundle, BundleItem
from ledger.core.commitment import FieldPath, path_sort_key
from ledger.core.errors import MalformedError
from ledger.core.view import Commitment

__all__ = ["check_canonical_order"]


def _first_out_of_order(paths: list[FieldPath]) -> int | None:
    keys = [path_sort_key(p) for p in paths]
    for i in range(1, len(keys)):
        if keys[i] <= keys[i - 1]:
            return i
    return None


def _check_view(item: BundleItem, where: str) -> None:
    view = item.view
    if isinstance(view, Commitment):
        at = _first_out_of_order(list(view.salts))
        if at is not None:
            raise MalformedError(
                "salts are not in canonical pair order (docs/FORMAT.md §2.3)",
                path=f"{where}.view.salts[{at}]",
            )
        return
    at = _first_out_of_order([d.path for d in view.disclosures])
    if at is not None:
        raise MalformedError(
            "disclosures are not in canonical pair order (docs/FORMAT.md §2.3)",
            path=f"{where}.view.disclosures[{at}]",
        )
    for i in range(1, len(view.hidden)):
        if view.hidden[i] <= view.hidden[i - 1]:
            raise MalformedError(
                "hidden field hashes are not in ascending order, each once (docs/FORMAT.md §2.3)",
                path=f"{where}.view.hidden[{i}]",
            )


def check_canonical_order(bundle: Bundle) -> None:
    """Raise ``MalformedError`` naming the first place where ``bundle`` departs from the
    documented order, or holds a record (a digest) twice."""
    seen: dict[bytes, str] = {}
    for group, items in (("items", bundle.items), ("closure", bundle.closure)):
        for i, item in enumerate(items):
            where = f"bundle.{group}[{i}]"
            _check_view(item, where)
            first = seen.get(item.digest)
            if first is not None:
                raise MalformedError(
                    f"record {item.digest.hex()} is already in the bundle as {first}: a "
                    "record appears once per bundle",
                    path=f"{where}.digest",
                )
            seen[item.digest] = where
