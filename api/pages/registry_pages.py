"""The registry's pages (docs/PAGES.md §1.1): the home page, the search, the listings of
enterprises and equipment with their filters, an enterprise's and a piece of equipment's
page, the warning list, the whitelist of verification bodies and the public register of
green enterprises."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from api.pages.base import PageRequest, Pages
from api.pages.chart import stage_chart
from api.pages.render import SECURITY_HEADERS
from api.pages.views import status_of
from api.registry import hit_url
from ledger.core.types.vocab import GRADES
from ledger.service.limits import MAX_PAGE, MAX_SUBJECT_CHARS
from ledger.service.registry import GREEN_GRADES, MAX_PAGE_NUMBER, MAX_QUERY_CHARS
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
        return pages.render(
            page,
            "enterprises.html",
            listing=listing,
            f=f,
            grades=GRADES,
            risks=tuple(RISK_RANKS),
            warnings=WARNING_STATES,
            url_for=_page_url(page),
            clamped=clamped,
            max_page=MAX_PAGE,
        )

    def green(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        region = page.optional("region", max_chars=16)
        listing = page.api.registry.green(region, page=number(page), limit=limit)
        return pages.render(
            page,
            "registry.html",
            listing=listing,
            region=region,
            green=GREEN_GRADES,
            url_for=_page_url(page),
            clamped=clamped,
            max_page=MAX_PAGE,
        )

    def enterprise(page: PageRequest) -> Response:
        enterprise_id = page.query("id", max_chars=MAX_SUBJECT_CHARS)
        detail = page.api.registry.enterprise(page.caller, enterprise_id, channel="page")
        regions = sorted({f.region or "" for f in detail.conversions})
        return pages.render(
            page,
            "enterprise.html",
            d=detail,
            conversion_regions=regions,
            today=page.api.clock().date(),
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
        return pages.render(
            page,
            "equipment_list.html",
            listing=listing,
            f=f,
            grades=GRADES,
            risks=tuple(RISK_RANKS),
            warnings=WARNING_STATES,
            url_for=_page_url(page),
            clamped=clamped,
            max_page=MAX_PAGE,
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
        )

    def warnings(page: PageRequest) -> Response:
        limit, clamped = pages.limit(page)
        status = page.choice("status", WARNING_STATES[:3])
        listing = page.api.registry.warnings(status, page=number(page), limit=limit)
        return pages.render(
            page,
            "warnings.html",
            listing=listing,
            status=status,
            states=WARNING_STATES[:3],
            url_for=_page_url(page),
            clamped=clamped,
            max_page=MAX_PAGE,
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
