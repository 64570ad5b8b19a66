"""Rendering: the Jinja2 environment, security headers and the HTML error page.

Autoescaping is on for every template, whatever its name (``autoescape=True``, not the
extension-based default), and ``finalize`` turns ``None`` into an empty string and a
timestamp into RFC 3339 UTC with ``Z``, as the JSON API writes it. No
template marks record data ``|safe`` (tests/pages/test_escaping.py checks the sources).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, Response

from api.pages.throttle import TooManyAttemptsError
from api.problems import PROBLEM_TABLE
from ledger.core.canonical import format_timestamp
from ledger.core.errors import LedgerError, MalformedError

__all__ = ["SECURITY_HEADERS", "TEMPLATES_DIR", "FormError", "Renderer"]

log = logging.getLogger("carbonledger.api.pages")

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: Sent with every page. The CSP allows our stylesheet and nothing else: no script at
#: all (the pages work without JavaScript), no inline style, no frames, forms post only
#: to us (CSP Level 3 §6). ``same-origin`` referrers keep record ids and subjects in our
#: URLs from other sites, yet let the browser send a real ``Origin`` on our own form posts
#: (with ``no-referrer`` it sends ``Origin: null``, which the CSRF check must refuse).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class FormError(LedgerError):
    """A form post that is not ours: no or a wrong CSRF token, a foreign Origin (403)."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")


def _finalize(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return "" if value is None else value


class Renderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def page(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(
            html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def error(self, exc: BaseException, context: Mapping[str, Any]) -> Response:
        """The short HTML page of an error: the problem title and status of
        ``api.problems.PROBLEM_TABLE``, our own message, never a stack trace."""
        if isinstance(exc, FormError):
            return self.problem(403, "Form refused", exc.message, context, slug="form-refused")
        if isinstance(exc, TooManyAttemptsError):
            return self.problem(
                429,
                "Too many attempts",
                exc.message,
                context,
                slug="too-many-attempts",
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        for cls, status, slug, title in PROBLEM_TABLE:
            if isinstance(exc, cls):
                detail = exc.message
                if isinstance(exc, MalformedError) and exc.path:
                    detail = f"{exc.path}: {detail}"
                return self.problem(status, title, detail, context, slug=slug)
        correlation_id = secrets.token_hex(8)
        log.error("internal error %s on a page", correlation_id, exc_info=exc)
        return self.problem(
            500,
            "Internal error",
            f"The error was logged; quote the correlation id {correlation_id}.",
            context,
            slug="internal",
        )

    def problem(
        self,
        status: int,
        title: str,
        detail: str,
        context: Mapping[str, Any],
        *,
        slug: str = "error",
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return self.page(
            "error.html",
            {**context, "status": status, "title": title, "detail": detail, "slug": slug},
            status=status,
            headers=headers,
        )
