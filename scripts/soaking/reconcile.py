"""The soak's reckoning after the load stops: every acknowledged record stored, with its
receipt's digest, anchored, in one batch only, before its receipt's promised time; no seq
gap; the store and the chain agreeing (``carbonledger check``); and the full read-back of
every acknowledged record in bundles that ``carbon-verify`` verifies against the chain.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.cli import main as carbonledger
from ledger.core.bundle import parse_bundle
from ledger.core.canonical import parse_timestamp
from ledger.core.receipt import Receipt, verify_receipt
from ledger.core.view import reconstruct
from verifier.cli import main as carbon_verify

__all__ = ["Reckoning", "reconcile", "wait_anchored"]

IDS_PER_BUNDLE = 100


@dataclass
class Reckoning:
    acknowledged: int = 0
    stored: int = 0
    anchored: int = 0
    lost: list[str] = field(default_factory=list)
    digest_differs: list[str] = field(default_factory=list)
    receipts_bad: list[str] = field(default_factory=list)
    promises_broken: list[str] = field(default_factory=list)
    store_total: int = 0
    batches: int = 0
    seq_gaps: list[int] = field(default_factory=list)
    check_ok: bool = False
    check_failed: list[str] = field(default_factory=list)
    read_back: int = 0
    read_back_failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.lost
            and not self.digest_differs
            and not self.receipts_bad
            and not self.promises_broken
            and not self.seq_gaps
            and self.check_ok
            and self.anchored == self.acknowledged
            and self.read_back == self.acknowledged
            and not self.read_back_failed
        )


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = carbonledger(list(argv))
    return code, out.getvalue()


def wait_anchored(cli_args: list[str], *, timeout_s: float) -> dict[str, Any]:
    """Poll ``status`` until nothing is pending or batched (or ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        code, out = _cli("status", "--json", *cli_args)
        status: dict[str, Any] = json.loads(out) if code == 0 else {}
        records = status.get("records", {})
        if code == 0 and records.get("pending", 1) == 0 and records.get("batched", 1) == 0:
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(1.0)


def reconcile(
    *,
    api_url: str,
    token: str,
    acknowledged: dict[str, dict[str, Any]],
    cli_args: list[str],
    pins: list[str],
    work_dir: Path,
) -> Reckoning:
    out = Reckoning(acknowledged=len(acknowledged))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=120) as http:
        service_key = bytes.fromhex(http.get("/v1/service").json()["public_key"])
        for record_id, receipt_json in acknowledged.items():
            receipt = Receipt.from_json(receipt_json)
            try:
                verify_receipt(receipt, service_key, record_id=record_id)
            except Exception as exc:  # any failure is a finding, named in the report
                out.receipts_bad.append(f"{record_id}: {exc}")
            response = http.get("/v1/record/status", params={"id": record_id})
            if response.status_code != 200:
                out.lost.append(record_id)
                continue
            status = response.json()
            out.stored += 1
            if status["digest"] != receipt.digest_hex:
                out.digest_differs.append(record_id)
            if status["anchoring"] != "anchored":
                continue
            out.anchored += 1
            anchored_at = (status.get("batch") or {}).get("anchored_at")
            promised = parse_timestamp(receipt_json["anchor_by"])
            if anchored_at is None or parse_timestamp(anchored_at) > promised:
                out.promises_broken.append(f"{record_id}: anchored {anchored_at}, "
                                           f"promised by {receipt_json['anchor_by']}")  # fmt: skip
        seqs, after = [], 0
        while True:
            page = http.get("/v1/batches", params={"after": after, "limit": 200}).json()
            seqs += [b["seq"] for b in page["items"]]
            if page["next_after"] is None:
                break
            after = page["next_after"]
        out.batches = len(seqs)
        out.seq_gaps = [s for s in range(1, len(seqs) + 1) if s not in set(seqs)]
        ids = list(acknowledged)
        for start in range(0, len(ids), IDS_PER_BUNDLE):
            chunk = ids[start : start + IDS_PER_BUNDLE]
            response = http.get("/v1/bundles", params={"id": chunk, "limit": len(chunk)})
            name = f"bundle {start // IDS_PER_BUNDLE}"
            if response.status_code != 200:
                out.read_back_failed.append(f"{name}: HTTP {response.status_code}")
                continue
            path = work_dir / f"readback-{start // IDS_PER_BUNDLE:05d}.json"
            path.write_bytes(response.content)
            bundle = parse_bundle(response.content, require_canonical=True)
            got = {str(reconstruct(i.view)["id"]) for i in bundle.items}
            missing = set(chunk) - got
            if missing:
                out.read_back_failed.append(f"{name}: {len(missing)} records missing")
            report = io.StringIO()
            with contextlib.redirect_stdout(report):
                code = carbon_verify(["bundle", str(path), *pins])
            if code != 0:
                out.read_back_failed.append(f"{name}: carbon-verify exit {code}")
            else:
                out.read_back += len(got & set(chunk))
            path.unlink()
    code, text = _cli("status", "--json", *cli_args)
    if code == 0:
        out.store_total = sum(json.loads(text)["records"].values())
    code, text = _cli("check", "--json", "--no-deadline", *cli_args)
    report = json.loads(text) if text.strip() else {"checks": []}
    out.check_ok = code == 0
    out.check_failed = [
        f"{c['number']} {c['check']}: {c['detail']}"
        for c in report.get("checks", [])
        if c["status"] == "FAIL"
    ]
    return out
