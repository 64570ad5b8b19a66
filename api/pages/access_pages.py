"""Authorised queries on the pages (docs/PAGES.md §2.2): a bidder or a financial
institution asks for an enterprise's data; the regulator or the enterprise decides; the
grant expires; the access log shows every read of a non-public view.

The forms post to ``/access/request``, ``/access/decide`` and ``/access/end`` (CSRF-checked
like every form) and land back on ``/access``; refusals are the error page in the reader's
language (403 for a role that may not act, 409 for an expired or decided request).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from api.pages.base import PageRequest, Pages
from api.pages.render import SECURITY_HEADERS
from ledger.core.errors import MalformedError
from ledger.service.limits import MAX_CURSOR, MAX_PAGE, MAX_SUBJECT_CHARS
from ledger.store.grants import MAX_GRANT_DAYS, READER_ROLES, SCOPES

__all__ = ["add_access_pages"]


def _field(form: dict[str, str], name: str, *, max_chars: int) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise MalformedError("this field is required", path=name)
    if len(value) > max_chars:
        raise MalformedError(f"at most {max_chars} characters", path=name)
    return value


def _back() -> Response:
    return RedirectResponse("/access", status_code=303, headers=SECURITY_HEADERS)


def add_access_pages(router: APIRouter, pages: Pages) -> None:
    def access(page: PageRequest) -> Response:
        requests = page.api.registry.requests(page.caller)
        return pages.render(
            page,
            "access.html",
            requests=requests,
            may_request=page.caller.role in READER_ROLES,
            may_decide=page.caller.role in ("regulator", "enterprise"),
            scopes=SCOPES,
            max_days=MAX_GRANT_DAYS,
            enterprise=page.optional("enterprise", max_chars=MAX_SUBJECT_CHARS) or "",
        )

    def request_access(page: PageRequest) -> Response:
        form: dict[str, str] = page.request.state.form
        days_text = _field(form, "days", max_chars=3)
        if not days_text.isdigit():
            raise MalformedError("a whole number of days", path="days")
        page.api.registry.request_access(
            page.caller,
            _field(form, "enterprise", max_chars=MAX_SUBJECT_CHARS),
            scope=_field(form, "scope", max_chars=16),
            purpose=_field(form, "purpose", max_chars=1000),
            days=int(days_text),
        )
        return _back()

    def decide(page: PageRequest) -> Response:
        form: dict[str, str] = page.request.state.form
        decision = _field(form, "decision", max_chars=8)
        if decision not in ("approve", "refuse"):
            raise MalformedError("approve or refuse", path="decision")
        page.api.registry.decide(
            page.caller,
            _field(form, "request_id", max_chars=16),
            approve=decision == "approve",
            note=form.get("note"),
        )
        return _back()

    def end(page: PageRequest) -> Response:
        form: dict[str, str] = page.request.state.form
        page.api.registry.end(page.caller, _field(form, "request_id", max_chars=16))
        return _back()

    def log(page: PageRequest) -> Response:
        before = page.integer("before", default=MAX_CURSOR, low=1)
        limit, clamped = pages.limit(page)
        entries, next_before = page.api.registry.access_log(
            page.caller, before=None if before == MAX_CURSOR else before, limit=limit
        )
        return pages.render(
            page,
            "access_log.html",
            entries=entries,
            next_before=next_before,
            limit=limit,
            clamped=clamped,
            max_page=MAX_PAGE,
        )

    pages.mount(router, "/access", access)
    pages.mount(router, "/access/log", log)
    pages.mount(router, "/access/request", request_access, form=True)
    pages.mount(router, "/access/decide", decide, form=True)
    pages.mount(router, "/access/end", end, form=True)
