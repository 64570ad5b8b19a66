"""Benchmark of the exchange with buyers' systems (docs/PACT.md, docs/CBAM.md), each figure
against the plain bundle export of the same records in the same run:

- ``GET /3/footprints`` pages per second over 10,000 footprints (200 per page, following
  the ``next`` links), against pages per second of ``GET /v1/bundles`` over the same
  records (200 per page, ``after`` cursors);
- the seconds to build one CBAM package of 1,000 consignments (``POST /v1/cbam/packages``,
  JSON and XLSX), against the bundle export of the same 1,000 conversions with their
  closure (``POST /v1/cbam/bundle``).

The records go the production way: signed, accepted by ``LedgerService.accept_bulk`` into
a SQLite store, sealed and anchored by the ``Anchorer`` on an in-process py-evm chain. The
first PACT call indexes every anchored record as a footprint: that one-off cost is printed
apart. Requests go to the app in-process (no network, no TLS on either side), so the ratios
compare the work of the two exports only.

Usage: scripts/bench exchange [--units N] [--consignments M] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from anchoring.anchorer import Anchorer, AnchorerLimits  # noqa: E402
from anchoring.chain import MemoryChain  # noqa: E402
from anchoring.deployment import deploy_contracts  # noqa: E402
from anchoring.toolchain import compile_contracts  # noqa: E402
from api.app import create_app  # noqa: E402
from api.settings import CarbonLedgerSettings  # noqa: E402
from ledger import examples as ex  # noqa: E402
from ledger.core.canonical import canonicalize  # noqa: E402
from ledger.core.signature import private_key_from_seed, public_key_bytes, sign_digest  # noqa: E402
from ledger.core.view import Commitment, commit  # noqa: E402
from ledger.exchange.cbam_workbook import XLSX_MEDIA_TYPE  # noqa: E402
from ledger.service import BATCH_FORMAT, SUBMISSION_FORMAT, LedgerService, ManualClock  # noqa: E402
from ledger.store import Store, sqlite_url  # noqa: E402
from ledger.store.access import add_principal, issue_api_key  # noqa: E402
from ledger.store.producers import add_producer, add_producer_key  # noqa: E402
from ledger.store.records import count_by_status  # noqa: E402

KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
ACCEPTED_AT = datetime(2026, 4, 1, tzinfo=UTC)
SERVICE_KEY = private_key_from_seed(hashlib.sha256(b"bench exchange service").digest())
CN = "73090030"
PAGE = 200
BULK = 1000


def _key(producer: str) -> Any:
    return private_key_from_seed(hashlib.sha256(b"bench exchange\x00" + producer.encode()).digest())


def build(units: int, consignments: int) -> tuple[list[Commitment], list[str]]:
    """Reference data, ``units`` tank records (``consignments`` of them with an EU CBAM
    conversion), in acceptance order; and the conversion ids."""
    made: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        made[record["id"]] = commit(record)
        return made[record["id"]].digest_hex

    base = ex.example_records(digest_of)
    out: list[Commitment] = []
    digests: dict[str, str] = {}

    def add(record: dict[str, Any]) -> None:
        c = made.get(record["id"]) or commit(record)
        digests[record["id"]] = c.digest_hex
        out.append(c)

    for rid in (
        ex.FS_CN_MEE_2023,
        ex.FS_IPCC_2006,
        ex.FS_SUPPLIER,
        ex.FS_ILLUSTRATIVE,
        ex.FS_EU_CBAM_2026,
        ex.RULE_EU_CBAM,
    ):
        add(copy.deepcopy(base[rid]))
    conversions = []
    for i in range(units):
        tank = copy.deepcopy(base[ex.CR_TANK])
        handle = f"88.118.8/BENCH-{i:05d}"
        tank["id"] = f"urn:carbonledger:carbon-record:bench-{i:05d}"
        tank["subject"] = handle
        equipment = tank["body"]["equipment"]
        equipment["identifiers"][0]["value"] = handle
        equipment["identifiers"][2]["value"] = f"urn:epc:id:giai:0614141.BENCH-{i:05d}"
        equipment["cn_code"] = CN
        equipment["mass_kg"] = str(10000 + i)
        add(tank)
        if i < consignments:
            sub = ex.substitution_record(
                f"urn:carbonledger:factor-substitution:bench-{i:05d}-eu",
                "2026-02-01T09:00:00Z",
                tank,
                base[ex.RULE_EU_CBAM],
                [base[ex.FS_EU_CBAM_2026]],
                digests,
            )
            add(sub)
            conversions.append(sub["id"])
    return out, conversions


def ledger(commitments: list[Commitment], data_dir: Path) -> tuple[Any, str]:
    chain = MemoryChain()
    artifacts = compile_contracts(project_root=REPO_ROOT)
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=0)
    clock = ManualClock(ACCEPTED_AT)
    store = Store.open(sqlite_url(data_dir), clock=clock)
    with store.transaction() as session:
        for producer in sorted({c.record["producer"] for c in commitments}):
            add_producer(session, producer, created_at=KEYS_FROM)
            add_producer_key(
                session,
                producer=producer,
                public_key_hex=public_key_bytes(_key(producer)).hex(),
                valid_from=KEYS_FROM,
                record_types=sorted(
                    {c.record["type"] for c in commitments if c.record["producer"] == producer}
                ),
            )
        add_principal(session, "bench-regulator", role="regulator", created_at=KEYS_FROM)
        token = issue_api_key(session, "bench-regulator", created_at=KEYS_FROM).token
    service = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=3600
    )
    subs = [
        canonicalize(
            {
                "format": SUBMISSION_FORMAT,
                "view": c.to_json(),
                "signature": sign_digest(_key(c.record["producer"]), c.digest).to_json(),
            }
        )
        for c in commitments
    ]
    for i in range(0, len(subs), BULK):
        service.accept_bulk(
            b'{"format":"'
            + BATCH_FORMAT.encode()
            + b'","submissions":['
            + b",".join(subs[i : i + BULK])
            + b"]}"
        )
    anchorer = Anchorer(
        store=store,
        chain=chain,
        deployment=deployment,
        artifacts=artifacts,
        clock=clock,
        limits=AnchorerLimits(
            batch_max_records=5000,
            batch_max_age_s=1.0,
            max_batches_per_step=10,
            poll_interval_s=0.0,
        ),
    )
    clock.advance(5)
    for _ in range(30):
        if anchorer.run_once().is_idle():
            break
    anchorer.close()
    counts = store.run(count_by_status, readonly=True)
    if counts["anchored"] != len(commitments):
        raise SystemExit(f"the anchorer left records unanchored: {counts}")
    settings = CarbonLedgerSettings(
        data_dir=data_dir,
        chain="memory",
        pact_company_name="Bench Co.",
        pact_company_ids="urn:carbonledger:enterprise:bench",
    )
    app = create_app(
        settings,
        store=store,
        chain=chain,
        clock=clock,
        ledger=service,
        deployment=deployment,
        artifacts=artifacts,
    )
    return app, token


def _timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def pact_pages(http: TestClient, token: str) -> tuple[int, int]:
    """Every page of ListFootprints by its ``next`` links: (pages, footprints)."""
    url: str | None = f"/3/footprints?limit={PAGE}"
    pages = footprints = 0
    while url is not None:
        r = http.get(url, headers={"authorization": f"Bearer {token}"})
        if r.status_code != 200:
            raise SystemExit(f"ListFootprints answered {r.status_code}: {r.text[:200]}")
        pages += 1
        footprints += len(r.json()["data"])
        link = r.headers.get("link", "")
        url = None
        for part in link.split(", "):
            if part.endswith('rel="next"'):
                url = part[1 : part.index(">")].replace("https://testserver", "")
    return pages, footprints


def bundle_pages(http: TestClient, token: str, records: int) -> tuple[int, int]:
    """Every page of the bundle export of the same records (``after`` cursors)."""
    pages = seen = after = 0
    headers = {"Authorization": f"Bearer {token}"}
    while seen < records:
        r = http.get("/v1/bundles", params={"after": after, "limit": PAGE}, headers=headers)
        if r.status_code != 200:
            raise SystemExit(f"bundle export answered {r.status_code}: {r.text[:200]}")
        items = json.loads(r.content)["items"]
        pages += 1
        seen += len(items)
        after += PAGE  # record ids are dense from 1 in this store
        if not items:
            break
    return pages, seen


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench exchange")
    parser.add_argument("--units", type=int, default=7000)
    parser.add_argument("--consignments", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="700 units, 300 consignments")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    units, consignments = (700, 300) if args.quick else (args.units, args.consignments)
    package_size = min(1000, consignments)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        commitments, conversions = build(units, consignments)
        app, token = ledger(commitments, Path(tmp))
        setup_s = time.perf_counter() - t0
        http = TestClient(app, base_url="https://testserver")
        pact_token = http.post(
            "/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("bench-regulator", token),
        ).json()["access_token"]
        _, index_s = _timed(lambda: app.state.pact.service.refresh())
        (pages, footprints), pact_s = _timed(lambda: pact_pages(http, pact_token))
        records = len(commitments)
        (b_pages, _b_records), bundle_s = _timed(lambda: bundle_pages(http, token, records))
        request = {
            "format": "carbonledger-cbam-request/1",
            "cn_code": CN,
            "period": {"start": "2025-01-01", "end": "2025-12-31"},
            "installation": {"id": "bench", "name": "Bench works", "country": "CN"},
            "operator": {"id": "bench", "name": "Bench operator"},
            "routes": [
                {"route": "welded", "net_mass_t": "0", "consignments": conversions[:package_size]}
            ],
            "net_mass_t": "0",
        }
        mass = sum(10000 + i for i in range(package_size)) / 1000
        text = f"{mass:.3f}".rstrip("0").rstrip(".")
        request["routes"][0]["net_mass_t"] = request["net_mass_t"] = text  # type: ignore[index]
        headers = {"Authorization": f"Bearer {token}"}
        r, package_s = _timed(lambda: http.post("/v1/cbam/packages", json=request, headers=headers))
        if r.status_code != 200:
            raise SystemExit(f"the package answered {r.status_code}: {r.text[:300]}")
        xlsx, workbook_s = _timed(
            lambda: http.post(
                "/v1/cbam/packages", json=request, headers={**headers, "accept": XLSX_MEDIA_TYPE}
            )
        )
        b, cbam_bundle_s = _timed(
            lambda: http.post("/v1/cbam/bundle", json=request, headers=headers)
        )
        if b.status_code != 200 or xlsx.status_code != 200:
            raise SystemExit("the bundle or workbook of the package failed")
    result = {
        "records": records,
        "footprints": footprints,
        "setup_s": round(setup_s, 1),
        "index_s": round(index_s, 2),
        "pact_pages": pages,
        "pact_pages_per_s": round(pages / pact_s, 2),
        "bundle_pages": b_pages,
        "bundle_pages_per_s": round(b_pages / bundle_s, 2),
        "pact_vs_bundle": round((pages / pact_s) / (b_pages / bundle_s), 2),
        "package_consignments": package_size,
        "package_s": round(package_s, 3),
        "workbook_s": round(workbook_s, 3),
        "cbam_bundle_s": round(cbam_bundle_s, 3),
        "package_vs_bundle": round(package_s / cbam_bundle_s, 2),
        "workbook_vs_bundle": round(workbook_s / cbam_bundle_s, 2),
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(
            f"{records} records anchored ({footprints} footprints) in {result['setup_s']} s; "
            f"footprint index built in {result['index_s']} s"
        )
        print(
            f"GET /3/footprints: {pages} pages of {PAGE} at {result['pact_pages_per_s']} pages/s; "
            f"bundle export {b_pages} pages at {result['bundle_pages_per_s']} pages/s: "
            f"ratio {result['pact_vs_bundle']}x"
        )
        print(
            f"CBAM package of {package_size} consignments: JSON {result['package_s']} s, "
            f"XLSX {result['workbook_s']} s; bundle of the same {result['cbam_bundle_s']} s: "
            f"ratios {result['package_vs_bundle']}x and {result['workbook_vs_bundle']}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
