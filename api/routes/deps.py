"""Dependencies shared by the routes: the service object, the caller, page parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from api.auth import Caller, current_caller
from api.service import ApiService

#: Page sizes (docs/API.md §5): larger than MAX_LIMIT is refused with 422, not clamped, so
#: a client never mistakes a short page for the end.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR = 2**63 - 1


def get_api(request: Request) -> ApiService:
    api: ApiService = request.app.state.api
    return api


Api = Annotated[ApiService, Depends(get_api)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")]
After = Annotated[int, Query(ge=0, le=MAX_CURSOR, description="cursor: next_after of a page")]
RecordId = Annotated[
    str, Query(min_length=1, max_length=200, description="record id (a URN; may contain '/')")
]
Subject = Annotated[str, Query(min_length=1, max_length=400, description="equipment/enterprise id")]

#: ``openapi_extra`` of operations anonymous callers may use too (they get the public view):
#: OpenAPI 3.1 §4.8.10 — an empty requirement makes authentication optional.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"HTTPBearer": []}]}
