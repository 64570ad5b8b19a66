"""Rendering a caliber-equivalence declaration (docs/API.md §3.7) as HTML and as PDF.

The content is ``ledger.core.crossborder.declaration.declaration_content`` (both
languages); the HTML comes from one Jinja2 template with autoescaping, the PDF from that
HTML through WeasyPrint (Pango, with the Noto CJK fonts for the Chinese). The bytes are
what the accredited body reviews, hashes and anchors in its equivalence-declaration
record: render once and keep the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger.core.crossborder.declaration import declaration_content
from ledger.core.records import Record

__all__ = ["MEDIA_TYPES", "render_declaration"]

_TEMPLATES = Path(__file__).parent / "templates" / "declaration"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def render_html(content: dict[str, Any]) -> bytes:
    return _ENV.get_template("declaration.html").render(c=content).encode("utf-8")


def render_declaration(conversion: Record, source: Record, rule: Record, *, fmt: str) -> bytes:
    """The declaration of ``conversion`` as ``html`` or ``pdf`` bytes."""
    html = render_html(declaration_content(conversion, source, rule))
    if fmt == "html":
        return html
    from weasyprint import HTML  # imported on use: Pango loads at import time

    pdf: bytes = HTML(string=html.decode("utf-8"), base_url=str(_TEMPLATES)).write_pdf()
    return pdf
