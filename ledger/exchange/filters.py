"""The ListFootprints filters (docs/PACT.md §5.2), from a query string or a RequestCreated
event's ``data``.

Within one criterion the values are OR-ed, across criteria AND-ed. Identifiers, geography
and status match case-insensitively (values are kept case-folded here). Dates are RFC 3339
date-times with an offset: ``validOn`` matches start <= validOn <= end, ``validAfter``
start > validAfter, ``validBefore`` end < validBefore. An unknown parameter is refused
(the ODataV4 ``$filter`` of PACT v2 among them) rather than ignored, so a misspelt or
unsupported filter never silently widens a result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.core.errors import MalformedError

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "FilterError",
    "FootprintFilter",
    "Page",
    "UnsupportedFilterError",
    "filter_from_event",
    "parse_date_time",
    "parse_query",
]

DEFAULT_PAGE = 50
#: A larger ``limit`` is served as this many, with a ``next`` link (PACT: the host MAY
#: return fewer footprints than asked for).
MAX_PAGE = 200
MAX_VALUES = 100
MAX_VALUE_CHARS = 500
_LIST = {
    "productid": "product_ids",
    "companyid": "company_ids",
    "geography": "geographies",
    "classification": "classifications",
}
_DATES = {"validon": "valid_on", "validafter": "valid_after", "validbefore": "valid_before"}
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


class FilterError(MalformedError):
    """A filter value or parameter that cannot be read (PACT ``BadRequest``)."""


class UnsupportedFilterError(FilterError):
    """A well-formed filter extension (``x-...``) this host does not implement."""


@dataclass(frozen=True)
class FootprintFilter:
    """Every criterion as case-folded values; an empty tuple or None is no criterion."""

    product_ids: tuple[str, ...] = ()
    company_ids: tuple[str, ...] = ()
    geographies: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    valid_on: datetime | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    status: str | None = None

    def is_empty(self) -> bool:
        return self == FootprintFilter()


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def parse_date_time(text: str, path: str) -> datetime:
    """An RFC 3339 date-time with an offset, as aware UTC."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise FilterError(
            f"expected an RFC 3339 date-time like 2025-01-01T00:00:00Z, got {text[:60]!r}",
            path=path,
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or ".0")[1:7].ljust(6, "0"))
    zone = m.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
        if zone not in ("Z", "z"):
            sign = 1 if zone[0] == "+" else -1
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            moment -= sign * timedelta(hours=hours, minutes=minutes)
    except (ValueError, OverflowError) as exc:
        raise FilterError(f"not a valid date-time {text[:60]!r}: {exc}", path=path) from None
    return moment


def _value(text: Any, path: str) -> str:
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_VALUE_CHARS:
        raise FilterError(f"expected a string of 1 to {MAX_VALUE_CHARS} characters", path=path)
    if not text.isprintable():
        raise FilterError("expected printable characters", path=path)
    return text


def _build(
    lists: Mapping[str, list[str]], singles: Mapping[str, tuple[str, str]], prefix: str
) -> FootprintFilter:
    """The filter of parsed parameters; ``singles`` maps a case-folded name to the name as
    written (for error paths) and its value."""
    fields: dict[str, Any] = {}
    for key, attr in _LIST.items():
        values = lists.get(key, [])
        if len(values) > MAX_VALUES:
            raise FilterError(f"at most {MAX_VALUES} values", path=f"{prefix}{key}")
        fields[attr] = tuple(dict.fromkeys(v.casefold() for v in values))
    for key, attr in _DATES.items():
        if key in singles:
            written, value = singles[key]
            fields[attr] = parse_date_time(value, f"{prefix}{written}")
    if "status" in singles:
        fields["status"] = singles["status"][1].casefold()
    return FootprintFilter(**fields)


def parse_query(pairs: Iterable[tuple[str, str]]) -> tuple[FootprintFilter, Page]:
    """The filter and page of a ListFootprints query string (names case-insensitive)."""
    lists: dict[str, list[str]] = {}
    singles: dict[str, tuple[str, str]] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.casefold()
        path = f"query.{raw_name[:40]}"
        value = _value(raw_value, path)
        if name in _LIST:
            lists.setdefault(name, []).append(value)
        elif name in _DATES or name in ("status", "limit", "offset"):
            if name in singles:
                raise FilterError("given more than once", path=path)
            singles[name] = (raw_name[:40], value)
        elif name.startswith("x-"):
            raise UnsupportedFilterError(
                f"filter extension {raw_name[:40]!r} is not implemented by this host", path=path
            )
        else:
            raise FilterError(
                f"unknown parameter {raw_name[:40]!r}; this host filters by productId, "
                "companyId, geography, classification, validOn, validAfter, validBefore and "
                "status (the ODataV4 $filter of PACT v2 is not supported)",
                path=path,
            )
    offset = singles.get("offset", ("offset", "0"))
    limit = singles.get("limit", ("limit", str(DEFAULT_PAGE)))
    page = Page(
        offset=_count(offset[1], f"query.{offset[0]}", 0, 2**62),
        limit=min(_count(limit[1], f"query.{limit[0]}", 0, 2**62), MAX_PAGE),
    )
    return _build(lists, singles, "query."), page


def _count(text: str, path: str, lo: int, hi: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not lo <= int(text) <= hi:
        raise FilterError(f"expected a non-negative integer, got {text[:40]!r}", path=path)
    return int(text)


def filter_from_event(data: Mapping[str, Any]) -> FootprintFilter:
    """The criteria of a RequestCreated event's ``data`` (same filters as ListFootprints)."""
    lists: dict[str, list[str]] = {}
    singles: dict[str, tuple[str, str]] = {}
    names = {**{k: k for k in _LIST}, **{k: k for k in _DATES}, "status": "status"}
    for key, value in data.items():
        name = key.casefold()
        path = f"data.{key[:40]}"
        if name == "comment":
            continue
        if name not in names:
            raise FilterError(f"unknown criterion {key[:40]!r}", path=path)
        if name in _LIST:
            items = value if isinstance(value, list) else None
            if items is None:
                raise FilterError("expected an array of strings", path=path)
            lists[name] = [_value(v, f"{path}[{i}]") for i, v in enumerate(items)]
        else:
            singles[name] = (key[:40], _value(value, path))
    return _build(lists, singles, "data.")
