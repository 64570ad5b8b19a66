"""Evidence bundles (``carbonledger-bundle/1``) in the caller's view.

A record not yet anchored cannot be proven: its bundle answers 409 with the receipt's
``anchor_by``. Trail and query bundles leave such records out: ``Carbonledger-Pending-Count``
always counts them, and ``Carbonledger-Pending`` names them while they are few (at most
``MAX_PENDING_IDS``), each id percent-encoded (RFC 3986 §2.1) so that a comma, a space or
a non-ASCII character in an id cannot break the comma-separated list (RFC 9110 §5.6.1).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.auth import Caller
from api.routes.caching import cached_response
from api.routes.deps import (
    DEFAULT_LIMIT,
    OPTIONAL_AUTH,
    After,
    Api,
    CurrentCaller,
    RecordId,
    Subject,
)
from api.routes.schemas import RecordType, problems
from ledger.service.export import MAX_BUNDLE_ITEMS, ExportResult
from ledger.service.limits import MAX_ID_CHARS, MAX_PRODUCER_CHARS, MAX_SUBJECT_CHARS

router = APIRouter(tags=["bundles"])

#: A bundle's size cap is the bundle format's item limit, not the listing page cap
#: (docs/API.md §5): larger values are refused with 422, not clamped.
BundleLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_BUNDLE_ITEMS,
        description=f"records in the bundle, at most {MAX_BUNDLE_ITEMS}",
    ),
]

#: The region a bundle is exported into: checked against the export locks.
ForRegion = Annotated[
    str | None,
    Query(min_length=1, max_length=16, description="target region (export lock checked)"),
]

_BUNDLE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the bundle's canonical bytes (RFC 8785), docs/FORMAT.md §6",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


#: Record ids one query bundle may name (``?id=``); a request line stays below 16 KiB.
MAX_BUNDLE_IDS = 100
#: Pending ids named in ``Carbonledger-Pending``; above this only the count is sent, so
#: the header stays far below common header-size limits (ids are at most 200 characters).
MAX_PENDING_IDS = 20
#: Characters of a URN or Handle id that stay as they are; everything else, the comma
#: included, is percent-encoded.
_ID_SAFE = ":/@!$&'()*+;=-._~"


def pending_header(pending: tuple[str, ...]) -> dict[str, str]:
    """The pending headers of a bundle answer (docs/API.md §3.4)."""
    headers = {"Carbonledger-Pending-Count": str(len(pending))}
    if 0 < len(pending) <= MAX_PENDING_IDS:
        headers["Carbonledger-Pending"] = ",".join(quote(i, safe=_ID_SAFE) for i in pending)
    return headers


def _reply(
    request: Request, caller: Caller, data: bytes, result: ExportResult, *, immutable: bool
) -> Response:
    headers = pending_header(result.pending)
    return cached_response(request, caller, data, immutable=immutable, headers=headers)


@router.get(
    "/record/bundle",
    operation_id="get_record_bundle",
    openapi_extra=OPTIONAL_AUTH,
    response_class=Response,
    responses={**_BUNDLE, **problems(401, 404, 409, 503)},
)
def record_bundle(request: Request, api: Api, caller: CurrentCaller, id: RecordId) -> Response:
    """The bundle of one anchored record with its closure (``immutable``)."""
    return _reply(request, caller, *api.bundle_record(caller, id), immutable=True)


@router.get(
    "/trail/bundle",
    operation_id="get_trail_bundle",
    openapi_extra=OPTIONAL_AUTH,
    response_class=Response,
    responses={**_BUNDLE, **problems(401, 404, 409, 503)},
)
def trail_bundle(
    request: Request,
    api: Api,
    caller: CurrentCaller,
    subject: Subject,
    after: After = 0,
    limit: BundleLimit = DEFAULT_LIMIT,
    region: ForRegion = None,
) -> Response:
    """The bundle of a subject's anchored records (a page of them) with their closure;
    for a ``region``, refused with 409 while the subject is red-locked for it."""
    data, result = api.bundle_query(
        caller,
        subject=subject,
        record_type=None,
        producer=None,
        after=after,
        limit=limit,
        region=region,
    )
    return _reply(request, caller, data, result, immutable=False)


@router.get(
    "/bundles",
    operation_id="query_bundle",
    openapi_extra=OPTIONAL_AUTH,
    response_class=Response,
    responses={**_BUNDLE, **problems(401, 404, 409, 503)},
)
def query_bundle(
    request: Request,
    api: Api,
    caller: CurrentCaller,
    id: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=MAX_ID_CHARS)]] | None,
        Query(
            max_length=MAX_BUNDLE_IDS,
            description=f"record ids (repeat, at most {MAX_BUNDLE_IDS}): exactly these records",
        ),
    ] = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=MAX_SUBJECT_CHARS)] = None,
    type: Annotated[RecordType | None, Query()] = None,
    producer: Annotated[str | None, Query(min_length=1, max_length=MAX_PRODUCER_CHARS)] = None,
    after: After = 0,
    limit: BundleLimit = DEFAULT_LIMIT,
    region: ForRegion = None,
) -> Response:
    """The bundle of the anchored records matching every given filter; for a ``region``
    (with a ``subject``), refused with 409 while the subject is red-locked for it."""
    data, result = api.bundle_query(
        caller,
        subject=subject,
        record_type=type,
        producer=producer,
        after=after,
        limit=limit,
        record_ids=tuple(id) if id else None,
        region=region,
    )
    return _reply(request, caller, data, result, immutable=False)
