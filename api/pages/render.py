"""Rendering: one Jinja2 environment per language, security headers and the error page.

Autoescaping is on for every template, whatever its name (``autoescape=True``, not the
extension-based default), and ``finalize`` turns ``None`` into an empty string and a
timestamp into RFC 3339 UTC with ``Z``, as the JSON API writes it. No template marks record
data ``|safe`` (tests/pages/test_escaping.py checks the sources). Words come from the
reader's message catalogue (``jinja2.ext.i18n`` with new-style gettext, so a translated
text is escaped like any other value: ``api.pages.i18n``).
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

from api.pages.i18n import LANGUAGES, Reader, translations
from api.pages.throttle import TooManyAttemptsError
from api.pages.vocab import LABELS, N_, labeller, translate_detail
from api.problems import PROBLEM_TABLE
from ledger.core.canonical import format_timestamp
from ledger.core.errors import LedgerError, MalformedError

__all__ = ["SECURITY_HEADERS", "TEMPLATES_DIR", "FormError", "Renderer"]

log = logging.getLogger("carbonledger.api.pages")

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: The CSP of every page: our stylesheet and nothing else. No script at all (the pages
#: work without JavaScript), no inline style, no frames, forms post only to us (CSP
#: Level 3 §6). ``same-origin`` referrers keep record ids and subjects in our URLs from
#: other sites, yet let the browser send a real ``Origin`` on our own form posts (with
#: ``no-referrer`` it sends ``Origin: null``, which the CSRF check must refuse).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: The one page with a script (the document check) may load our own script file and
#: nothing else; it still connects nowhere (``connect-src`` stays 'none').
CSP_WITH_SCRIPT = CSP + "; script-src 'self'"
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

#: What a reader is told for each status, in the reader's language; the technical
#: detail (our own message, in English, naming the field) follows it.
STATUS_TEXT: dict[int, tuple[str, str]] = {
    401: (N_("Sign-in needed"), N_("This page is for signed-in users. Sign in and try again.")),
    403: (
        N_("Not allowed"),
        N_("Your account may not do this, or the form was stale: reload the page and retry."),
    ),
    404: (
        N_("Not found"),
        N_("There is nothing here under that name, or you may not see it."),
    ),
    405: (
        N_("Not possible here"),
        N_("This address does not take this kind of request."),
    ),
    409: (
        N_("Not possible now"),
        N_("What you asked conflicts with the stored state (for example, it has expired)."),
    ),
    422: (
        N_("Check what you typed"),
        N_("Part of the request is not in the expected form."),
    ),
    429: (N_("Too many attempts"), N_("Wait a few minutes, then try again.")),
    503: (
        N_("Temporarily unavailable"),
        N_("A service this page needs did not answer. Try again shortly."),
    ),
    500: (
        N_("Something went wrong"),
        N_("The error was logged. Quote the correlation id below when you report it."),
    ),
}


class FormError(LedgerError):
    """A form post that is not ours: no or a wrong CSRF token, a foreign Origin (403)."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


def _finalize(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return "" if value is None else value


class Renderer:
    """The templates of each language; ``page`` renders one for a reader."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self._envs = {lang: self._environment(templates_dir, lang) for lang in LANGUAGES}

    @staticmethod
    def _environment(templates_dir: Path, lang: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.policies["ext.i18n.trimmed"] = True
        catalogue = translations(lang)
        env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
        env.globals["label"] = labeller(catalogue.gettext)
        env.globals["labelled"] = lambda kind, code: str(code) in LABELS.get(kind, {})
        return env

    def page(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        reader: Reader,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        script: bool = False,
    ) -> HTMLResponse:
        env = self._envs[reader.lang]
        html = env.get_template(template).render(**context, reader=reader)
        security = {**SECURITY_HEADERS, "Content-Language": reader.html_lang}
        if script:
            security["Content-Security-Policy"] = CSP_WITH_SCRIPT
        return HTMLResponse(html, status_code=status, headers={**security, **(headers or {})})

    def error(self, exc: BaseException, context: Mapping[str, Any], *, reader: Reader) -> Response:
        """The short HTML page of an error in the reader's language: the status of
        ``api.problems.PROBLEM_TABLE``, what it means, our own message, never a stack
        trace."""
        if isinstance(exc, FormError):
            detail = f"{exc.path}: {translate_detail(exc.reason, reader.gettext)}"
            return self.problem(403, detail, context, reader=reader, slug="form-refused")
        if isinstance(exc, TooManyAttemptsError):
            return self.problem(
                429,
                exc.message,
                context,
                reader=reader,
                slug="too-many-attempts",
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        for cls, status, slug, _title in PROBLEM_TABLE:
            if isinstance(exc, cls):
                # A malformed value's message names its field already: the field once,
                # then the reason in the reader's words.
                detail = exc.message
                if isinstance(exc, MalformedError):
                    reason = translate_detail(exc.reason, reader.gettext)
                    detail = f"{exc.path}: {reason}" if exc.path else reason
                return self.problem(status, detail, context, reader=reader, slug=slug)
        correlation_id = secrets.token_hex(8)
        log.error("internal error %s on a page", correlation_id, exc_info=exc)
        return self.problem(
            500, f"correlation id {correlation_id}", context, reader=reader, slug="internal"
        )

    def problem(
        self,
        status: int,
        detail: str,
        context: Mapping[str, Any],
        *,
        reader: Reader,
        slug: str = "error",
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        title, explanation = STATUS_TEXT.get(status, STATUS_TEXT[500])
        return self.page(
            "error.html",
            {
                **context,
                "status": status,
                "title": reader.gettext(title),
                "explanation": reader.gettext(explanation),
                "detail": detail,
                "slug": slug,
            },
            reader=reader,
            status=status,
            headers=headers,
        )
