"""The audit-trail pages: server-rendered HTML for regulators and the public
(docs/PAGES.md; docs/RECORDS.md).

``install_pages(app, data_dir=...)`` mounts them in ``api.app.create_app``. The pages call the same
``ApiService`` methods as the JSON API, so a page shows exactly what the API would answer
the same caller: the public sees desensitized views, a regulator everything.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from api.pages.base import Pages, PagesConfig
from api.pages.routes import page_router as _routes

__all__ = ["PagesConfig", "install_pages", "page_router"]


def page_router(
    *, data_dir: Path, secret: bytes | None = None, config: PagesConfig | None = None
) -> APIRouter:
    """The pages' routes. ``secret`` (at least 16 bytes) signs session and CSRF cookies;
    by default it is read from ``<data_dir>/pages-secret``, made on first use."""
    return _routes(Pages(data_dir=data_dir, secret=secret, config=config))


def install_pages(
    app: FastAPI, *, data_dir: Path, secret: bytes | None = None, config: PagesConfig | None = None
) -> None:
    """Mount the pages on ``app`` and put them on ``app.state.pages``, where the error
    handler (``api.problems``) finds them to answer a browser's unknown path or method
    with the pages' own error page."""
    pages = Pages(data_dir=data_dir, secret=secret, config=config)
    app.include_router(_routes(pages))
    app.state.pages = pages
