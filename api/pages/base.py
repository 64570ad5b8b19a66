"""What every page handler shares: settings, the caller of a page request, the CSRF cookie,
query parameters read and bounded, and the error page (docs/PAGES.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import ANONYMOUS, Caller
from api.pages.i18n import (
    DEFAULT_LANGUAGE,
    LANG_COOKIE,
    LANGUAGES,
    TZ_COOKIE,
    ZONES,
    Reader,
    language_from_header,
    zone_named,
)
from api.pages.render import FormError, Renderer
from api.pages.session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SessionSigner,
    load_or_create_secret,
)
from api.pages.throttle import LoginThrottle, ThrottleConfig
from api.service import ApiService
from ledger.core.errors import MalformedError
from ledger.service.limits import DEFAULT_PAGE, MAX_CURSOR, MAX_PAGE

__all__ = ["PageRequest", "Pages", "PagesConfig"]

log = logging.getLogger("carbonledger.api.pages")

MAX_FORM_BYTES = 4096
#: How long a chosen language or time zone is remembered (a year).
PREFERENCE_TTL_S = 365 * 24 * 3600


@dataclass(frozen=True)
class PagesConfig:
    """Settings of the pages (docs/PAGES.md §4). Page sizes and the lengths of ids and
    subjects are the ledger's (``ledger.service.limits``): a page size over ``MAX_PAGE``
    is clamped to it and the page says so; the JSON API refuses it instead
    (docs/API.md §5)."""

    session_ttl_s: int = 8 * 3600
    #: Failed-login limits of the login form (docs/PAGES.md §2.1).
    login_throttle: ThrottleConfig = field(default_factory=ThrottleConfig)


@dataclass
class PageRequest:
    """One page request: its caller, its reader (language and zone), and the CSRF token
    its forms carry."""

    request: Request
    api: ApiService
    caller: Caller
    csrf: str
    set_csrf: bool
    clear_session: bool
    #: The token of the caller's page session (None for the public).
    session_token: str | None = None
    reader: Reader = field(default_factory=lambda: Reader(DEFAULT_LANGUAGE, "UTC"))
    #: Cookies to set because the reader chose a language or a zone with this request.
    remember: dict[str, str] = field(default_factory=dict)

    def context(self, **values: Any) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "csrf": self.csrf,
            "path": self.here(),
            "switch_url": self.switch_url,
            "kept_params": self.kept_params(),
            "zones": ZONES,
            **values,
        }

    def switch_url(self, lang: str) -> str:
        """This page in language ``lang`` (the choice is then remembered)."""
        return self.with_params(lang=lang)

    def with_params(self, **changes: str | None) -> str:
        """This page's URL with ``changes`` made to its query (None drops a parameter)."""
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k not in changes]
        params += [(k, v) for k, v in changes.items() if v is not None]
        path = self.request.url.path
        if path in ("/login", "/logout"):
            path = "/"
        return path + ("?" + urlencode(params) if params else "")

    def kept_params(self) -> list[tuple[str, str]]:
        """The query of this page but its language and zone (the zone form repeats them)."""
        return [
            (k, v)
            for k, v in self.request.query_params.multi_items()
            if k not in ("lang", "tz", "csrf")
        ][:20]

    def here(self) -> str:
        """This page's path and query: where signing in returns to."""
        url = self.request.url
        if url.path in ("/login", "/logout"):
            return "/"
        return url.path + (f"?{url.query}" if url.query else "")

    def query(self, name: str, *, max_chars: int) -> str:
        """A required query parameter of at most ``max_chars`` characters."""
        value = self.request.query_params.get(name)
        if value is None or value == "":
            raise MalformedError(f"the query parameter {name!r} is required", path=name)
        if len(value) > max_chars:
            raise MalformedError(f"at most {max_chars} characters", path=name)
        return value

    def optional(self, name: str, *, max_chars: int) -> str | None:
        """An optional query parameter of at most ``max_chars`` characters (None if empty)."""
        value = self.request.query_params.get(name)
        if value is None or value.strip() == "":
            return None
        if len(value) > max_chars:
            raise MalformedError(f"at most {max_chars} characters", path=name)
        return value.strip()

    def choice(self, name: str, allowed: Collection[str]) -> str | None:
        """An optional query parameter that must be one of ``allowed``."""
        value = self.optional(name, max_chars=64)
        if value is not None and value not in allowed:
            raise MalformedError(f"expected one of {', '.join(allowed)}", path=name)
        return value

    def integer(self, name: str, *, default: int, low: int, high: int | None = None) -> int:
        text = self.request.query_params.get(name)
        if text is None or text == "":
            return default
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise MalformedError("expected a whole number", path=name)
        value = int(text)
        if value < low or value > (high if high is not None else MAX_CURSOR):
            raise MalformedError(f"out of range ({low}..{high or MAX_CURSOR})", path=name)
        return value


def reader_of(request: Request) -> tuple[Reader, dict[str, str]]:
    """The reader of a request: language and zone from the query (then remembered), the
    cookies, or the ``Accept-Language`` header; and the cookies to set."""
    remember: dict[str, str] = {}
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGUAGES else None
    if lang is not None:
        remember[LANG_COOKIE] = lang
    else:
        cookie = request.cookies.get(LANG_COOKIE)
        lang = cookie if cookie in LANGUAGES else None
    lang = lang or language_from_header(request.headers.get("accept-language"))
    lang = lang or DEFAULT_LANGUAGE
    zone_asked = request.query_params.get("tz")
    if zone_named(zone_asked) is not None and zone_asked is not None:
        zone = remember[TZ_COOKIE] = zone_asked
    else:
        cookie = request.cookies.get(TZ_COOKIE)
        zone = cookie if cookie is not None and zone_named(cookie) else LANGUAGES[lang][2]
    return Reader(lang, zone), remember


class Pages:
    """The pages' state: the service object is read from the app at request time."""

    def __init__(
        self, *, data_dir: Path, secret: bytes | None = None, config: PagesConfig | None = None
    ) -> None:
        self.data_dir = data_dir
        self.config = config or PagesConfig()
        self.renderer = Renderer()
        self._secret = secret
        self._signer: SessionSigner | None = None
        self.throttle = LoginThrottle(self.config.login_throttle)

    @property
    def signer(self) -> SessionSigner:
        # Made on first use, so building the app has no effect on the data directory.
        if self._signer is None:
            self._signer = SessionSigner(self._secret or load_or_create_secret(self.data_dir))
        return self._signer

    def limit(self, page: PageRequest) -> tuple[int, bool]:
        """The page size asked for, clamped to ``MAX_PAGE``; and whether it was clamped."""
        asked = page.integer("limit", default=DEFAULT_PAGE, low=1, high=MAX_CURSOR)
        return min(asked, MAX_PAGE), asked > MAX_PAGE

    def now(self, api: ApiService) -> datetime:
        return api.clock()

    def begin(self, request: Request) -> PageRequest:
        api: ApiService = request.app.state.api
        signer = self.signer
        caller, clear, token = ANONYMOUS, False, None
        raw = request.cookies.get(SESSION_COOKIE)
        if raw is not None:
            token = signer.read_session(raw)
            found = api.access.page_caller(token) if token is not None else None
            if found is None:
                # Forged, expired, signed out, or its key revoked: back to the public view.
                clear, token = True, None
            else:
                caller = found
        csrf = request.cookies.get(CSRF_COOKIE)
        fresh = not signer.is_csrf_valid(csrf)
        if fresh or csrf is None:
            csrf = signer.csrf_value()
        reader, remember = reader_of(request)
        return PageRequest(request, api, caller, csrf, fresh, clear, token, reader, remember)

    def finish(self, page: PageRequest, response: Response) -> Response:
        secure = page.request.url.scheme == "https"
        if page.set_csrf:
            response.set_cookie(
                CSRF_COOKIE, page.csrf, httponly=True, samesite="strict", secure=secure, path="/"
            )
        if page.clear_session:
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        for name, value in page.remember.items():
            response.set_cookie(
                name, value, max_age=PREFERENCE_TTL_S, samesite="lax", secure=secure, path="/"
            )
        return response

    async def serve(
        self, request: Request, work: Callable[[PageRequest], Response], *, form: bool = False
    ) -> Response:
        """Runs ``work`` for one page; any error becomes the HTML error page."""
        page: PageRequest | None = None
        try:
            page = await run_in_threadpool(self.begin, request)
            if form:
                await self.check_form(page)
            response = await run_in_threadpool(work, page)
        except Exception as exc:
            if page is None:
                reader, _ = reader_of(request)
                page = PageRequest(request, request.app.state.api, ANONYMOUS, "", False, False)
                page.reader = reader
            response = self.renderer.error(exc, page.context(), reader=page.reader)
        return self.finish(page, response)

    async def status_page(
        self, request: Request, status: int, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """The error page of ``status`` for a path no page or route serves (404) or a
        method it does not take (405): what ``api.problems`` answers a browser."""
        detail = f"{request.method} {request.url.path}"[:200]

        def work(page: PageRequest) -> Response:
            slug = "not-found" if status == 404 else "method-not-allowed"
            return self.renderer.problem(
                status, detail, page.context(), reader=page.reader, slug=slug, headers=headers
            )

        return await self.serve(request, work)

    def mount(
        self,
        router: APIRouter,
        path: str,
        handler: Callable[[PageRequest], Response],
        *,
        form: bool = False,
    ) -> None:
        """Serve ``handler`` at ``path``: a GET page, or a form's POST when ``form``."""

        async def endpoint(request: Request) -> Response:
            return await self.serve(request, handler, form=form)

        method = "POST" if form else "GET"
        name = f"page_{method.lower()}{path.replace('/', '_')}"
        router.add_api_route(path, endpoint, methods=[method], name=name)

    def render(
        self,
        page: PageRequest,
        template: str,
        *,
        http_status: int = 200,
        script: bool = False,
        **values: Any,
    ) -> Response:
        """``template`` for ``page``'s reader, with the page's context and ``values``."""
        return self.renderer.page(
            template, page.context(**values), reader=page.reader, status=http_status, script=script
        )

    async def check_form(self, page: PageRequest) -> None:
        """A form post must be url-encoded, small, same-origin and carry the CSRF token."""
        request = page.request
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise FormError("the form was posted from another site", path="origin")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise FormError("expected a form (application/x-www-form-urlencoded)", path="body")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise FormError(f"the form exceeds {MAX_FORM_BYTES} bytes", path="body")
        try:
            fields = parse_qs(body.decode("utf-8"), max_num_fields=10, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise FormError("the form is not readable", path="body") from None
        form = {k: v[0] for k, v in fields.items() if v}
        if not self.signer.csrf_matches(request.cookies.get(CSRF_COOKIE), form.get("csrf")):
            raise FormError(
                "the form's security token is missing or stale: reload the page and retry",
                path="csrf",
            )
        request.state.form = form
