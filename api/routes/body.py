"""Request bodies: the one way a route reads JSON (docs/API.md §5).

Every JSON body, on every route, goes through ``ledger.core.canonical.parse_json``, the
strict parser that also reads submissions: size and depth are bounded before any
recursion runs, duplicate member names, numbers with a fraction or exponent, integers
beyond ±(2^53-1), NaN and lone surrogates are refused with the JSON path at fault. A
pydantic model then validates the parsed value in strict mode (no coercion: ``"1"`` is not
an integer, ``1.0`` never got this far). FastAPI's own body parsing (``json.loads``,
recursive, last duplicate wins) is never used.

The media type is checked first: a JSON route answers 415 to anything but
``application/json`` (a ``charset`` parameter, if given, must be UTF-8: RFC 8259 §8.1).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.problems import UnsupportedMediaTypeError
from ledger.core.canonical import json_path, parse_json
from ledger.core.errors import MalformedError

__all__ = [
    "MAX_SMALL_BODY_BYTES",
    "json_body",
    "no_body",
    "request_body_doc",
    "require_json",
    "validate_body",
]

M = TypeVar("M", bound=BaseModel)

#: Bodies of the small operations (attestations, revocations, principals): generous for a
#: principal with 1,000 grants, far below the body limit of the submission routes.
MAX_SMALL_BODY_BYTES = 256 * 1024
#: Nesting of the small bodies: their models are at most three levels deep.
MAX_SMALL_BODY_DEPTH = 8
JSON_MEDIA_TYPE = "application/json"


def require_json(request: Request) -> None:
    """415 unless the request says its body is ``application/json`` (UTF-8)."""
    header = request.headers.get("content-type")
    if header is None:
        raise UnsupportedMediaTypeError(
            f"the body must be {JSON_MEDIA_TYPE}; the request has no Content-Type"
        )
    media_type, *params = (part.strip() for part in header.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        raise UnsupportedMediaTypeError(
            f"the body must be {JSON_MEDIA_TYPE}, not {media_type[:80]!r}"
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise UnsupportedMediaTypeError(
                f"JSON is UTF-8 (RFC 8259 §8.1), not charset {value.strip()[:40]!r}"
            )


def validate_body(model: type[M], value: Any, *, strict: bool = True, root: str = "body") -> M:
    """``value`` (strictly parsed JSON) as ``model``, or ``MalformedError`` naming the path
    (under ``root``). ``strict=False`` lets pydantic read JSON strings as the dates and
    decimals a model declares (the JSON was parsed strictly all the same)."""
    try:
        return model.model_validate(value, strict=strict)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = json_path([p for p in first["loc"] if isinstance(p, str | int)], root)
        raise MalformedError(str(first["msg"]), path=path) from None


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency reading the request body as ``model`` (see the module docstring)."""

    async def read(request: Request) -> M:
        require_json(request)
        raw = await request.body()
        try:
            value = parse_json(
                raw, max_bytes=MAX_SMALL_BODY_BYTES, max_depth=MAX_SMALL_BODY_DEPTH, root="body"
            )
        except MalformedError as exc:
            if exc.path:
                raise
            raise MalformedError(exc.reason, path="body") from None
        return validate_body(model, value)

    read.__name__ = f"read_{model.__name__}"
    return read


async def no_body(request: Request) -> None:
    """A dependency for operations that take no body: one sent anyway is refused."""
    async for chunk in request.stream():
        if chunk:
            raise MalformedError("this operation takes no request body", path="body")


def request_body_doc(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extra`` publishing the body a ``json_body`` dependency reads."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {JSON_MEDIA_TYPE: {"schema": schema}},
        }
    }


def model_body_doc(
    model: type[BaseModel], description: str, *, inline: bool = False
) -> dict[str, Any]:
    """``request_body_doc`` of ``model``'s JSON Schema; with ``inline`` every
    ``#/$defs/X`` reference is replaced by X, so the schema stands alone in the OpenAPI
    document."""
    schema = model.model_json_schema()
    if inline:
        schema = _inlined(schema, schema.get("$defs", {}))
    return request_body_doc(schema, description)


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inlined(v, defs) for v in node]
    return node
