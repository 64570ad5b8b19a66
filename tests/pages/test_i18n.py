"""The pages in two languages (docs/PAGES.md §1.1): complete catalogues, the language from
the request and remembered, ``<html lang>``, figures with the locale's grouping, times in
UTC and in the reader's zone."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from api.pages import catalogue
from api.pages.i18n import Reader, language_from_header
from api.pages.vocab import LABELS, extra_messages
from api.readers import BASIS_OF_ROLE
from ledger.core.reasons import REASONS
from ledger.core.records import RECORD_TYPES
from ledger.examples import CC_ENTERPRISE_2025, CR_TANK
from ledger.store.auditlog import EVENT_KINDS
from ledger.store.models import ANCHOR_TX_STATES, BATCH_STATES, CHAIN_TX_STATES, RECORD_STATUSES
from tests.api.world import World
from tests.pages.conftest import browser, page_of


def test_every_message_is_translated() -> None:
    assert catalogue.check_catalogues() == []
    wanted = catalogue.extract_messages()
    assert len(wanted) > 300
    # The reason codes' words are messages too, in the words of ledger/core/reasons.py.
    assert {r.en for r in REASONS} <= set(extra_messages()) <= set(wanted)
    zh = Reader("zh", "Asia/Shanghai")
    assert all(zh.gettext(r.en) == r.zh for r in REASONS)


def test_a_catalogue_lacking_a_message_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "zh" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(catalogue.catalogue_path("zh"), copy)
    monkeypatch.setattr(
        catalogue, "catalogue_path", lambda lang: tmp_path / lang / "LC_MESSAGES" / copy.name
    )
    assert catalogue.check_catalogues() == []
    with copy.open("rb") as source:
        messages = read_po(source)
    del messages["Warning list"]
    messages["Sign in"].string = ""
    messages["Signed in as %(name)s (%(role)s)"].string = "已登录：%(name)s"
    with copy.open("wb") as sink:
        write_po(sink, messages)
    problems = catalogue.check_catalogues()
    assert any(p.startswith("zh: missing 'Warning list' (used at ") for p in problems)
    assert any(p.startswith("zh: untranslated 'Sign in'") for p in problems)
    assert any("placeholders differ" in p and "Signed in as" in p for p in problems)


@pytest.mark.parametrize(
    "header,lang",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9,zh;q=0.8", "en"),
        ("fr-FR, zh-TW;q=0.5", "zh"),
        ("zh;q=0, en", "en"),
        ("fr", None),
        ("", None),
        ("zh;q=abc, en;q=0.1", "en"),
    ],
)
def test_language_from_the_accept_language_header(header: str, lang: str | None) -> None:
    assert language_from_header(header) == lang


def test_the_language_is_chosen_switched_and_remembered(world: World) -> None:
    client = browser(world, None)
    english = page_of(client.get("/"))
    assert ("html", {"lang": "en"}) in english.tags and "Overview" in english.text
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "概览" in page_of(chinese).text
    switched = client.get("/record", params={"id": CR_TANK, "lang": "zh"})
    assert switched.cookies.get("cl_lang") == "zh"
    # Remembered: the next page is Chinese whatever the browser's header says.
    again = client.get("/warnings", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in again.text and "预警名单" in page_of(again).text
    back = client.get("/warnings", params={"lang": "en"})
    assert '<html lang="en">' in back.text and back.cookies.get("cl_lang") == "en"


def test_record_words_and_error_pages_in_chinese(world: World) -> None:
    client = browser(world, "eu-regulator")
    rating = page_of(client.get("/record", params={"id": CC_ENTERPRISE_2025, "lang": "zh"}))
    assert "信用评级变更" in rating.text and "定期复评" in rating.text
    assert "动态碳治理" in rating.text and "完整视图：全部字段。" in rating.text
    missing = client.get("/record", params={"id": "urn:carbonledger:carbon-record:none"})
    assert missing.status_code == 404 and "未找到" in page_of(missing).text
    huge = client.get("/enterprises", params={"page": "99999999999"})
    assert huge.status_code == 422 and huge.headers["content-type"].startswith("text/html")
    assert "请检查输入内容" in page_of(huge).text and "Traceback" not in huge.text


def test_figures_are_grouped_and_every_digit_kept() -> None:
    english, chinese = Reader("en", "UTC"), Reader("zh", "Asia/Shanghai")
    assert english.number("24676.2800") == "24,676.2800"
    assert chinese.number("-1234567") == "-1,234,567"
    assert english.number("0.0546") == "0.0546" and english.number("AR6") == "AR6"
    assert english.delta("82.375", "80") == "+2.375" and english.delta("1", "3") == "-2"


def test_times_in_utc_and_in_the_readers_zone(world: World) -> None:
    moment = datetime(2026, 3, 20, 20, 30, tzinfo=UTC)
    assert Reader("en", "UTC").utc(moment) == "2026-03-20 20:30:00 UTC"
    assert Reader("en", "UTC").local(moment) is None
    shanghai = Reader("zh", "Asia/Shanghai").local(moment)
    assert shanghai == "2026-03-21 04:30:00 (Asia/Shanghai, UTC+08:00)"
    page = page_of(browser(world, None).get("/batches", params={"lang": "zh"}))
    assert "(Asia/Shanghai, UTC+08:00)" in page.text and " UTC" in page.text
    dubai = page_of(browser(world, None).get("/batches", params={"tz": "Asia/Dubai"}))
    assert "(Asia/Dubai, UTC+04:00)" in dubai.text


#: Every value of each vocabulary the pages show, from where the ledger defines it.
SHOWN_VALUES: dict[str, tuple[str, ...]] = {
    "type": RECORD_TYPES,
    "state": (*RECORD_STATUSES, "revoked", "superseded"),
    "batch-state": BATCH_STATES,
    "tx-state": (*CHAIN_TX_STATES, *ANCHOR_TX_STATES),
    "audit-event": EVENT_KINDS,
    "basis": (*BASIS_OF_ROLE.values(), "public"),
    # The channels of a read, as docs/API.md §2.1 lists them.
    "read-channel": ("api", "page", "bundle"),
}


def test_every_value_the_pages_show_has_a_message() -> None:
    missing = [
        f"{kind}: {value}"
        for kind, values in SHOWN_VALUES.items()
        for value in values
        if value not in LABELS.get(kind, {})
    ]
    assert missing == []
    # ... and the catalogue translates each (its msgid is extracted through N_).
    zh = Reader("zh", "Asia/Shanghai")
    untranslated = [
        f"{kind}: {value}"
        for kind, values in SHOWN_VALUES.items()
        for value in values
        if zh.gettext(LABELS[kind][value]) == LABELS[kind][value]
    ]
    assert untranslated == []


def test_the_audit_log_and_the_access_log_in_chinese(world: World) -> None:
    client = browser(world, "eu-regulator")
    client.get("/record", params={"id": CR_TANK})  # a read in full: audited and logged
    audit = client.get("/audit", params={"lang": "zh"})
    assert audit.status_code == 200
    text = page_of(audit).text
    assert "完整查阅记录" in text and "privileged_read" not in text
    # Times as everywhere else: the reader's zone, then UTC; never the raw RFC 3339 text.
    assert "(Asia/Shanghai, UTC+08:00)" in text and " UTC" in text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text) is None
    log = page_of(client.get("/access/log", params={"lang": "zh"})).text
    assert "监管机构身份" in log and "role:regulator" not in log
    assert "页面" in log and ">page<" not in log


def test_batch_states_and_error_details_in_chinese(world: World) -> None:
    client = browser(world, None)
    batches = page_of(client.get("/batches", params={"lang": "zh"})).text
    assert "已上链锚定" in batches and "anchored" not in batches
    huge = client.get("/enterprises", params={"page": "99999999999"})
    detail = page_of(huge).text
    assert huge.status_code == 422 and "超出范围" in detail and "out of range" not in detail
    assert detail.count("page:") == 1
