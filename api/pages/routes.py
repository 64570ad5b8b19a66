"""The page handlers (docs/PAGES.md §1). Each calls the same ``ApiService`` methods as
the JSON API, with the same caller rules, and renders one template."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.pages.base import PageRequest, Pages
from api.pages.efficiency import add_efficiency_pages
from api.pages.render import SECURITY_HEADERS, STATIC_DIR
from api.pages.session import SESSION_COOKIE, PageSession, key_id_of
from api.pages.views import (
    differences_of,
    field_rows,
    is_redacted,
    record_of,
    status_of,
)
from ledger.core.errors import NotFoundError
from ledger.service.limits import MAX_ID_CHARS, MAX_PAGE, MAX_SUBJECT_CHARS

__all__ = ["page_router"]

_CSS = "pages.css"


def _local_target(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"): printable
    # ASCII without spaces only (WHATWG URL Standard, basic URL parser).
    if not all("!" <= ch <= "~" for ch in target):
        return "/"
    return target[:1000]


def page_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    config = pages.config
    render = pages.renderer

    def home(page: PageRequest) -> Response:
        return render.page("index.html", page.context())

    def trail(page: PageRequest) -> Response:
        subject = page.query("subject", max_chars=MAX_SUBJECT_CHARS)
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        found = page.api.trail(page.caller, subject, after, limit)
        # Newest first within the page (issued_at, then acceptance order); pages follow
        # the API's acceptance-order cursor.
        items = sorted(found.items, key=lambda e: (e.summary.issued_at, e.cursor), reverse=True)
        rows = [{"item": e, "status": status_of(e.state, e.summary.batch_seq)} for e in items]
        return render.page(
            "trail.html",
            page.context(
                subject=subject,
                rows=rows,
                limit=limit,
                clamped=clamped,
                max_page=MAX_PAGE,
                next_after=found.next_after,
                after=after,
            ),
        )

    def record(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        found = page.api.record(page.caller, record_id)
        status = page.api.status(page.caller, record_id)
        view = found.view
        rows, withheld = field_rows(view)
        content = record_of(view)
        return render.page(
            "record.html",
            page.context(
                rec=found.summary,
                signature=found.signature,
                status=status_of(status.state, status.summary.batch_seq),
                redacted=is_redacted(view),
                rows=rows,
                withheld=withheld,
                refs=content.get("refs") if isinstance(content.get("refs"), list) else [],
                body=content.get("body") if isinstance(content.get("body"), dict) else {},
                differences=differences_of(content),
            ),
        )

    def batches(page: PageRequest) -> Response:
        after = page.integer("after", default=0, low=0)
        limit, clamped = pages.limit(page)
        found = page.api.batches(after, limit)
        return render.page(
            "batches.html",
            page.context(
                items=found.items,
                next_after=found.next_after,
                limit=limit,
                clamped=clamped,
                max_page=MAX_PAGE,
            ),
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
        return render.page(
            "batch.html",
            page.context(
                batch=found.batch,
                manifest=manifest,
                leaves=[{"digest": d, "record_id": ids.get(d)} for d in shown],
                first=after,
                next_after=after + limit if more else None,
                limit=limit,
                clamped=clamped,
                max_page=MAX_PAGE,
            ),
        )

    def login_form(page: PageRequest) -> Response:
        target = _local_target(page.request.query_params.get("next"))
        return render.page("login.html", page.context(next=target, failed=False))

    def login(page: PageRequest) -> Response:
        form: dict[str, str] = page.request.state.form
        token = form.get("api_key", "").strip()
        target = _local_target(form.get("next"))
        key_id = key_id_of(token)
        client = page.request.client
        address = client.host if client is not None else "unknown"
        now = pages.now(page.api)
        # Checked before the key is, so a blocked client learns nothing from its attempts.
        pages.throttle.check(address=address, key_id=key_id, now=now)
        caller = page.api.authenticate(token) if token and len(token) <= 200 else None
        if caller is None or caller.name is None or key_id is None:
            pages.throttle.failed(address=address, key_id=key_id, now=now)
            return render.page("login.html", page.context(next=target, failed=True), status=401)
        expires = int(now.timestamp()) + config.session_ttl_s
        value = pages.signer.session_value(PageSession(caller.name, key_id, expires))
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
        page.clear_session = True
        return RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)

    def not_found(page: PageRequest) -> Response:
        raise NotFoundError("no such page")

    @router.get("/")
    async def get_home(request: Request) -> Response:
        return await pages.serve(request, home)

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

    @router.get("/login")
    async def get_login(request: Request) -> Response:
        return await pages.serve(request, login_form)

    @router.post("/login")
    async def post_login(request: Request) -> Response:
        return await pages.serve(request, login, form=True)

    @router.post("/logout")
    async def post_logout(request: Request) -> Response:
        return await pages.serve(request, logout, form=True)

    add_efficiency_pages(router, pages)

    @router.get("/static/{name}")
    async def get_static(request: Request, name: str) -> Response:
        if name != _CSS:
            return await pages.serve(request, not_found)
        css = (STATIC_DIR / _CSS).read_bytes()
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
        }
        return Response(css, media_type="text/css", headers=headers)

    return router
