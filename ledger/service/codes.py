"""The carbon-efficiency code as an image: a QR code (ISO/IEC 18004) in SVG, drawn by
``segno``, carrying the payload of ``ledger.core.efficiency_code`` (docs/RECORDS.md §3.17)."""

from __future__ import annotations

import io

import segno

from ledger.core.efficiency_code import parse_efficiency_code

__all__ = ["efficiency_code_svg"]


def efficiency_code_svg(payload: str, *, scale: int = 4) -> str:
    """An SVG QR code of ``payload`` (checked first: only a well-formed code is drawn), error
    correction level M, a quiet zone of four modules as ISO/IEC 18004 asks."""
    parse_efficiency_code(payload)
    qr = segno.make_qr(payload, error="m", boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=4, xmldecl=False, title="carbon-efficiency code")
    return out.getvalue().decode("utf-8")
