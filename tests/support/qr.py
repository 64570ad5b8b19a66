"""Scanning a QR code in SVG as a phone would: rasterised by resvg on white, decoded by
zxing-cpp (well-kept libraries, never the code under test)."""

from __future__ import annotations

import io

import resvg_py
import zxingcpp
from PIL import Image


def scan_qr(svg: str) -> list[str]:
    """The texts of the QR codes in ``svg``."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff"))
    image = Image.open(io.BytesIO(png))
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]
