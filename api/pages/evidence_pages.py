"""Verify from the page (docs/PAGES.md §1.3): evidence bundles downloaded in the reader's
view, and "check a document".

The document check computes a file's SHA-256 in the browser with Web Crypto
(``/static/check.js``; the file never leaves the machine) and asks ``/check/result`` which
archive records list a document with that hash, as a notarisation check would. Without
JavaScript the same form takes a hash typed or pasted in.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.responses import Response

from api.pages.base import PageRequest, Pages
from api.pages.evidence import bundle_filename
from api.pages.views import status_of
from api.routes.bundles import pending_header
from ledger.core.errors import MalformedError
from ledger.service.export import MAX_BUNDLE_ITEMS
from ledger.service.limits import MAX_ID_CHARS, MAX_SUBJECT_CHARS

__all__ = ["add_evidence_pages"]


def _download(body: bytes, filename: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def add_evidence_pages(router: APIRouter, pages: Pages) -> None:
    def record_bundle(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        body, _result = page.api.bundle_record(page.caller, record_id, channel="page")
        return _download(body, bundle_filename("record", record_id))

    def trail_bundle(page: PageRequest) -> Response:
        subject = page.query("subject", max_chars=MAX_SUBJECT_CHARS)
        body, result = page.api.bundle_query(
            page.caller,
            subject=subject,
            record_type=None,
            producer=None,
            after=0,
            limit=MAX_BUNDLE_ITEMS if page.caller.name else 200,
            channel="page",
        )
        return _download(body, bundle_filename("trail", subject), pending_header(result.pending))

    def batch_bundle(page: PageRequest) -> Response:
        page.query("seq", max_chars=20)
        seq = page.integer("seq", default=1, low=1)
        body, result = page.api.bundle_query(
            page.caller,
            subject=None,
            record_type=None,
            producer=None,
            batch_seq=seq,
            after=0,
            limit=MAX_BUNDLE_ITEMS if page.caller.name else 200,
            channel="page",
        )
        return _download(body, bundle_filename("batch", str(seq)), pending_header(result.pending))

    def check(page: PageRequest) -> Response:
        return pages.render(page, "check.html", script=True, sha256=None, matches=None)

    def check_result(page: PageRequest) -> Response:
        text = page.query("sha256", max_chars=200).strip()
        digest = text.lower()
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise MalformedError(
                f"a SHA-256 is 64 hex digits; got {len(digest)} characters", path="sha256"
            )
        matches = page.api.registry.documents(page.caller, digest)
        rows = [(m, status_of(m.state)) for m in matches]
        return pages.render(
            page,
            "check.html",
            http_status=200 if rows else 404,
            script=True,
            sha256=digest,
            matches=rows,
        )

    handlers: dict[str, Callable[[PageRequest], Response]] = {
        "/bundle": record_bundle,
        "/bundle/trail": trail_bundle,
        "/bundle/batch": batch_bundle,
        "/check": check,
        "/check/result": check_result,
    }
    for path, handler in handlers.items():
        pages.mount(router, path, handler)
