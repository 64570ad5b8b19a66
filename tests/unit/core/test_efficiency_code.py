"""The carbon-efficiency code's payload (ledger.core.efficiency_code, docs/RECORDS.md §3.17)."""

from __future__ import annotations

import pytest

from ledger.core.efficiency_code import (
    efficiency_code_payload,
    parse_efficiency_code,
    verify_efficiency_code,
)
from ledger.core.errors import DigestMismatchError, MalformedError

RID = "urn:carbonledger:carbon-efficiency:example-plant"
DIGEST = "3f" * 32
BASE = "https://ledger.example.com"
PAYLOAD = f"{BASE}/efficiency?id={RID}&digest={DIGEST}"


def test_payload_is_the_page_url_with_id_and_digest() -> None:
    assert efficiency_code_payload(BASE, RID, DIGEST) == PAYLOAD
    code = parse_efficiency_code(PAYLOAD)
    assert (code.page_url, code.record_id, code.digest_hex) == (PAYLOAD, RID, DIGEST)
    verify_efficiency_code(code, RID, DIGEST)


def test_percent_encoded_id_round_trips() -> None:
    rid = "urn:carbonledger:carbon-efficiency:plant/2026%01"
    payload = efficiency_code_payload("http://127.0.0.1:8000/ledger", rid, DIGEST)
    assert "plant%2F2026%2501" in payload
    assert parse_efficiency_code(payload).record_id == rid


@pytest.mark.parametrize(
    "payload",
    [
        PAYLOAD.replace("/efficiency?", "/trail?"),
        PAYLOAD + "&grade=1",
        PAYLOAD.replace(DIGEST, DIGEST.upper()),
        PAYLOAD.replace(DIGEST, DIGEST[:-2]),
        PAYLOAD + "#top",
        PAYLOAD.replace("https://", "javascript://"),
        PAYLOAD.replace("?id=", "?digest=" + DIGEST + "&id=").split("&digest=" + DIGEST)[0]
        + "&digest="
        + DIGEST,
        PAYLOAD.replace("id=urn:", "id=urn%3A"),
        "https://user@ledger.example.com/efficiency?id=" + RID + "&digest=" + DIGEST,
    ],
    ids=[
        "other_page",
        "extra_parameter",
        "uppercase_digest",
        "short_digest",
        "fragment",
        "script_scheme",
        "parameters_reordered",
        "id_spelled_otherwise",
        "credentials_in_url",
    ],
)
def test_payload_not_in_the_one_form_is_refused(payload: str) -> None:
    with pytest.raises(MalformedError):
        parse_efficiency_code(payload)


def test_code_for_other_digest_fails() -> None:
    code = parse_efficiency_code(PAYLOAD)
    with pytest.raises(DigestMismatchError) as info:
        verify_efficiency_code(code, RID, "40" * 32)
    assert (info.value.expected, info.value.computed) == (DIGEST, "40" * 32)
    with pytest.raises(MalformedError):
        verify_efficiency_code(code, RID + "-2", DIGEST)
