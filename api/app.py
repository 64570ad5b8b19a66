"""The HTTP API: ``create_app(settings)`` (docs/API.md).

Everything the app uses is passed in or built from ``settings`` here, never at import
time: the store, the ledger service (which signs receipts), the chain (read only, for the
readiness check) and the deployment record (chain coordinates of bundles). Tests build the
app in-process with a memory chain and their own clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anchoring.chain import Chain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord, load_deployment
from api.crossborder import signers_from_settings
from api.interpreter import check_recursion_limit, restore_recursion_limit
from api.limits import ApiLimits
from api.middleware import (
    ClientAddressMiddleware,
    ObservabilityMiddleware,
    parse_trusted_proxies,
)
from api.pact import PactApi, pact_router
from api.pact.tokens import TokenIssuer, token_key
from api.pages import install_pages
from api.problems import (
    PayloadTooLargeError,
    install_problem_handlers,
    problem_for,
)
from api.routes import UNVERSIONED, VERSIONED
from api.routes.deps import known_query_only
from api.routes.schemas import Problem
from api.service import ApiService
from api.settings import CarbonLedgerSettings
from ledger.core.clock import Clock, system_clock
from ledger.exchange.footprint import DataOwner
from ledger.service import LedgerService, load_or_create
from ledger.service.cbam import CbamService
from ledger.service.crossborder import Signer
from ledger.service.exchange import PactService
from ledger.service.exportlock import LockCheck, no_lock
from ledger.service.locks import store_lock_check
from ledger.service.subscriptions import SubscriptionService
from ledger.store import Store, sqlite_url

__all__ = ["ApiLimits", "BodyLimitMiddleware", "create_app"]

log = logging.getLogger("carbonledger.api")
API_VERSION = "1"
DEFAULT_MAX_MERGE_DELAY_S = 600


class _TooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_body_bytes`` with 413 problem+json.

    Pure ASGI, in front of everything: a declared ``Content-Length`` over the limit is
    refused before a byte is read; a body sent without one (chunked) is counted as it
    streams in and refused as soon as it passes the limit, so memory stays bounded
    (Starlette has no default limit: tested rather than assumed).
    It also turns any exception that escaped the routes into the 500 problem, so no stack
    trace or driver message reaches a client.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def reply(exc: BaseException) -> None:
            response = problem_for(exc)
            await response(scope, receive, send_tracking)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await reply(self._too_large())
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _TooLargeError
            return message

        try:
            await self.app(scope, counting_receive, send_tracking)
        except _TooLargeError:
            if not started:
                await reply(self._too_large())
        except Exception as exc:
            if not started:
                await reply(exc)
            else:
                log.error("error after the response started", exc_info=exc)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"request body exceeds {self.max_body_bytes} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def create_app(
    settings: CarbonLedgerSettings,
    *,
    store: Store | None = None,
    chain: Chain | None = None,
    clock: Clock | None = None,
    ledger: LedgerService | None = None,
    deployment: DeploymentRecord | None = None,
    artifacts: Mapping[str, ArtifactLike] | None = None,
    limits: ApiLimits | None = None,
    max_merge_delay_s: int = DEFAULT_MAX_MERGE_DELAY_S,
    export_lock: LockCheck | None = None,
    signers: tuple[Signer | None, Signer | None] | None = None,
    shared_metrics: Path | None = None,
) -> FastAPI:
    """The API over ``store`` (default: the SQLite store in ``settings.data_dir``).

    ``ledger`` accepts records; by default one is built with the service key of the data
    directory (created on first start). ``deployment`` defaults to the recorded one of the
    data directory; ``chain`` and ``artifacts`` serve the readiness check only.
    ``signers`` (assessor, converter) sign the cross-border desk's records; by default
    the key files the settings name. ``shared_metrics`` is the metrics directory shared
    by the API's worker processes (``api.metrics.share_metrics``); None counts in memory.
    """
    restore_recursion_limit()
    check_recursion_limit()
    clock = clock or system_clock
    limits = limits or ApiLimits()
    store = store or Store.open(sqlite_url(settings.data_dir), clock=clock)
    if export_lock is None:
        export_lock = store_lock_check(store)
    if ledger is None:
        key = load_or_create(settings.data_dir)
        ledger = LedgerService(
            store=store,
            service_key=key.private_key,
            clock=clock,
            max_merge_delay_s=max_merge_delay_s,
        )
    if deployment is None and settings.chain != "memory":
        deployment = load_deployment(settings.data_dir)
    if signers is None:
        signers = signers_from_settings(settings)
    service = ApiService(
        store=store,
        clock=clock,
        ledger=ledger,
        chain=chain,
        deployment=deployment,
        artifacts=artifacts,
        limits=limits,
        assessor=signers[0],
        converter=signers[1],
        shared_metrics=shared_metrics,
    )
    app = FastAPI(
        title="carbonledger",
        version=API_VERSION,
        description="Write and read API of the carbonledger ledger service (docs/API.md).",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = service
    strict_query = [Depends(known_query_only)]
    app.state.pact = pact_api(settings, service, clock=clock, export_lock=export_lock)
    app.state.subscriptions = SubscriptionService(store, clock=clock)
    app.state.cbam = CbamService(store, lock=export_lock)
    for router in VERSIONED:
        app.include_router(router, prefix="/v1", dependencies=strict_query)
    for router in UNVERSIONED:
        app.include_router(router, dependencies=strict_query)
    install_pages(app, data_dir=settings.data_dir)
    app.include_router(pact_router())
    install_problem_handlers(app)
    # Outermost last: client address, then request id / access log / metrics, then limits.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=limits.max_body_bytes)
    app.add_middleware(
        ObservabilityMiddleware, metrics=service.metrics, route_of=_route_templates(app)
    )
    app.add_middleware(
        ClientAddressMiddleware, trusted=parse_trusted_proxies(settings.trusted_proxies or "")
    )
    _publish_problem_schema(app)
    return app


def _route_templates(app: FastAPI) -> Callable[[Scope], str]:
    """The path template of the route a request matched (``/v1/batches/{seq}``), the label
    of the request metrics: by operation id from the published document (an included
    router's route knows its path without the ``/v1`` prefix), else the route's path."""
    by_operation: dict[str, str] = {}

    def route_of(scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return "unmatched"
        operation = getattr(route, "operation_id", None)
        if operation is not None:
            if not by_operation:
                for path, operations in app.openapi().get("paths", {}).items():
                    for op in operations.values():
                        by_operation[str(op.get("operationId"))] = path
            return by_operation.get(operation, str(getattr(route, "path", "unmatched")))
        return str(getattr(route, "path", "unmatched"))

    return route_of


def data_owner(settings: CarbonLedgerSettings) -> DataOwner | None:
    """The PACT data owner of the settings; None while it is not configured."""
    if not settings.pact_company_name or not settings.pact_company_ids:
        return None
    ids = tuple(dict.fromkeys(p.strip() for p in settings.pact_company_ids.split(",")))
    return DataOwner(settings.pact_company_name, ids)


def pact_api(
    settings: CarbonLedgerSettings,
    service: ApiService,
    *,
    clock: Callable[[], datetime],
    export_lock: LockCheck = no_lock,
) -> PactApi | None:
    """The PACT API of the app (docs/PACT.md), when a data owner is configured and the
    instance has a service key (its tokens are signed with a key derived from it)."""
    owner = data_owner(settings)
    if owner is None or service.ledger is None:
        return None
    pact = PactService(
        service.store,
        clock=clock,
        owner=owner,
        chain=service.chain_ref,
        lock=export_lock,
        public_url=settings.public_url,
    )
    tokens = TokenIssuer(
        token_key(service.ledger.service_key),
        clock=clock,
        lifetime_s=settings.pact_token_lifetime_s,
    )
    schema = (
        resources.files("ledger.exchange").joinpath("carbonledger-proof.schema.json").read_bytes()
    )
    return PactApi(pact, tokens, schema)


def _publish_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
