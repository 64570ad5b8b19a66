"""The one table from errors to RFC 9457 problem details (docs/API.md §4).

Every error response of the API is ``application/problem+json`` built here:

=======================================  ======  ====================================
error                                    status  notes
=======================================  ======  ====================================
MalformedError (and request validation)  422     ``path`` names the offending value; a
                                                 figure refused at acceptance adds
                                                 ``stated`` and ``recomputed``
AuthenticationError                      401     ``WWW-Authenticate: Bearer``
ForbiddenError                           403     role may not call this operation
NotFoundError                            404
ConflictError                            409     e.g. "not yet anchored", key in flight
PayloadTooLargeError                     413     body over the limit (middleware)
UnsupportedMediaTypeError                415     a JSON route got another media type
UnavailableError                         503     ``Retry-After`` in whole seconds
anything else                            500     a correlation id, no internals
=======================================  ======  ====================================

No message of a 500 leaves the process: the response carries only a random correlation
id, which the log line carrying the exception also carries. Messages of 4xx errors are our
own (LedgerError messages name paths, never SQL or stack frames).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.logs import current_request_id
from ledger.core.errors import (
    ConflictError,
    LedgerError,
    MalformedError,
    NotFoundError,
    UnavailableError,
)
from ledger.exchange.cloudevents import UnsupportedEventError
from ledger.exchange.filters import UnsupportedFilterError
from ledger.service.exportlock import ExportLockedError

log = logging.getLogger("carbonledger.api")

PROBLEM_TYPE = "application/problem+json"
_TYPE_BASE = "https://carbonledger.dev/problems/"
DEFAULT_RETRY_AFTER_S = 5


class AuthenticationError(LedgerError):
    """No or an unknown API key on an operation that needs one."""


class ForbiddenError(LedgerError):
    """The caller's role may not call this operation."""


class PayloadTooLargeError(LedgerError):
    """The request body exceeds the configured limit."""


class UnsupportedMediaTypeError(LedgerError):
    """A JSON operation got a body of another media type (RFC 9110 §15.5.16)."""


class HttpsRequiredError(LedgerError):
    """A PACT operation reached over plain HTTP: PACT hosts serve HTTPS only."""


class NotImplementedByHostError(LedgerError):
    """A PACT feature or protocol version this host does not implement."""


class InvalidTokenError(LedgerError):
    """A PACT bearer token that is malformed, forged, or of another issuer or audience."""


class TokenExpiredError(InvalidTokenError):
    """A genuine PACT token whose lifetime is over."""


# (error class, status, problem slug, title) — the first matching row wins, so subclasses
# come before their bases.
PROBLEM_TABLE: tuple[tuple[type[LedgerError], int, str, str], ...] = (
    (MalformedError, 422, "malformed", "The request is malformed"),
    (AuthenticationError, 401, "unauthenticated", "Authentication required"),
    (ForbiddenError, 403, "forbidden", "Not allowed for this role"),
    (NotFoundError, 404, "not-found", "Not found"),
    (ConflictError, 409, "conflict", "Conflict with the stored state"),
    (PayloadTooLargeError, 413, "too-large", "Request body too large"),
    (UnsupportedMediaTypeError, 415, "unsupported-media-type", "Unsupported media type"),
    (UnavailableError, 503, "unavailable", "A dependency is unavailable; retry later"),
)


# The PACT API (docs/PACT.md §9) answers its own error object, ``{"code", "message"}``, with
# the status its error code table fixes: (error class, status, PACT code), first match wins.
PACT_ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (TokenExpiredError, 401, "TokenExpired"),
    (InvalidTokenError, 401, "BadRequest"),
    (AuthenticationError, 401, "BadRequest"),
    (HttpsRequiredError, 400, "BadRequest"),
    (NotImplementedByHostError, 400, "NotImplemented"),
    (UnsupportedFilterError, 400, "NotImplemented"),
    (UnsupportedEventError, 400, "NotImplemented"),
    (MalformedError, 400, "BadRequest"),
    (ExportLockedError, 403, "AccessDenied"),
    (ForbiddenError, 403, "AccessDenied"),
    (NotFoundError, 404, "NotFound"),
    (ConflictError, 400, "BadRequest"),
    (UnavailableError, 503, "InternalError"),
)


def pact_error_for(exc: BaseException) -> Response:
    """The PACT error response for any exception (a 500 carries no internals)."""
    for cls, status, code in PACT_ERROR_TABLE:
        if isinstance(exc, cls) and isinstance(exc, LedgerError):
            headers: dict[str, str] = {}
            if status == 401:
                error = "invalid_token" if code in ("TokenExpired", "BadRequest") else ""
                headers["WWW-Authenticate"] = (
                    f'Bearer realm="carbonledger", error="{error}"'
                    if not isinstance(exc, AuthenticationError)
                    else 'Bearer realm="carbonledger"'
                )
            if isinstance(exc, UnavailableError):
                retry = exc.retry_after_s or DEFAULT_RETRY_AFTER_S
                headers["Retry-After"] = str(max(1, math.ceil(retry)))
            return pact_error(status, code, exc.message, headers=headers)
    correlation_id = secrets.token_hex(8)
    log.error("internal error %s", correlation_id, exc_info=exc)
    return pact_error(
        500,
        "InternalError",
        f"An internal error occurred; quote the correlation id {correlation_id}",
    )


def pact_error(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode("utf-8")
    return Response(
        body, status_code=status, media_type="application/json", headers=dict(headers or {})
    )


def problem_response(
    status: int,
    slug: str,
    title: str,
    *,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": _TYPE_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra or {})
    return Response(
        json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=dict(headers or {}),
    )


def problem_slug(exc: BaseException) -> str:
    """The problem slug of ``exc`` (the ``rejected`` metric's reason label)."""
    for cls, _status, slug, _title in PROBLEM_TABLE:
        if isinstance(exc, cls):
            return slug
    return "internal"


def problem_for(exc: BaseException) -> Response:
    """The response for any exception, through ``PROBLEM_TABLE``."""
    for cls, status, slug, title in PROBLEM_TABLE:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            headers: dict[str, str] = {}
            if isinstance(exc, MalformedError) and exc.path:
                extra["path"] = exc.path
            for name in ("anchor_by", "record_id", "existing_record_id"):
                value = getattr(exc, name, None)
                if isinstance(value, str):
                    extra[name] = value
            # A refusal inside a bulk names the submission's place (docs/SUBMISSION.md §5).
            index = getattr(exc, "index", None)
            if isinstance(index, int) and not isinstance(index, bool):
                extra["index"] = index
            # A figure refused at acceptance carries both values (docs/API.md §4).
            for name in ("stated", "recomputed"):
                if hasattr(exc, name):
                    extra[name] = _json_value(getattr(exc, name))
            if isinstance(exc, UnavailableError):
                retry = exc.retry_after_s or DEFAULT_RETRY_AFTER_S
                headers["Retry-After"] = str(max(1, math.ceil(retry)))
            if isinstance(exc, AuthenticationError):
                headers["WWW-Authenticate"] = 'Bearer realm="carbonledger"'
            return problem_response(
                status, slug, title, detail=exc.message, extra=extra, headers=headers
            )
    # The request id (api.middleware), so the client's id, the access log line and the
    # exception's log record all carry the same value.
    correlation_id = current_request_id() or secrets.token_hex(8)
    log.error("internal error %s", correlation_id, exc_info=exc)
    return problem_response(
        500,
        "internal",
        "Internal error",
        detail="the error was logged; quote the correlation id",
        extra={"correlation_id": correlation_id},
    )


def _json_value(value: Any) -> Any:
    """A value as it may appear in a problem document: JSON scalars as they are."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _validation_problem(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    first = errors[0] if errors else {}
    path = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid request"))
    return problem_response(
        422, "malformed", "The request is malformed", detail=message, extra={"path": path}
    )


def _http_problem(exc: StarletteHTTPException) -> Response:
    # Errors of the framework itself: an unparsable JSON body (FastAPI answers 400) is
    # malformed input like any other, so it is 422 here; unknown path, wrong method.
    if exc.status_code == 400:
        return problem_response(
            422, "malformed", "The request is malformed", detail="the body is not valid JSON"
        )
    titles = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed")}
    slug, title = titles.get(exc.status_code, ("http-error", "HTTP error"))
    headers = dict(exc.headers or {})
    return problem_response(exc.status_code, slug, title, headers=headers)


def prefers_html(request: Request) -> bool:
    """Whether the client asked for a page: a path outside the versioned API whose
    ``Accept`` header ranks ``text/html`` above JSON (RFC 9110 §12.5.1). A browser does;
    curl (``*/*``) and API clients do not, and keep problem+json."""
    path = request.url.path
    if path == "/v1" or path.startswith("/v1/"):
        return False
    ranks: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(",")[:32]:
        media, *params = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranks[media] = max(quality, ranks.get(media, 0.0))

    def rank(media: str) -> float:
        kind = media.split("/")[0]
        return ranks.get(media, ranks.get(f"{kind}/*", ranks.get("*/*", 0.0)))

    html = rank("text/html")
    return html > 0 and html > max(rank("application/json"), rank(PROBLEM_TYPE))


def install_problem_handlers(app: FastAPI) -> None:
    async def on_ledger(_request: Request, exc: Exception) -> Response:
        return problem_for(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        if isinstance(exc, RequestValidationError):
            return _validation_problem(exc)
        return problem_for(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException):
            # An unknown page or method asked for by a browser: the pages' own error page
            # in the reader's language (``api.pages``, which puts itself on app.state).
            pages = getattr(request.app.state, "pages", None)
            if exc.status_code in (404, 405) and pages is not None and prefers_html(request):
                page: Response = await pages.status_page(
                    request, exc.status_code, headers=exc.headers
                )
                return page
            return _http_problem(exc)
        return problem_for(exc)

    app.add_exception_handler(LedgerError, on_ledger)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
