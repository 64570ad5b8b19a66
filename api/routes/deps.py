"""Dependencies shared by the routes: the service object, the caller, page parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from api.auth import Caller, current_caller
from api.service import ApiService
from ledger.core.errors import MalformedError
from ledger.service.limits import (
    DEFAULT_PAGE,
    MAX_CURSOR,
    MAX_ID_CHARS,
    MAX_PAGE,
    MAX_SUBJECT_CHARS,
)

#: The page size of a listing when the caller names none (docs/API.md §5).
DEFAULT_LIMIT = DEFAULT_PAGE


def declared_query_only(request: Request) -> None:
    """Refuse a query parameter the operation does not declare (422, naming it), so that a
    misspelt filter is an error rather than a silently wider answer."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = {p.alias for p in _query_params(dependant)}
    for name in request.query_params:
        if name not in declared:
            raise MalformedError("not a parameter of this operation", path=name or "(empty)")


def _query_params(dependant: Any) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found


def get_api(request: Request) -> ApiService:
    api: ApiService = request.app.state.api
    return api


Api = Annotated[ApiService, Depends(get_api)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
After = Annotated[int, Query(ge=0, le=MAX_CURSOR, description="cursor: next_after of a page")]
RecordId = Annotated[
    str,
    Query(min_length=1, max_length=MAX_ID_CHARS, description="record id (a URN; may contain '/')"),
]
Subject = Annotated[
    str, Query(min_length=1, max_length=MAX_SUBJECT_CHARS, description="equipment/enterprise id")
]

#: ``openapi_extra`` of operations anonymous callers may use too (they get the public view):
#: OpenAPI 3.1 §4.8.10 — an empty requirement makes authentication optional.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"HTTPBearer": []}]}
