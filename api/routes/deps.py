"""Dependencies shared by the routes: the service object, the caller, page parameters."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

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


def known_query_only(request: Request) -> None:
    """422 for a query parameter the operation does not declare, or one given twice: a
    misspelt filter must not silently widen a query, and of two values none is "the" one
    (docs/API.md §5)."""
    declared, repeatable = _query_names(getattr(request.scope.get("route"), "dependant", None))
    seen: set[str] = set()
    for name, _value in request.query_params.multi_items():
        if name not in declared:
            shown = name if name.isprintable() and len(name) <= 40 else repr(name[:40])
            raise MalformedError(
                f"unknown query parameter {shown}; this operation takes "
                + (", ".join(sorted(declared)) or "none"),
                path=f"query.{shown}",
            )
        if name in seen and name not in repeatable:
            raise MalformedError("given more than once", path=f"query.{name}")
        seen.add(name)


def _query_names(dependant: Any) -> tuple[set[str], set[str]]:
    """The query parameters an operation declares (its dependencies' included), and those
    of them that are lists (``?id=a&id=b``)."""
    names: set[str] = set()
    lists: set[str] = set()
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        for param in current.query_params:
            names.add(param.alias)
            if _is_sequence(getattr(param.field_info, "annotation", None)):
                lists.add(param.alias)
        pending.extend(current.dependencies)
    return names, lists


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_is_sequence(arg) for arg in get_args(annotation))
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    return origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set)
