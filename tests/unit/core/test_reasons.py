"""The revocation reason codes: one table in the code, the same table in docs/API.md §3.5
(what auditors read), stable codes, and every on-chain code shown, listed or not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.core.errors import MalformedError
from ledger.core.reasons import REASONS, VERDICT_CODES, VERDICT_NAMES, describe_reason, reason_for

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "API.md"


def test_the_documented_table_is_the_code_table() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    section = text[text.index("### 3.5 Revocations and reason codes") :]
    rows = re.findall(
        r"^\| (\d+) \| `([a-z-]+)` \| ([^|]+) \| ([^|]+) \| (yes|no) \|$", section, re.M
    )
    documented = [
        (int(code), slug, en.strip(), zh.strip(), flag == "yes")
        for code, slug, en, zh, flag in rows
    ]
    assert documented == [(r.code, r.slug, r.en, r.zh, r.producer_may_use) for r in REASONS]


def test_codes_are_unique_non_zero_uint16_and_slugs_unique() -> None:
    codes = [r.code for r in REASONS]
    assert codes == sorted(set(codes)) and all(0 < c < 2**16 for c in codes)
    assert len({r.slug for r in REASONS}) == len(REASONS)


def test_a_reason_is_found_by_code_or_slug_and_refused_otherwise() -> None:
    assert reason_for(6).slug == "fraud" and reason_for("fraud").code == 6
    for wrong in (0, 9, 65535, "", "Fraud", True):
        with pytest.raises(MalformedError) as refused:
            reason_for(wrong, path="reason_code")
        assert refused.value.path == "reason_code" and "1 (data-error)" in refused.value.reason


def test_an_unlisted_code_read_from_the_chain_is_still_shown() -> None:
    assert describe_reason(4)["slug"] == "key-compromise"
    unlisted = describe_reason(4242)
    assert unlisted == {
        "code": 4242,
        "slug": None,
        "en": "Unlisted reason code 4242",
        "zh": "未列出的原因代码 4242",
    }


def test_verdict_names_and_codes_are_each_others_inverse() -> None:
    assert VERDICT_CODES == {"conforms": 1, "conforms-with-findings": 2, "does-not-conform": 3}
    assert {v: k for k, v in VERDICT_NAMES.items()} == VERDICT_CODES
