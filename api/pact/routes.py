"""Routes of the PACT API (docs/PACT.md §2–§6).

Every route runs through :class:`PactRoute`, which turns any error into PACT's error object
(``api.problems.pact_error_for``), and first refuses plain HTTP: PACT hosts offer their
actions under HTTPS only, so a request that did not arrive over TLS (as the server, or a
trusted proxy, reports its scheme) gets an error and never a token or data.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse, Response

from api.auth import Caller
from api.pact.tokens import TokenIssuer
from api.problems import (
    AuthenticationError,
    HttpsRequiredError,
    InvalidTokenError,
    NotImplementedByHostError,
    pact_error_for,
)
from ledger.core.errors import LedgerError, MalformedError
from ledger.exchange.cloudevents import CLOUDEVENTS_MEDIA_TYPE, REQUEST_CREATED, parse_event
from ledger.exchange.filters import DEFAULT_PAGE, parse_query
from ledger.exchange.footprint import EXTENSION_DATA_SCHEMA_PATH
from ledger.service.exchange import PactService, owner_of
from ledger.store import access as access_store

__all__ = ["PactApi", "PactRoute", "pact_router"]

#: Largest token request body (a form of two or four short fields).
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class PactApi:
    """What the PACT routes use: the service and the token issuer."""

    service: PactService
    tokens: TokenIssuer
    extension_schema: bytes


class PactRoute(APIRoute):
    """An APIRoute whose errors come out as PACT error objects."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return pact_error_for(
                    MalformedError(str(first.get("msg", "bad request")), path=where)
                )
            except LedgerError as exc:
                return pact_error_for(exc)

        return run


def _pact(request: Request) -> PactApi:
    pact: PactApi | None = getattr(request.app.state, "pact", None)
    if pact is None:
        raise NotImplementedByHostError("this instance does not serve the PACT API")
    return pact


def require_https(request: Request) -> None:
    if request.url.scheme != "https":
        raise HttpsRequiredError("PACT actions are served over HTTPS only; use https://")


def base_url(request: Request) -> str:
    """scheme://host[:port] as the client addressed us (its Host header)."""
    return str(request.base_url).rstrip("/")


def pact_caller(request: Request) -> Caller:
    """The principal named by a PACT bearer token (401 otherwise)."""
    require_https(request)
    header = request.headers.get("authorization")
    if header is None:
        raise AuthenticationError("a bearer token from /auth/token is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("Invalid token provided")
    pact = _pact(request)
    subject = pact.tokens.verify(token.strip())
    api = request.app.state.api

    def load(session: Any) -> Caller | None:
        # At each use, like a page session: the API key the token was exchanged for is
        # still valid and the principal's, and the principal is not disabled.
        principal = access_store.live_key_principal(session, subject.key_id, subject.principal)
        return None if principal is None else Caller.of(principal, key_id=subject.key_id)

    caller: Caller | None = api.store.run(load, readonly=True)
    if caller is None:
        raise InvalidTokenError("Invalid token provided")
    return caller


PactCaller = Annotated[Caller, Depends(pact_caller)]


# -- the token endpoint ------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str, *, basic: bool = False) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="carbonledger"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _form(body: bytes) -> dict[str, str] | None:
    """An application/x-www-form-urlencoded body; None when a name repeats or it is not
    text (RFC 6749 §3.2: parameters must not be included more than once)."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    fields: dict[str, str] = {}
    for part in text.split("&") if text else []:
        name, _, value = part.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name in fields:
            return None
        fields[name] = value
    return fields


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both are form-urlencoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _issue(request: Request, fields: dict[str, str]) -> Response:
    header = request.headers.get("authorization")
    basic = header is not None
    if header is not None:
        credentials = _basic(header)
        if credentials is None or "client_secret" in fields:
            return _oauth_error(401, "invalid_client", "Client authentication failed", basic=True)
    elif "client_id" in fields and "client_secret" in fields:
        credentials = (fields["client_id"], fields["client_secret"])
    else:
        return _oauth_error(401, "invalid_client", "Client authentication failed", basic=True)
    if fields.get("grant_type") is None:
        return _oauth_error(400, "invalid_request", "grant_type is required")
    if fields["grant_type"] != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    client_id, secret = credentials
    api = request.app.state.api
    principal = api.authenticate(secret) if len(secret) <= 200 else None
    if principal is None or principal.name != client_id:
        return _oauth_error(401, "invalid_client", "Client authentication failed", basic=basic)
    if principal.key_id is None:  # authenticate() names the key it found
        return _oauth_error(401, "invalid_client", "Client authentication failed", basic=basic)
    issued = _pact(request).tokens.issue(principal.name, principal.key_id)
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def token(request: Request) -> Response:
    """OAuth2 client credentials (RFC 6749 §4.4): the client id is a principal's name and
    its secret one of the principal's API keys."""
    if request.url.scheme != "https":
        return _oauth_error(400, "invalid_request", "the token endpoint is served over HTTPS only")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return _oauth_error(
            400, "invalid_request", "expected an application/x-www-form-urlencoded body"
        )
    body = await request.body()
    fields = _form(body) if len(body) <= MAX_FORM_BYTES else None
    if fields is None:
        return _oauth_error(400, "invalid_request", "the form body cannot be read")
    return await run_in_threadpool(_issue, request, fields)


# -- footprints ---------------------------------------------------------------------------


def _link(request: Request, offset: int, limit: int) -> str:
    params = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k.casefold() not in ("offset", "limit")
    ]
    params += [("offset", str(offset)), ("limit", str(limit))]
    return f"{base_url(request)}{request.url.path}?{urlencode(params)}"


def list_footprints(request: Request, caller: PactCaller) -> Response:
    """Action ListFootprints: filters, and ``Link`` pagination (RFC 8288)."""
    criteria, page = parse_query(request.query_params.multi_items())
    pact = _pact(request)
    result = pact.service.list_footprints(
        criteria, page, owner=owner_of(caller.role, caller.producer), base_url=base_url(request)
    )
    headers: dict[str, str] = {}
    # limit=0 asks for no footprint (PACT allows it); its links page by the default size.
    size = page.limit or DEFAULT_PAGE
    if result.total > 0:
        last = ((result.total - 1) // size) * size
        links = [f'<{_link(request, 0, size)}>; rel="first"']
        if page.offset > 0:
            # Past the end, prev is the last page, never another empty one.
            prev = max(0, min(page.offset - size, last))
            links.append(f'<{_link(request, prev, size)}>; rel="prev"')
        if page.offset + page.limit < result.total:
            links.append(f'<{_link(request, page.offset + page.limit, size)}>; rel="next"')
        links.append(f'<{_link(request, last, size)}>; rel="last"')
        headers["Link"] = ", ".join(links)
    return JSONResponse({"data": result.data}, headers=headers)


def get_footprint(request: Request, caller: PactCaller, id: str) -> Response:
    """Action GetFootprint; a deprecated footprint is still served."""
    pact = _pact(request)
    data = pact.service.get_footprint(
        id, owner=owner_of(caller.role, caller.producer), base_url=base_url(request)
    )
    return JSONResponse({"data": data})


async def events(request: Request, caller: PactCaller) -> Response:
    """Action Events: CloudEvents in structured mode; 200 with an empty body when accepted."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != CLOUDEVENTS_MEDIA_TYPE:
        raise MalformedError(
            f"the body must be {CLOUDEVENTS_MEDIA_TYPE} (structured mode)", path="content-type"
        )
    event = parse_event(await request.body())
    if event.type == REQUEST_CREATED:
        service = _pact(request).service
        await run_in_threadpool(service.accept_request, caller.name or "", event, base_url(request))
    return Response(status_code=200)


def other_version(request: Request, version: int) -> Response:
    """A PACT path of another major version: this host speaks v3 only."""
    require_https(request)
    raise NotImplementedByHostError(
        f"this host implements PACT Tech Specs v3 only (paths /3/...), not version {version}"
    )


def extension_schema(request: Request) -> Response:
    """The JSON Schema of the carbonledger-proof extension's ``data`` (docs/PACT.md §4)."""
    return Response(_pact(request).extension_schema, media_type="application/schema+json")


def pact_router() -> APIRouter:
    router = APIRouter(route_class=PactRoute, tags=["pact"])
    https = [Depends(require_https)]
    router.add_api_route("/auth/token", token, methods=["POST"], include_in_schema=False)
    router.add_api_route(
        "/3/footprints",
        list_footprints,
        methods=["GET"],
        dependencies=https,
        include_in_schema=False,
    )
    router.add_api_route(
        "/3/footprints/{id}",
        get_footprint,
        methods=["GET"],
        dependencies=https,
        include_in_schema=False,
    )
    router.add_api_route(
        "/3/events", events, methods=["POST"], dependencies=https, include_in_schema=False
    )
    for path, method in (
        ("/{version:int}/footprints", "GET"),
        ("/{version:int}/footprints/{id}", "GET"),
        ("/{version:int}/events", "POST"),
    ):
        router.add_api_route(path, other_version, methods=[method], include_in_schema=False)
    router.add_api_route(
        EXTENSION_DATA_SCHEMA_PATH, extension_schema, methods=["GET"], include_in_schema=False
    )
    return router
