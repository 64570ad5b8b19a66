"""Event subscriptions (docs/EVENTS.md §1): webhooks and PACT buyers' events endpoints.

Any principal manages its own; an admin manages everyone's (``principal`` in the body).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field

from api.auth import Caller, require_role
from api.problems import ForbiddenError
from api.routes.body import json_body, model_body_doc, no_body
from api.routes.deps import CurrentCaller
from api.routes.schemas import Strict, problems
from ledger.service.subscriptions import SubscriptionService
from ledger.store.access import ROLES
from ledger.store.webhooks import EVENT_KINDS

router = APIRouter(tags=["subscriptions"])

SubscriptionId = Annotated[int, Path(ge=1, le=2**62)]
EventKind = Literal[
    "record.anchored",
    "record.revoked",
    "record.superseded",
    "attestation.filed",
    "footprint.published",
    "claim.made",
]
if set(EventKind.__args__) != set(EVENT_KINDS):  # type: ignore[attr-defined]
    raise RuntimeError("EventKind and ledger.store.webhooks.EVENT_KINDS differ")


class SubscriptionIn(Strict):
    kind: Literal["webhook", "pact"]
    url: str = Field(min_length=9, max_length=2000)
    events: list[EventKind] = Field(min_length=1, max_length=len(EVENT_KINDS))
    principal: str | None = Field(default=None, min_length=1, max_length=200)
    token_url: str | None = Field(default=None, min_length=9, max_length=2000)
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    client_secret: str | None = Field(default=None, min_length=1, max_length=500)


class SubscriptionOut(Strict):
    id: int
    principal: str
    kind: str
    url: str
    events: list[str]
    token_url: str | None
    client_id: str | None
    created_at: str
    disabled_at: str | None


class SubscriptionList(Strict):
    items: list[SubscriptionOut]


class DeliveryOut(Strict):
    message_id: str
    state: str
    attempts: int
    created_at: str
    next_attempt_at: str | None
    delivered_at: str | None
    last_error: str | None


class DeliveryList(Strict):
    items: list[DeliveryOut]


def _service(request: Request) -> SubscriptionService:
    service: SubscriptionService = request.app.state.subscriptions
    return service


def _scope(caller: Caller) -> str | None:
    """Whose subscriptions the caller manages: its own, or everyone's for an admin."""
    require_role(caller, *ROLES)
    return None if caller.role == "admin" else caller.name


@router.get(
    "/subscriptions",
    operation_id="list_subscriptions",
    response_model=SubscriptionList,
    responses=problems(401),
)
def list_subscriptions(request: Request, caller: CurrentCaller) -> dict[str, Any]:
    return {"items": _service(request).listing(principal=_scope(caller))}


@router.post(
    "/subscriptions",
    operation_id="add_subscription",
    status_code=201,
    response_model=SubscriptionOut,
    responses=problems(401, 403, 404, 415),
    openapi_extra=model_body_doc(SubscriptionIn, "the endpoint and the events it receives"),
)
def add_subscription(
    request: Request,
    caller: CurrentCaller,
    body: Annotated[SubscriptionIn, Depends(json_body(SubscriptionIn))],
) -> dict[str, Any]:
    scope = _scope(caller)
    principal = body.principal or caller.name or ""
    if scope is not None and principal != scope:
        raise ForbiddenError("only an admin subscribes for another principal")
    return _service(request).add(
        principal=principal,
        kind=body.kind,
        url=body.url,
        events=list(body.events),
        token_url=body.token_url,
        client_id=body.client_id,
        client_secret=body.client_secret,
    )


@router.delete(
    "/subscriptions/{subscription_id}",
    operation_id="disable_subscription",
    response_model=SubscriptionOut,
    responses=problems(401, 404),
    dependencies=[Depends(no_body)],
)
def disable_subscription(
    request: Request, caller: CurrentCaller, subscription_id: SubscriptionId
) -> dict[str, Any]:
    return _service(request).disable(subscription_id, principal=_scope(caller))


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    operation_id="list_deliveries",
    response_model=DeliveryList,
    responses=problems(401, 404),
)
def list_deliveries(
    request: Request, caller: CurrentCaller, subscription_id: SubscriptionId
) -> dict[str, Any]:
    return {"items": _service(request).deliveries(subscription_id, principal=_scope(caller))}
