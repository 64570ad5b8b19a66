"""The audit trail of a subject: every record about one piece of equipment or enterprise."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes.deps import DEFAULT_LIMIT, OPTIONAL_AUTH, After, Api, CurrentCaller, Limit, Subject
from api.routes.payloads import trail_entry_json
from api.routes.schemas import TrailPage, problems

router = APIRouter(tags=["trail"])


@router.get(
    "/trail",
    operation_id="get_trail",
    openapi_extra=OPTIONAL_AUTH,
    response_model=TrailPage,
    responses=problems(401),
)
def get_trail(
    api: Api,
    caller: CurrentCaller,
    subject: Subject,
    after: After = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> TrailPage:
    """Records about ``subject`` in acceptance order, with supersession and conversion links."""
    page = api.trail(caller, subject, after, limit)
    return TrailPage.model_validate(
        {
            "subject": subject,
            "items": [trail_entry_json(e) for e in page.items],
            "next_after": page.next_after,
        }
    )
