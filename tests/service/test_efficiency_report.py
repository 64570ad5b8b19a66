"""The bilingual evaluation report (ledger.service.efficiency_report, docs/RECORDS.md §3.16):
rendered from a day of the example plant to HTML and PDF (WeasyPrint), its text extracted
from the PDF with pdftotext (poppler, not the code under test) in both languages, its hashes
in the evaluation's ``body.documents``; the evaluation with its report is accepted and
recomputed like any evaluation, and the report is reproducible byte for byte."""

from __future__ import annotations

import copy
import hashlib
import subprocess
from typing import Any

import pytest

from ledger.core.calc.efficiency import check_carbon_efficiency
from ledger.core.records import Record, validate_record
from ledger.core.view import Commitment, commit
from ledger.examples import efficiency as ex
from ledger.service import LedgerService
from ledger.service.efficiency_report import REPORT_NAMES, attach_report, report_html
from ledger.service.submission import RefusedRecordError
from ledger.store import Store
from tests.service.conftest import dump, submission
from tests.service.test_efficiency_accept import DESK_KEY, accept, plant  # noqa: F401


def _closure(records: dict[str, Commitment]) -> dict[str, Record]:
    return {rid: validate_record(c.record) for rid, c in records.items()}


def _pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", "-", "-"],
        input=pdf, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    return " ".join(done.stdout.decode("utf-8").split())


def test_the_report_reads_in_both_languages_and_its_hashes_are_in_the_record(
    plant: dict[str, Commitment],  # noqa: F811
) -> None:
    closure = _closure(plant)
    evaluation = plant[ex.EVALUATION].record
    with_report, files = attach_report(evaluation, closure)
    assert set(files) == set(REPORT_NAMES.values())
    documents = with_report["body"]["documents"]
    for doc in documents:
        data = files[doc["name"]]
        assert (doc["sha256"], doc["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert files[REPORT_NAMES["pdf"]].startswith(b"%PDF-")
    text = _pdf_text(files[REPORT_NAMES["pdf"]])
    result = evaluation["body"]["result"]
    for words in (
        "企业碳效评价报告",
        "Enterprise carbon-efficiency evaluation report",
        "评价对象与边界 Object and boundary",
        "Sources, gases and activity data",
        "88.118.8/MP-GRID-01",
        "88.118.8/MP-PV-01",
        "7340 kWh",
        "24 (1 批",  # a day of hourly readings per source, in one batch
        "碳效等级 Grade",
        "低碳 low",
        f"碳排放强度 L (tCO₂/万元 per 10,000 CNY) {result['intensity']['value']}",
        f"碳效值 K = L / 行业平均 industry average {result['efficiency_value']['value']}",
        "≤ 0.6",
        "≤ 2.0",
        "以上 and above",
    ):
        assert words in text, words
    assert f"Grade {result['grade']}" in text
    # The record with its report is a valid evaluation whose figures still recompute.
    record = validate_record(with_report)
    check_carbon_efficiency(record, closure, signatures=False)
    # Reproducible: the same evaluation renders the same bytes.
    again, files_again = attach_report(with_report, closure)
    assert files_again == files and again == with_report


def test_an_evaluation_with_its_report_is_accepted_and_a_wrong_figure_still_refused(
    service: LedgerService,
    store: Store,
    plant: dict[str, Commitment],  # noqa: F811
) -> None:
    closure = _closure(plant)
    for c in plant.values():
        if c.record["id"] != ex.EVALUATION:
            accept(service, c)
    record: dict[str, Any] = {**plant[ex.EVALUATION].record, "id": ex.EVALUATION + "-report"}
    with_report, _files = attach_report(record, closure)
    receipt = service.accept(submission(commit(with_report), DESK_KEY))
    assert receipt.record_id == with_report["id"]
    assert any(with_report["id"] in row for row in dump(store)["records"])
    # The report's hashes change nothing of the recomputation: a wrong grade is refused.
    wrong = copy.deepcopy(with_report)
    wrong["id"] += "-wrong"
    wrong["body"]["result"]["grade"] = 1
    before = dump(store)
    with pytest.raises(RefusedRecordError) as info:
        service.accept(submission(commit(wrong), DESK_KEY))
    assert info.value.field == "body.result.grade"
    assert dump(store) == before


def test_the_html_names_the_rule_and_escapes_what_it_quotes(
    plant: dict[str, Commitment],  # noqa: F811
) -> None:
    closure = _closure(plant)
    evaluation = dict(plant[ex.EVALUATION].record)
    body = dict(evaluation["body"])
    body["boundary"] = {**body["boundary"], "description": "<script>alert(1)</script> & more"}
    html = report_html({**evaluation, "body": body}, closure)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert ex.RULE_EFFICIENCY in html
