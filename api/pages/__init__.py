"""The audit-trail pages: server-rendered HTML for regulators and the public
(docs/PAGES.md; docs/RECORDS.md).

``page_router(data_dir=...)`` is mounted by ``api.app.create_app``. The pages call the same
``ApiService`` methods as the JSON API, so a page shows exactly what the API would answer
the same caller: the public sees desensitized views, a regulator everything.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from api.pages.base import Pages, PagesConfig
from api.pages.routes import page_router as _routes

__all__ = ["PagesConfig", "page_router"]


def page_router(
    *, data_dir: Path, secret: bytes | None = None, config: PagesConfig | None = None
) -> APIRouter:
    """The pages' routes. ``secret`` (at least 16 bytes) signs session and CSRF cookies;
    by default it is read from ``<data_dir>/pages-secret``, made on first use."""
    return _routes(Pages(data_dir=data_dir, secret=secret, config=config))
