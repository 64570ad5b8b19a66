"""CloudEvents of the PACT events endpoint (docs/PACT.md §6): CloudEvents 1.0 in
structured content mode (``application/cloudevents+json``), with PACT v3's event types.

:func:`parse_event` reads one event from the request body through the strict JSON parser
and checks the CloudEvents attributes (``specversion`` 1.0, non-empty ``id``, ``source`` and
``type``, an RFC 3339 ``time``, extension attribute names of lower-case letters and digits)
and the ``data`` of each PACT type. :func:`make_event` builds the events this host sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.errors import MalformedError
from ledger.exchange.filters import FootprintFilter, filter_from_event, parse_date_time

__all__ = [
    "CLOUDEVENTS_MEDIA_TYPE",
    "FULFILLED",
    "MAX_EVENT_BYTES",
    "PUBLISHED",
    "REJECTED",
    "REQUEST_CREATED",
    "CloudEvent",
    "EventError",
    "UnsupportedEventError",
    "make_event",
    "parse_event",
]

CLOUDEVENTS_MEDIA_TYPE = "application/cloudevents+json"
_PREFIX = "org.wbcsd.pact.ProductFootprint."
REQUEST_CREATED = _PREFIX + "RequestCreatedEvent.3"
FULFILLED = _PREFIX + "RequestFulfilledEvent.3"
REJECTED = _PREFIX + "RequestRejectedEvent.3"
PUBLISHED = _PREFIX + "PublishedEvent.3"
PACT_TYPES = (REQUEST_CREATED, FULFILLED, REJECTED, PUBLISHED)
#: PACT v2's event types: refused as another version of the protocol.
_V2_PREFIX = "org.wbcsd.pathfinder."
MAX_EVENT_BYTES = 4 * 1024 * 1024
MAX_ATTRIBUTE_CHARS = 1000
_REQUIRED = ("specversion", "id", "source", "type", "time", "data")
_KNOWN = (*_REQUIRED, "datacontenttype", "dataschema", "subject")
# CloudEvents 1.0 §3.1.1: attribute names are lower-case ASCII letters and digits.
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_ERROR_CODES = (
    "BadRequest",
    "AccessDenied",
    "TokenExpired",
    "NotFound",
    "InternalError",
    "NotImplemented",
)


class EventError(MalformedError):
    """A CloudEvent that cannot be accepted (PACT ``BadRequest``)."""


class UnsupportedEventError(EventError):
    """A well-formed event of a type or protocol version this host does not take."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: datetime
    data: Mapping[str, Any]
    #: The criteria of a RequestCreated event (None for the other types).
    criteria: FootprintFilter | None = None


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise EventError("expected a non-empty string", path=path)
    if len(value) > MAX_ATTRIBUTE_CHARS or not value.isprintable():
        raise EventError(f"expected at most {MAX_ATTRIBUTE_CHARS} printable characters", path=path)
    return value


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise EventError("expected an object", path=path)
    return value


def _string_list(value: Any, path: str, *, min_items: int) -> list[str]:
    if not isinstance(value, list) or len(value) < min_items:
        raise EventError(f"expected an array of at least {min_items} string(s)", path=path)
    return [_string(v, f"{path}[{i}]") for i, v in enumerate(value)]


def parse_event(body: bytes) -> CloudEvent:
    """One PACT v3 CloudEvent from a structured-mode JSON body; raises ``EventError`` with
    the JSON path of the first fault."""
    if len(body) > MAX_EVENT_BYTES:
        raise EventError(f"an event is at most {MAX_EVENT_BYTES} bytes")
    value = parse_json(body, root="event", max_bytes=MAX_EVENT_BYTES)
    event = _object(value, "event")
    for name in event:
        if not _ATTRIBUTE_NAME.fullmatch(name):
            raise EventError("not a CloudEvents attribute name", path=f"event.{name[:40]!r}")
    for name in _REQUIRED:
        if name not in event:
            raise EventError("missing required attribute", path=f"event.{name}")
    if event["specversion"] != "1.0":
        raise UnsupportedEventError(
            "only CloudEvents specversion 1.0 is supported", path="event.specversion"
        )
    event_id = _string(event["id"], "event.id")
    source = _string(event["source"], "event.source")
    event_type = _string(event["type"], "event.type")
    time = parse_date_time(_string(event["time"], "event.time"), "event.time")
    for name in ("datacontenttype", "dataschema", "subject"):
        if name in event:
            _string(event[name], f"event.{name}")
    if "datacontenttype" in event and event["datacontenttype"].split(";")[0].strip() not in (
        "application/json",
    ):
        raise EventError("data must be application/json", path="event.datacontenttype")
    data = _object(event["data"], "event.data")
    criteria = None
    if event_type == REQUEST_CREATED:
        criteria = filter_from_event(data)
    elif event_type == FULFILLED:
        _string(data.get("requestEventId"), "event.data.requestEventId")
        pfs = data.get("pfs")
        if not isinstance(pfs, list) or not pfs:
            raise EventError("expected a non-empty array of footprints", path="event.data.pfs")
        for i, pf in enumerate(pfs):
            _object(pf, f"event.data.pfs[{i}]")
    elif event_type == REJECTED:
        _string(data.get("requestEventId"), "event.data.requestEventId")
        error = _object(data.get("error"), "event.data.error")
        if error.get("code") not in _ERROR_CODES:
            raise EventError(
                f"expected one of {', '.join(_ERROR_CODES)}", path="event.data.error.code"
            )
        _string(error.get("message"), "event.data.error.message")
    elif event_type == PUBLISHED:
        _string_list(data.get("pfIds"), "event.data.pfIds", min_items=1)
    elif event_type.startswith(_V2_PREFIX):
        raise UnsupportedEventError(
            f"{event_type[:100]!r} is a PACT v2 event; this host speaks PACT v3 "
            f"({', '.join(PACT_TYPES)})",
            path="event.type",
        )
    else:
        raise UnsupportedEventError(
            f"unknown event type {event_type[:100]!r}; expected one of {', '.join(PACT_TYPES)}",
            path="event.type",
        )
    return CloudEvent(event_id, source, event_type, time, data, criteria)


def make_event(
    event_type: str, *, event_id: str, source: str, time: datetime, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A CloudEvent this host sends, as JSON-ready data."""
    return {
        "type": event_type,
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "time": format_timestamp(time.replace(microsecond=0)),
        "datacontenttype": "application/json",
        "data": dict(data),
    }
