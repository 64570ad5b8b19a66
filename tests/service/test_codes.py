"""The carbon-efficiency code drawn as SVG (ledger.service.codes) and read back by a
well-kept decoder: resvg renders the SVG to pixels, zxing-cpp decodes the QR code."""

from __future__ import annotations

import pytest

from ledger.core.efficiency_code import (
    efficiency_code_payload,
    parse_efficiency_code,
    verify_efficiency_code,
)
from ledger.core.errors import MalformedError
from ledger.core.view import commit
from ledger.examples import efficiency as ex
from ledger.service.codes import efficiency_code_svg
from tests.support.qr import scan_qr


def test_code_scans_back_to_the_page_and_the_evaluation_digest() -> None:
    digests: dict[str, str] = {}

    def digest_of(record: dict[str, object]) -> str:
        digests[str(record["id"])] = commit(record).digest_hex
        return digests[str(record["id"])]

    ex.efficiency_example_records(digest_of, days=1)
    payload = efficiency_code_payload(
        "https://ledger.example.com", ex.EVALUATION, digests[ex.EVALUATION]
    )
    svg = efficiency_code_svg(payload)
    assert svg.startswith("<svg") and "<title>carbon-efficiency code</title>" in svg
    (scanned,) = scan_qr(svg)
    assert scanned == payload
    code = parse_efficiency_code(scanned)
    assert code.page_url.startswith("https://ledger.example.com/efficiency?id=")
    verify_efficiency_code(code, ex.EVALUATION, digests[ex.EVALUATION])


@pytest.mark.parametrize("scale", [1, 3, 8])
def test_every_scale_scans(scale: int) -> None:
    payload = efficiency_code_payload("http://127.0.0.1:8000", ex.EVALUATION, "0a" * 32)
    assert scan_qr(efficiency_code_svg(payload, scale=scale)) == [payload]


def test_only_a_code_payload_is_drawn() -> None:
    with pytest.raises(MalformedError):
        efficiency_code_svg("https://evil.example/phish")
