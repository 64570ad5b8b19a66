"""Risk assessments and export locks on the pages (docs/PAGES.md §1, docs/API.md §3.7).

``/risk?id=`` is the page of one risk assessment, leading with the answer: the level, the
target region, the estimated tariff, the differences and findings, and whether exports of
the equipment are locked for the region and why (the lock function the accept path and
every export path call, so the page never says otherwise). :func:`risks_in_force` gives
the equipment's and the enterprise's pages the assessment in force per target region
(neither revoked nor superseded), with the tariff estimate and its date.

Every record is read through the caller's view (``ApiService.record``): what a view hides
stays hidden, and an assessment the caller may not see is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.pages.base import PageRequest, Pages
from api.pages.views import differences_of, mapping, record_of, status_of
from ledger.core.errors import NotFoundError
from ledger.service.limits import MAX_ID_CHARS

__all__ = ["RISK_PAGE", "RiskRow", "add_risk_pages", "risks_in_force"]

RISK_PAGE = "/risk"
ASSESSMENT = "risk-assessment"
#: Pieces of equipment whose assessments an enterprise page reads (a bound on one page).
MAX_SUBJECTS = 50


@dataclass(frozen=True)
class RiskRow:
    """The assessment in force of one subject for one region, as the caller sees it."""

    subject: str
    region: str
    level: str | None
    record_id: str
    issued_at: Any
    tariff: Mapping[str, Any]
    locked: bool


TARIFF_KEYS = (
    "status", "burden", "currency", "year", "price_date", "acceptable_burden",
    "within_acceptable",
)  # fmt: skip
FINDING_KEYS = ("kind", "what", "name", "cas", "gas", "supply_by", "deadline")


def _members(value: Any, keys: Iterable[str]) -> dict[str, Any]:
    """``value``'s members ``keys`` (None for what it lacks or its view withholds)."""
    found = mapping(value)
    return {k: found.get(k) for k in keys}


def _tariff(body: Mapping[str, Any]) -> dict[str, Any]:
    """The tariff estimate as shown: status, burden, currency, year, price date and the
    acceptable burden."""
    return _members(body.get("tariff"), TARIFF_KEYS)


def risks_in_force(page: PageRequest, subjects: Iterable[str]) -> list[RiskRow]:
    """Per subject and region, the assessment in force that the caller may see."""
    desk = page.api.crossborder.desk
    rows = []
    for subject in list(dict.fromkeys(subjects))[:MAX_SUBJECTS]:
        for region, assessment in sorted(desk.assessments(subject).items()):
            try:
                found = page.api.record(page.caller, assessment.id, channel="page")
            except NotFoundError:
                continue
            body = mapping(record_of(found.view).get("body"))
            level = body.get("level")
            rows.append(
                RiskRow(
                    subject,
                    region,
                    str(level) if level is not None else None,
                    assessment.id,
                    found.summary.issued_at,
                    _tariff(body),
                    level == "red",
                )
            )
    return rows


def assessment_values(page: PageRequest, record_id: str) -> dict[str, Any]:
    """What the page of the risk assessment ``record_id`` shows to the caller."""
    found = page.api.record(page.caller, record_id, channel="page")
    if found.summary.type != ASSESSMENT:
        raise NotFoundError(f"{record_id} is not a risk assessment")
    status = page.api.status(page.caller, record_id)
    record = record_of(found.view)
    body = mapping(record.get("body"))
    region = str(body.get("region") or "")
    subject = found.summary.subject
    desk = page.api.crossborder.desk
    in_force = desk.assessments(subject).get(region)
    lock = desk.lock(subject, region) if region else None
    lang = page.reader.lang
    return {
        "rec": found.summary,
        "status": status_of(status.state, status.summary.batch_seq),
        "state": status.state.state,
        "region": region,
        "level": body.get("level"),
        "level_basis": [str(b) for b in body.get("level_basis") or []],
        "ratio": body.get("ratio"),
        "baseline": _members(body.get("baseline"), ("baseline", "unit")),
        "result": _members(body.get("result"), ("total", "unit")),
        "tariff": _tariff(body),
        "differences": differences_of(record),
        # The public view withholds the table, the findings and the suggestions.
        "withheld": "differences" not in body,
        "findings": [_members(f, FINDING_KEYS) for f in body.get("findings") or []],
        "suggestions": [
            str(mapping(s).get("zh" if lang == "zh" else "en") or "")
            for s in body.get("suggestions") or []
        ],
        "in_force": in_force is not None and in_force.id == record_id,
        "in_force_id": in_force.id if in_force is not None else None,
        "lock": lock,
        "source": mapping(body.get("source")).get("id"),
    }


def add_risk_pages(router: APIRouter, pages: Pages) -> None:
    """Serve the risk-assessment page at ``/risk?id=…``."""

    def assessment(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        return pages.render(page, "risk.html", **assessment_values(page, record_id))

    @router.get(RISK_PAGE)
    async def get_assessment(request: Request) -> Response:
        return await pages.serve(request, assessment)
