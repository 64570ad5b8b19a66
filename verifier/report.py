"""Rendering a verification: the human table, the JSON report and the bilingual text.

The human table is short: one row per numbered check; the record-level
checks are summarised over all records, and only the records that did not pass are
listed under their check, grouped by reason so 10,000 identical SKIPs make one line.
The JSON report (``carbonledger-verify-report/1``, docs/VERIFY.md §6) lists every check.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp
from verifier import __version__
from verifier.model import CHECK_NAMES, EXIT_UNREADABLE, Check, Pins, Status, Verification
from verifier.recompute import ASK_FOR

__all__ = [
    "REPORT_FORMAT",
    "error_report",
    "render_bilingual",
    "render_table",
    "report_json",
]

REPORT_FORMAT = "carbonledger-verify-report/1"
VERIFIER_NAME = "carbon-verify"
VERIFIER_VERSION = __version__
# Checks made once per record (13: once per receipt, 14: once per batch) are summarised
# in one row.
_RECORD_CHECKS = frozenset({*range(4, 12), 13, 14})
# Worst first: the status a summary row shows when its records disagree.
_SEVERITY = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS, Status.SKIP)
_DETAIL_LIMIT = 10


def _worst(statuses: Counter[Status]) -> Status:
    return next(s for s in _SEVERITY if statuses[s])


def report_json(v: Verification, *, pins: Pins, checked_at: datetime) -> dict[str, Any]:
    """The machine-readable report of one run."""
    counts = Counter(c.status.value for c in v.checks)
    return {
        "format": REPORT_FORMAT,
        "verifier": {"name": VERIFIER_NAME, "version": VERIFIER_VERSION},
        "checked_at": format_timestamp(checked_at),
        "bundle": {"sha256": v.bundle_sha256, "records": v.record_count},
        "pins": pins.to_json(),
        "head_block": v.head_block,
        "trust_registry": v.trust_registry,
        "result": v.verdict,
        "exit_code": v.exit_code,
        "summary": {s.value: counts.get(s.value, 0) for s in Status},
        "checks": [c.to_json() for c in v.checks],
        "claims": v.claims,
    }


def error_report(message: str, exit_code: int, *, checked_at: datetime) -> dict[str, Any]:
    """The report of a run that verified nothing: the input could not be read (exit 2) or
    a dependency failed before any check (exit 3). ``error`` says why."""
    return {
        "format": REPORT_FORMAT,
        "verifier": {"name": VERIFIER_NAME, "version": VERIFIER_VERSION},
        "checked_at": format_timestamp(checked_at),
        "bundle": None,
        "pins": None,
        "head_block": None,
        "trust_registry": None,
        "result": "unreadable" if exit_code == EXIT_UNREADABLE else "indeterminate",
        "exit_code": exit_code,
        "summary": {s.value: 0 for s in Status},
        "checks": [],
        "error": message,
    }


def _rows(v: Verification, *, verbose: bool) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    by_number: dict[int, list[Check]] = defaultdict(list)
    for c in v.checks:
        by_number[c.number].append(c)
    for number in sorted(by_number):
        checks = by_number[number]
        if number not in _RECORD_CHECKS and len(checks) == 1:
            c = checks[0]
            rows.append((str(number), c.name, c.status.value, c.reason))
            continue
        if number not in _RECORD_CHECKS:
            for c in checks:
                rows.append((str(number), c.name, c.status.value, c.reason))
            continue
        statuses = Counter(c.status for c in checks)
        unit = {13: "receipts", 14: "batches"}.get(number, "records")
        summary = f"{len(checks)} {unit}: " + ", ".join(
            f"{statuses[s]} {s.value}" for s in _SEVERITY if statuses[s]
        )
        if len(checks) == 1:
            summary = checks[0].reason
        rows.append((str(number), CHECK_NAMES[number], _worst(statuses).value, summary))
        if len(checks) == 1:
            continue
        # Attestations are news even when they pass: who attested is the point.
        shown = [c for c in checks if verbose or c.status is not Status.PASS or number == 11]
        groups: dict[tuple[Status, str], list[Check]] = defaultdict(list)
        for c in shown:
            groups[(c.status, c.reason)].append(c)
        for i, ((status, reason), members) in enumerate(groups.items()):
            if i == _DETAIL_LIMIT and not verbose:
                rows.append(("", "", "", f"… {len(groups) - i} more: use --json for all"))
                break
            who = members[0].subject + (f" {members[0].record_id}" if members[0].record_id else "")
            if len(members) > 1:
                who = f"{len(members)} records ({who}, …)"
            rows.append(("", "", status.value, f"{who}: {reason}"))
    return rows


def render_table(v: Verification, *, pins: Pins, verbose: bool = False) -> str:
    """The human report: header, the check table, the result line."""
    head = (
        f"bundle sha256 {v.bundle_sha256}, {v.record_count} records; chain {pins.chain_id}, "
        f"AnchorRegistry {pins.anchor_registry}, "
        f"TrustRegistry {v.trust_registry or pins.trust_registry or '(not read)'}"
    )
    rows = _rows(v, verbose=verbose)
    w_name = max([len(r[1]) for r in rows] + [5])
    lines = [head, f"{'#':>2}  {'check':<{w_name}}  {'result':<7}  reason"]
    for number, name, status, reason in rows:
        lines.append(f"{number:>2}  {name:<{w_name}}  {status:<7}  {reason}")
    lines += _claim_lines(v)
    fails = len(v.failures())
    pending = v.not_recomputed()
    result = {
        "verified": "VERIFIED: every check passed and every figure was recomputed",
        "failed": f"FAILED: {fails} check(s) failed; the reasons above say what to look at"
        if fails
        else f"FAILED: every check passed, but {v.fails_beyond_checks}",
        "unreadable": "UNREADABLE: the input is not a bundle this verifier reads",
        "indeterminate": "INDETERMINATE: the chain could not answer; nothing failed so far, "
        "re-run when the node is reachable",
        "not-recomputed": f"NOT RECOMPUTED: nothing failed, but the figures of {len(pending)} "
        "record(s) could not be recomputed from this bundle, so it is not verified",
    }[v.verdict]
    lines.append(f"result: {result} (exit {v.exit_code})")
    if v.verdict == "not-recomputed":
        lines.extend(_not_recomputed_lines(pending))
    return "\n".join(lines) + "\n"


def _not_recomputed_lines(checks: list[Check]) -> list[str]:
    """Under the NOT RECOMPUTED result: which records, why, and which view to ask for."""
    out = []
    subjects: list[str] = []
    for i, c in enumerate(checks):
        why, _, subject = c.reason.removeprefix("not recomputed: ").partition("; " + ASK_FOR)
        if subject and subject not in subjects:
            subjects.append(subject)
        if i < _DETAIL_LIMIT:
            who = c.subject + (f" {c.record_id}" if c.record_id else "")
            out.append(f"  {who}: {why}")
    if len(checks) > _DETAIL_LIMIT:
        out.append(f"  … {len(checks) - _DETAIL_LIMIT} more: use --json for all")
    if subjects:
        out.append(f"  to recompute them, {ASK_FOR}{', '.join(subjects)}")
    return out


def _claim_lines(v: Verification) -> list[str]:
    """The claims section: each unit with claims, and every conflict among them."""
    lines = []
    for unit in v.claims:
        if not unit["claims"]:
            continue
        claims = "; ".join(f"{c['regime']} {c['year']} ({c['record_id']})" for c in unit["claims"])
        lines.append(f"claims of {unit['unit']}: {claims}")
        lines += [f"  CONFLICT: {c}" for c in unit["conflicts"]]
    return lines


_ZH_STATUS = {
    "PASS": "通过",
    "FAIL": "未通过",
    "SKIP": "跳过",
    "WARN": "警告",
    "UNKNOWN": "无法判定",
}
_ZH_CHECK = {
    1: "证据包格式",
    2: "链标识",
    3: "注册合约代码",
    4: "由披露字段重算摘要",
    5: "生产方签名",
    6: "默克尔证明至根",
    7: "链上锚定",
    8: "未被撤销",
    9: "引用记录齐全",
    10: "按 calc/1 重新计算",
    11: "链上核查声明",
    12: "本地文件",
    13: "服务方受理回执（锚定承诺）",
    14: "日志哈希链",
}
_ZH_VERDICT = {1: "符合", 2: "符合（有发现项）", 3: "不符合"}
_EN_VERDICT = {1: "conforms", 2: "conforms with findings", 3: "does not conform"}


def render_bilingual(report: dict[str, Any]) -> str:
    """English/Chinese text of a signed attestation report (verifier.attest)."""
    body, verify = report["body"], report["verification"]
    verdict = int(report["verdict"])
    pins = verify["pins"]
    out = [
        "CARBONLEDGER VERIFICATION REPORT / carbonledger 第三方核查报告",
        "=" * 64,
        f"Verification body / 核查机构: {body['name']} ({body['address']})",
        f"Accredited scope / 认可范围: {body['scope']}; regions / 区域: {body['regions']}",
        f"Verdict / 核查结论: {_EN_VERDICT[verdict]} / {_ZH_VERDICT[verdict]}",
        f"Checked at / 核查时间: {verify['checked_at']}",
        f"Bundle SHA-256 / 证据包 SHA-256: {verify['bundle']['sha256']}",
        f"Chain / 区块链: chain id 链 ID {pins['chain_id']}, head block 区块高度 "
        f"{verify['head_block']}",
        f"AnchorRegistry / 锚定合约: {pins['anchor_registry']}",
        f"TrustRegistry / 信任合约: {verify.get('trust_registry') or pins['trust_registry']}",
        "",
        "Records attested / 声明所涉记录:",
    ]
    for rec in report["records"]:
        out.append(f"  - {rec['id']} ({rec['type']})")
        out.append(f"    digest / 摘要 {rec['digest']}")
    out += ["", "Checks / 核查项:"]
    for c in verify["checks"]:
        label = f"{c['subject']}" + (f" {c['record_id']}" if c.get("record_id") else "")
        out.append(
            f"  [{c['number']:>2}] {c['name']} / {_ZH_CHECK[c['number']]} — {label}: "
            f"{c['status']} / {_ZH_STATUS[c['status']]}"
        )
        out.append(f"       {c['reason']}")
    out += [
        "",
        f"Result / 结果: {verify['result']} (exit {verify['exit_code']})",
        f"Report digest (SHA-256 of the JCS report) / 报告摘要: {report['report_digest']}",
        f"Signed by / 签署方: {report['signature']['signer']} ({report['signature']['alg']})",
        f"Signature / 签名: {report['signature']['value']}",
        "",
        "The report digest is filed on-chain with each record's attestation; check it with",
        "TrustRegistry.getAttestation(digest, index). / 报告摘要已随每条记录的核查声明写入链上，",
        "可通过 TrustRegistry.getAttestation(digest, index) 核对。",
    ]
    return "\n".join(out) + "\n"
