"""The bilingual evaluation report of a carbon-efficiency evaluation (docs/RECORDS.md §3.16),
in HTML and PDF, Chinese and English side by side: the object and boundary, the sources and
their gas (CO2), the activity data with their metering points and readings, the factors, the
emissions, value added, L, the industry average, K, level and grade, and the grading rule
with its thresholds.

The report is rendered from the evaluation's own fields and the records it links, before
the evaluation is signed; the hashes of both files then go into the evaluation as
``body.documents``, so they are anchored with it (``attach_report``). The bytes are
reproducible: the same evaluation renders the same HTML, and the PDF (WeasyPrint, fonts
from Debian ``fonts-noto-cjk``) carries the evaluation's ``issued_at`` as its creation date.
``carbon-verify bundle … --file report.pdf`` checks a copy against the anchored hash
(check 12).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from html import escape
from typing import Any

from ledger.core.records import Record

__all__ = ["REPORT_NAMES", "attach_report", "report_html", "report_pdf"]

#: File names of the report, as ``body.documents[*].name`` lists them.
REPORT_NAMES = {"html": "carbon-efficiency-report.html", "pdf": "carbon-efficiency-report.pdf"}
_KINDS = {
    "consumption": "能源消耗 energy used",
    "zero-carbon-power": "零碳电力（扣减） zero-carbon power (deducted)",
    "carbon-sink": "碳汇（扣减） carbon sink (deducted)",
}
_LEVELS = {"low": "低碳 low", "medium": "中碳 medium", "high": "高碳 high"}
_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 9.5pt; }
h1 { font-size: 15pt; } h2 { font-size: 11.5pt; margin-top: 14pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #888; padding: 2pt 4pt; text-align: left; vertical-align: top; }
td.n { text-align: right; }
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _row(*cells: Any, numeric: tuple[int, ...] = ()) -> str:
    out = "".join(
        f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
        for i, c in enumerate(cells)
    )
    return f"<tr>{out}</tr>"


def _head(*cells: str) -> str:
    return "<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>"


def _threshold(band: Mapping[str, Any]) -> str:
    top = band.get("max_inclusive")
    return "以上 and above" if top is None else f"≤ {top}"


def report_html(record: Mapping[str, Any], closure: Mapping[str, Record]) -> str:
    """The report of the evaluation ``record`` (a record dict, without ``body.documents``);
    ``closure``: the records it links, by id (readings, factor sets, rule, benchmark)."""
    body, result = record["body"], record["body"]["result"]
    rule = closure[body["rule"]["id"]].body
    benchmark = closure[body["benchmark"]["id"]].body
    period = body["period"]
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f'<meta name="dcterms.created" content="{_e(record["issued_at"])}">',
        f"<title>企业碳效评价报告 Carbon-efficiency evaluation report · {_e(record['id'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>企业碳效评价报告<br>Enterprise carbon-efficiency evaluation report</h1>",
        "<table>",
        _row("评价记录 Evaluation record", record["id"]),
        _row("企业 Enterprise", f"{body['enterprise']['name']} ({body['enterprise']['id']})"),
        _row("行业 Industry", f"{body['industry']['code']} {body['industry']['name']}"),
        _row("评价期 Period", f"{period['start']} – {period['end']}"),
        _row("签发 Issued", f"{record['issued_at']} · {record['producer']}"),
        "</table>",
        "<h2>1. 评价对象与边界 Object and boundary</h2>",
        f"<p>{_e(body['boundary']['description'])}</p>",
        "<p>计量点 Metering points: "
        + ", ".join(_e(p) for p in body["boundary"]["metering_points"])
        + "</p>",
        "<h2>2. 排放源、气体与活动数据 Sources, gases and activity data</h2>",
        "<table>",
        _head(
            "源 Line",
            "类别 Kind",
            "数据项 Field",
            "计量点 Metering point",
            "读数 Readings",
            "活动数据 Quantity",
        ),
    ]
    for source in body["sources"]:
        batches = [closure[link["id"]].body for link in source["readings"]]
        points = sorted({b["metering_point"] for b in batches})
        count = sum(len(b["readings"]) for b in batches)
        parts.append(
            _row(
                source["line_id"],
                _KINDS.get(source["kind"], source["kind"]),
                source["field"],
                ", ".join(points),
                f"{count} ({len(batches)} 批 batches)",
                f"{source['quantity']} {source['unit']}",
                numeric=(5,),
            )
        )
    parts += [
        "</table>",
        "<p>温室气体 Gas: CO₂（评价方法只计二氧化碳 the method counts CO₂ only）。</p>",
        "<h2>3. 排放因子与排放量 Factors and emissions</h2>",
        "<table>",
        _head("源 Line", "因子 Factor", "因子集 Factor set", "排放量 Emissions (kgCO₂)"),
    ]
    for source in body["sources"]:
        factor = source["factor"]
        parts.append(
            _row(
                source["line_id"],
                f"{factor['value']} {factor['unit']} ({factor['entry']})",
                factor["set"]["id"],
                source["emissions_kg"],
                numeric=(3,),
            )
        )
    kg = result["emissions_kg"]
    parts += [
        "</table>",
        "<h2>4. 结果 Results</h2>",
        "<table>",
        _row("消耗排放 Emissions of energy used (kgCO₂)", kg["consumption"], numeric=(1,)),
        _row("扣减 Deductions (kgCO₂)", kg["deductions"], numeric=(1,)),
        _row("净排放 Net emissions (tCO₂)", result["net_emissions_t"], numeric=(1,)),
        _row(
            "工业增加值 Value added",
            f"{body['value_added']['amount']} {body['value_added']['currency']}",
            numeric=(1,),
        ),
        _row("碳排放强度 L (tCO₂/万元 per 10,000 CNY)", result["intensity"]["value"], numeric=(1,)),
        _row(
            "行业平均 Industry average",
            f"{result['industry_average']} ({benchmark['region']}, {benchmark['status']})",
            numeric=(1,),
        ),
        _row("碳效值 K = L / 行业平均 industry average", result["efficiency_value"]["value"]),
        _row("碳排放水平 Carbon level", _LEVELS.get(result["level"], result["level"])),
        _row("碳效等级 Grade", result["grade"]),
        "</table>",
        "<h2>5. 评价规则与阈值 The grading rule and its thresholds</h2>",
        f"<p>{_e(rule['scheme'])}, {_e(rule['version'])} ({_e(body['rule']['id'])}).<br>"
        f"{_e(rule['source']['reference'])}</p>",
        "<table>",
        _head("碳排放水平 Level (by L)", "阈值 Threshold"),
    ]
    parts += [_row(_LEVELS.get(b["level"], b["level"]), _threshold(b)) for b in rule["levels"]]
    parts += ["</table>", "<table>", _head("碳效等级 Grade (by K)", "阈值 Threshold")]
    parts += [_row(b["grade"], _threshold(b)) for b in rule["grades"]]
    rounding = rule["rounding"]
    parts += [
        "</table>",
        f"<p>L 与 K 各保留 {_e(rounding['places'])} 位小数（{_e(rounding['mode'])}），"
        f"水平与等级按保留后的数值判定。L and K are rounded once to {_e(rounding['places'])} "
        f"places ({_e(rounding['mode'])}); level and grade are read from the rounded figures.</p>",
        "<h2>6. 核验 Verification</h2>",
        "<p>本报告的 SHA-256 记入评价记录（body.documents）并随之上链；"
        "用 carbon-verify bundle … --file 本文件 核验。The SHA-256 of this report is part of the "
        "evaluation record (body.documents) and anchored with it; check a copy with "
        "carbon-verify bundle … --file this-file.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def report_pdf(html: str) -> bytes:
    """The PDF of ``html`` (WeasyPrint; reproducible for the same HTML)."""
    import weasyprint  # imported here: only report rendering needs it (and pango)

    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def attach_report(
    record: Mapping[str, Any], closure: Mapping[str, Record]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The evaluation ``record`` with ``body.documents`` listing its report, and the report's
    files by name (to keep beside the evaluation). Sign and submit the returned record."""
    body = {k: v for k, v in record["body"].items() if k != "documents"}
    html = report_html({**record, "body": body}, closure).encode("utf-8")
    files = {REPORT_NAMES["html"]: html, REPORT_NAMES["pdf"]: report_pdf(html.decode("utf-8"))}
    media = {REPORT_NAMES["html"]: "text/html", REPORT_NAMES["pdf"]: "application/pdf"}
    documents = [
        {
            "name": name,
            "media_type": media[name],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for name, data in files.items()
    ]
    return {**record, "body": {**body, "documents": documents}}, files
