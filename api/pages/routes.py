"""The page handlers (docs/PAGES.md §1). Each calls the same ``ApiService`` methods as
the JSON API, with the same caller rules, and renders one template for the reader.

This module holds the audit trail (record, trail, batches), signing in and out and the
static files; the registry's pages, the evidence downloads and the access pages are in
``registry_pages``, ``evidence_pages`` and ``access_pages``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.pages.access_pages import add_access_pages
from api.pages.base import PageRequest, Pages
from api.pages.efficiency import add_efficiency_pages
from api.pages.evidence import bundle_filename, pins_of
from api.pages.evidence_pages import add_evidence_pages
from api.pages.registry_pages import add_registry_pages
from api.pages.render import SECURITY_HEADERS, STATIC_DIR
from api.pages.risk import add_risk_pages
from api.pages.session import SESSION_COOKIE
from api.pages.summaries import conversion_summary
from api.pages.views import (
    WITHHELD,
    body_names,
    differences_of,
    field_rows,
    is_redacted,
    mapping,
    record_of,
    status_of,
)
from ledger.core.errors import NotFoundError
from ledger.service.limits import MAX_ID_CHARS, MAX_PAGE, MAX_SUBJECT_CHARS
from ledger.store.access import api_key_id

__all__ = ["page_router"]

#: The files under /static/: name -> media type.
STATIC_FILES = {"pages.css": "text/css", "check.js": "text/javascript"}


def _local_target(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"): printable
    # ASCII without spaces only (WHATWG URL Standard, basic URL parser).
    if not all("!" <= ch <= "~" for ch in target):
        return "/"
    return target[:1000]


def _linked(page: PageRequest, record_id: str | None) -> dict[str, Any] | None:
    """Another record as the caller may see it (None if it may not)."""
    if not record_id:
        return None
    try:
        return record_of(page.api.record(page.caller, record_id, channel="page").view)
    except NotFoundError:
        return None


def _linked_state(page: PageRequest, record_id: str | None) -> str | None:
    if not record_id:
        return None
    try:
        return page.api.status(page.caller, record_id).state.state
    except NotFoundError:
        return None


def _first_ref(content: dict[str, Any], *rels: str) -> str | None:
    for ref in content.get("refs") or ():
        if isinstance(ref, dict) and ref.get("rel") in rels and isinstance(ref.get("id"), str):
            return str(ref["id"])
    return None


def page_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    config = pages.config

    def trail(page: PageRequest) -> Response:
        subject = page.query("subject", max_chars=MAX_SUBJECT_CHARS)
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        found = page.api.trail(page.caller, subject, after, limit)
        # Newest first within the page (issued_at, then acceptance order); pages follow
        # the API's acceptance-order cursor.
        items = sorted(found.items, key=lambda e: (e.summary.issued_at, e.cursor), reverse=True)
        rows = [{"item": e, "status": status_of(e.state, e.summary.batch_seq)} for e in items]
        return pages.render(
            page,
            "trail.html",
            subject=subject,
            rows=rows,
            limit=limit,
            clamped=clamped,
            max_page=MAX_PAGE,
            next_after=found.next_after,
            after=after,
            pins=pins_of(page.api),
            bundle_file=bundle_filename("trail", subject),
            claims=page.api.claims(page.caller, subject),
        )

    def record(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        found = page.api.record(page.caller, record_id, channel="page")
        status = page.api.status(page.caller, record_id)
        view = found.view
        rows, withheld = field_rows(view)
        content = record_of(view)
        body = mapping(content.get("body"))
        extra: dict[str, Any] = dict.fromkeys(
            ("conversion", "source_state", "previous_id", "previous_scores")
        )
        if found.summary.type == "factor-substitution":
            source_id = mapping(body.get("source")).get("id")
            rule_id = mapping(body.get("rule")).get("id")
            source = _linked(page, source_id)
            extra["conversion"] = conversion_summary(content, source, _linked(page, rule_id))
            extra["source_state"] = _linked_state(page, source_id)
        if found.summary.type == "credit-change":
            previous_id = _first_ref(content, "previous", "supersedes")
            previous = _linked(page, previous_id)
            extra["previous_id"] = previous_id
            extra["previous_scores"] = mapping(mapping(previous).get("body")).get("scores")
        return pages.render(
            page,
            "record.html",
            rec=found.summary,
            signature=found.signature,
            status=status_of(status.state, status.summary.batch_seq),
            redacted=is_redacted(view),
            rows=rows,
            withheld=withheld,
            refs=content.get("refs") if isinstance(content.get("refs"), list) else [],
            body=body,
            differences=differences_of(content),
            attestations=page.api.attestations(page.caller, record_id),
            bodies=body_names(page.api.registry.whitelist(None)),
            pins=pins_of(page.api),
            bundle_file=bundle_filename("record", record_id),
            withheld_marker=WITHHELD,
            **extra,
        )

    def batches(page: PageRequest) -> Response:
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        found = page.api.batches(after, limit)
        return pages.render(
            page,
            "batches.html",
            items=found.items,
            next_after=found.next_after,
            limit=limit,
            clamped=clamped,
            max_page=MAX_PAGE,
        )

    def batch(page: PageRequest) -> Response:
        page.query("seq", max_chars=20)  # required
        seq = page.integer("seq", default=1, low=1)
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        found = page.api.batch(seq)
        manifest = found.manifest
        leaves = [str(x) for x in manifest.get("leaves") or []]
        shown = leaves[after : after + limit]
        ids = page.api.records_by_digest(page.caller, shown)
        more = after + limit < len(leaves)
        return pages.render(
            page,
            "batch.html",
            batch=found.batch,
            manifest=manifest,
            leaves=[{"digest": d, "record_id": ids.get(d)} for d in shown],
            first=after,
            next_after=after + limit if more else None,
            limit=limit,
            clamped=clamped,
            max_page=MAX_PAGE,
            pins=pins_of(page.api),
            bundle_file=bundle_filename("batch", str(seq)),
        )

    def audit(page: PageRequest) -> Response:
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        items, next_after = page.api.access.audit(page.caller, after=after, limit=limit)
        return pages.render(
            page,
            "audit.html",
            items=items,
            next_after=next_after,
            limit=limit,
            clamped=clamped,
            max_page=MAX_PAGE,
        )

    def login_form(page: PageRequest) -> Response:
        target = _local_target(page.request.query_params.get("next"))
        return pages.render(page, "login.html", next=target, failed=False)

    def login(page: PageRequest) -> Response:
        form: dict[str, str] = page.request.state.form
        token = form.get("api_key", "").strip()
        target = _local_target(form.get("next"))
        key_id = api_key_id(token)
        # The ASGI peer: a proxy's X-Forwarded-For counts only from a trusted proxy
        # (api.middleware.ClientAddressMiddleware), never from whoever sends it.
        client = page.request.client
        address = client.host if client is not None else "unknown"
        now = pages.now(page.api)
        # Checked before the key is, so a blocked client learns nothing from its attempts.
        pages.throttle.check(address=address, key_id=key_id, now=now)
        caller = page.api.authenticate(token) if token and len(token) <= 200 else None
        if caller is None or caller.name is None or key_id is None:
            pages.throttle.failed(address=address, key_id=key_id, now=now)
            return pages.render(page, "login.html", http_status=401, next=target, failed=True)
        if page.session_token is not None:
            page.api.access.end_page_session(page.session_token, page.caller)
        session_token, _expires = page.api.access.open_page_session(
            caller, ttl_s=config.session_ttl_s
        )
        value = pages.signer.session_value(session_token)
        response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=config.session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=page.request.url.scheme == "https",
            path="/",
        )
        page.clear_session = False
        return response

    def logout(page: PageRequest) -> Response:
        # The session ends on the server: a saved copy of the cookie signs in as nobody.
        if page.session_token is not None:
            page.api.access.end_page_session(page.session_token, page.caller)
        page.clear_session = True
        return RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)

    def not_found(page: PageRequest) -> Response:
        raise NotFoundError("no such page")

    @router.get("/trail")
    async def get_trail(request: Request) -> Response:
        return await pages.serve(request, trail)

    @router.get("/record")
    async def get_record(request: Request) -> Response:
        return await pages.serve(request, record)

    @router.get("/batches")
    async def get_batches(request: Request) -> Response:
        return await pages.serve(request, batches)

    @router.get("/batch")
    async def get_batch(request: Request) -> Response:
        return await pages.serve(request, batch)

    @router.get("/audit")
    async def get_audit(request: Request) -> Response:
        return await pages.serve(request, audit)

    @router.get("/login")
    async def get_login(request: Request) -> Response:
        return await pages.serve(request, login_form)

    @router.post("/login")
    async def post_login(request: Request) -> Response:
        return await pages.serve(request, login, form=True)

    @router.post("/logout")
    async def post_logout(request: Request) -> Response:
        return await pages.serve(request, logout, form=True)

    add_registry_pages(router, pages)
    add_evidence_pages(router, pages)
    add_access_pages(router, pages)
    add_efficiency_pages(router, pages)
    add_risk_pages(router, pages)

    @router.get("/static/{name}")
    async def get_static(request: Request, name: str) -> Response:
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            return await pages.serve(request, not_found)
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}
        return Response((STATIC_DIR / name).read_bytes(), media_type=media_type, headers=headers)

    return router
