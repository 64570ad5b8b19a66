"""The cross-border workflow (docs/API.md §3.7): pre-assess a stored carbon record or a
draft for a region, convert a record on request, read the export locks.

Request bodies are parsed by the strict parser (a draft record can be deep) and then
checked against the models below; every fault is a 422 naming its path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.declaration import MEDIA_TYPES
from api.routes.body import model_body_doc, require_json, validate_body
from api.routes.deps import OPTIONAL_AUTH, Api, CurrentCaller, RecordId, Subject
from api.routes.schemas import Strict, problems
from ledger.core.canonical import parse_json
from ledger.service.limits import MAX_ID_CHARS

router = APIRouter(tags=["cross-border"])

M = TypeVar("M", bound=BaseModel)
Region = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Z][A-Z0-9-]*$")]
ImportDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class Choice(Strict):
    line_id: str = Field(min_length=1, max_length=64)
    set: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    entry: str = Field(min_length=1, max_length=200)


class AssessmentIn(Strict):
    region: Region
    import_date: ImportDate
    source: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    draft: dict[str, Any] | None = None
    choices: list[Choice] = Field(default_factory=list, max_length=10_000)
    origin_price: dict[str, Any] | None = None
    store: bool = False


class ConversionIn(Strict):
    region: Region
    source: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    choices: list[Choice] = Field(default_factory=list, max_length=10_000)
    supplements: list[dict[str, Any]] | None = Field(default=None, max_length=10_000)
    allocations: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="the verification body picked to sign the declaration (warned when it "
        "is not recognised for the region)",
    )


class LockOut(Strict):
    subject: str
    region: str
    assessment: str
    issued_at: str
    level: str
    level_basis: list[str]
    clears: str


class LocksOut(Strict):
    subject: str
    items: list[LockOut]


def _read(model: type[M], data: bytes) -> M:
    """The body as ``model``: strictly parsed, then read without strict mode (dates are
    JSON strings), faults named at the member's own path (``import_date``, ``choices``),
    as docs/API.md §3.7 names them."""
    return validate_body(model, parse_json(data, root="body"), strict=False, root="")


def _choices(items: list[Choice]) -> list[dict[str, str]]:
    return [c.model_dump() for c in items]


@router.post(
    "/assessments",
    operation_id="assess",
    status_code=200,
    responses=problems(401, 403, 404, 409, 415, 503),
    openapi_extra=model_body_doc(
        AssessmentIn, "a stored record or a draft, the region and the import date", inline=True
    ),
)
async def assess(request: Request, api: Api, caller: CurrentCaller) -> dict[str, Any]:
    """Pre-assess a stored carbon record (``source``) or a ``draft`` for a region; with
    ``store`` the assessment is signed and stored as a risk-assessment record."""
    require_json(request)
    body = _read(AssessmentIn, await request.body())
    return await run_in_threadpool(
        api.crossborder.assess,
        caller,
        region=body.region,
        import_date=body.import_date,
        source=body.source,
        draft=body.draft,
        choices=_choices(body.choices),
        origin_price=body.origin_price,
        store=body.store,
    )


@router.post(
    "/conversions",
    operation_id="convert",
    status_code=201,
    responses=problems(401, 403, 404, 409, 415, 503),
    openapi_extra=model_body_doc(
        ConversionIn, "a stored record, the region, choices and supplementary data", inline=True
    ),
)
async def convert(request: Request, api: Api, caller: CurrentCaller) -> dict[str, Any]:
    """Convert a stored carbon record under a region's rule (its mandatory factors),
    signed by the conversion key and stored; refused with 409 while red-locked."""
    require_json(request)
    body = _read(ConversionIn, await request.body())
    return await run_in_threadpool(
        api.crossborder.convert,
        caller,
        region=body.region,
        source=body.source,
        choices=_choices(body.choices),
        supplements=body.supplements,
        allocations=body.allocations,
        body=body.body,
    )


@router.get(
    "/declaration",
    operation_id="render_declaration",
    response_class=Response,
    responses={
        200: {
            "description": "the bilingual declaration (English and Chinese)",
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problems(401, 403, 404, 409),
    },
)
def render_declaration(
    api: Api,
    caller: CurrentCaller,
    conversion: RecordId,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    """The caliber-equivalence declaration of a conversion, rendered for the accredited
    body to review, hash and sign (refused with 409 while red-locked)."""
    data = api.crossborder.declaration(caller, conversion, format)
    return Response(data, media_type=MEDIA_TYPES[format])


@router.get(
    "/locks",
    operation_id="list_locks",
    openapi_extra=OPTIONAL_AUTH,
    response_model=LocksOut,
    responses=problems(401),
)
def list_locks(
    api: Api,
    caller: CurrentCaller,
    subject: Subject,
    region: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
) -> dict[str, Any]:
    """The export locks in force for a subject (red assessments), by region."""
    return {
        "subject": subject,
        "items": [lock.to_json() for lock in api.crossborder.locks(subject, region)],
    }
