"""The registry's pages (docs/PAGES.md §1.1): the home page, the search, the listings of
enterprises and equipment with their filters, an enterprise's and a piece of equipment's
page, the warning list, the whitelist of verification bodies and the public register of
green enterprises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from api.pages.base import PageRequest, Pages
from api.pages.chart import stage_chart
from api.pages.render import SECURITY_HEADERS
from api.pages.risk import risks_in_force
from api.pages.views import body_names, status_of
from api.registry import hit_url
from ledger.core.errors import NotFoundError
from ledger.core.types.vocab import GRADES
from ledger.service.limits import MAX_PAGE, MAX_SUBJECT_CHARS
from ledger.service.registry import GREEN_GRADES, MAX_PAGE_NUMBER, MAX_QUERY_CHARS
from ledger.service.registrymodels import Listing
from ledger.store.directory import RISK_RANKS
from ledger.store.listings import EnterpriseFilter, EquipmentFilter

__all__ = ["add_registry_pages"]

WARNING_STATES = ("listed", "overdue", "rectified", "clear")
#: The rows of a trail shown on an equipment page (the rest is on the trail page).
TIMELINE_ROWS = 50


def _page_url(page: PageRequest) -> Callable[[int], str]:
    return lambda n: page.with_params(page=str(n))


def add_registry_pages(router: APIRouter, pages: Pages) -> None:
    def number(page: PageRequest) -> int:
        return page.integer("page", default=1, low=1, high=MAX_PAGE_NUMBER)

    def listed(
        page: PageRequest, template: str, listing: Listing[Any], clamped: bool, **values: Any
    ) -> Response:
        """A paginated listing's page with its pager; a page past the last is a 404
        (the first page of an empty listing is not: it says there is nothing)."""
        if listing.page > listing.pages:
            raise NotFoundError(f"page {listing.page} is past the last page ({listing.pages})")
        return pages.render(
            page,
            template,
            listing=listing,
            url_for=_page_url(page),
            clamped=clamped,
            max_page=MAX_PAGE,
            **values,
        )

    def home(page: PageRequest) -> Response:
        figures = page.api.registry.home()
        regions = sorted({region for region, _level in figures.risks})
        return pages.render(page, "home.html", figures=figures, risk_regions=regions)

    def search(page: PageRequest) -> Response:
        text = page.query("q", max_chars=MAX_QUERY_CHARS)
        found = page.api.registry.search(page.caller, text)
        if len(found.hits) == 1:
            return RedirectResponse(
                hit_url(found.hits[0]), status_code=303, headers=SECURITY_HEADERS
            )
        hits = [(hit, hit_url(hit)) for hit in found.hits]
        status = 200 if hits else 404
        return pages.render(page, "search.html", http_status=status, found=found, hits=hits)

    def enterprises(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        grade = page.choice("grade", GRADES)
        f = EnterpriseFilter(
            grades=(grade,) if grade else (),
            region=page.optional("region", max_chars=16),
            risk=page.choice("risk", tuple(RISK_RANKS)),
            warning=page.choice("warning", WARNING_STATES),
            name_key=None,
        )
        listing = page.api.registry.enterprises(f, page=number(page), limit=limit)
        return listed(
            page,
            "enterprises.html",
            listing,
            clamped,
            f=f,
            grades=GRADES,
            risks=tuple(RISK_RANKS),
            warnings=WARNING_STATES,
        )

    def green(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        region = page.optional("region", max_chars=16)
        listing = page.api.registry.green(region, page=number(page), limit=limit)
        return listed(page, "registry.html", listing, clamped, region=region, green=GREEN_GRADES)

    def enterprise(page: PageRequest) -> Response:
        enterprise_id = page.query("id", max_chars=MAX_SUBJECT_CHARS)
        detail = page.api.registry.enterprise(page.caller, enterprise_id, channel="page")
        regions = sorted({f.region or "" for f in detail.conversions})
        return pages.render(
            page,
            "enterprise.html",
            d=detail,
            conversion_regions=regions,
            bodies=body_names(page.api.registry.whitelist(None)),
            today=page.api.clock().date(),
            risks_in_force=risks_in_force(page, [e.subject for e in detail.equipment]),
        )

    def equipment_list(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        grade = page.choice("grade", GRADES)
        f = EquipmentFilter(
            enterprise_id=page.optional("enterprise", max_chars=MAX_SUBJECT_CHARS),
            region=page.optional("region", max_chars=32),
            risk=page.choice("risk", tuple(RISK_RANKS)),
            grades=(grade,) if grade else (),
            warning=page.choice("warning", WARNING_STATES),
        )
        listing = page.api.registry.equipment_list(f, page=number(page), limit=limit)
        return listed(
            page,
            "equipment_list.html",
            listing,
            clamped,
            f=f,
            grades=GRADES,
            risks=tuple(RISK_RANKS),
            warnings=WARNING_STATES,
        )

    def equipment(page: PageRequest) -> Response:
        subject = page.query("subject", max_chars=MAX_SUBJECT_CHARS)
        detail = page.api.registry.equipment(page.caller, subject)
        timeline = page.api.trail(page.caller, subject, 0, TIMELINE_ROWS)
        entries = sorted(
            timeline.items, key=lambda e: (e.summary.issued_at, e.cursor), reverse=True
        )
        return pages.render(
            page,
            "equipment.html",
            d=detail,
            timeline=[
                {"item": e, "status": status_of(e.state, e.summary.batch_seq)} for e in entries
            ],
            more=timeline.next_after is not None,
            # A claim's public fields (regime, when), shown on its timeline entry.
            claims={c["record_id"]: c for c in page.api.claims(page.caller, subject)},
            chart=stage_chart(detail.stages, page.reader),
            risks_in_force=risks_in_force(page, [subject]),
        )

    def warnings(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        status = page.choice("status", WARNING_STATES[:3])
        listing = page.api.registry.warnings(status, page=number(page), limit=limit)
        return listed(
            page, "warnings.html", listing, clamped, status=status, states=WARNING_STATES[:3]
        )

    def whitelist(page: PageRequest) -> Response:
        region = page.optional("region", max_chars=16)
        bodies = page.api.registry.whitelist(region)
        return pages.render(page, "whitelist.html", bodies=bodies, region=region)

    handlers = {
        "/": home,
        "/search": search,
        "/enterprises": enterprises,
        "/registry": green,
        "/enterprise": enterprise,
        "/equipment": equipment_list,
        "/equipment/view": equipment,
        "/warnings": warnings,
        "/whitelist": whitelist,
    }
    for path, handler in handlers.items():
        pages.mount(router, path, handler)
