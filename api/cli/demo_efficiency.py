"""The carbon-efficiency part of the demo (docs/DEMO.md): the maker's plant with three
collection terminals (the grid electricity meter and the natural-gas meter sign with SM2,
the rooftop photovoltaic meter's gateway with Ed25519), a month of signed hourly readings
in daily batches, the templates, the industry benchmark, the grading rule, the evaluation
with its bilingual report, and the evaluation's code (docs/RECORDS.md §3.12-§3.17).

The operator registers the terminals' keys on-chain and grants each its metering point
(``carbonledger keys terminal`` does the same); the producers submit through the HTTP API
(``clients``, by producer); once the evaluation is anchored its bundle is exported and
verified, and the code's page URL is what ``make run`` prints. The terminals' keys are the
examples' deterministic keys (``ledger.examples.efficiency``): a demo, not a deployment.
A second run submits nothing again (a stored record's digest is cited instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eth_account.signers.local import LocalAccount

from anchoring.chain import Chain, RpcChain
from anchoring.chain.base import ArtifactLike
from api.cli.runner import ServiceState
from api.cli.terminals import register_terminal
from api.cli.trust import Registry
from ledger.client import LedgerClient
from ledger.core.efficiency_code import efficiency_code_payload
from ledger.core.errors import NotFoundError, UnavailableError
from ledger.core.keys import public_key_of
from ledger.core.records import Record, validate_record
from ledger.examples import efficiency as ex
from ledger.service.codes import efficiency_code_svg
from ledger.service.efficiency_report import attach_report
from ledger.store import Store

__all__ = [
    "EFFICIENCY_PRODUCERS",
    "REFERENCE_TYPES",
    "EfficiencyDemo",
    "efficiency_step",
    "run_efficiency_demo",
]

#: principal name -> (producer, record types it may submit), beside the demo's producers.
EFFICIENCY_PRODUCERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo-edge-gateway": (ex.PRODUCER_METERING, ("meter-reading", "metadata-template")),
    "demo-efficiency": (ex.PRODUCER_EFFICIENCY, ("carbon-efficiency",)),
}
#: The reference data desk publishes these too.
REFERENCE_TYPES = ("metadata-template", "industry-benchmark", "efficiency-grading-rule")
DAYS = 31
TERMINAL_WINDOW = (
    int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(2031, 1, 1, tzinfo=UTC).timestamp()),
)


@dataclass(frozen=True)
class EfficiencyDemo:
    page_url: str
    code_path: Path
    report_paths: tuple[Path, ...]
    bundle_path: Path
    readings: int
    grade: int
    level: str


def _register_terminals(chain: Chain, trust: Any, store: Store) -> None:
    registry = Registry(chain, trust, 0)
    for terminal in ex.terminals():
        register_terminal(
            registry, store, public_key_of(terminal.key), terminal.id, window=TERMINAL_WINDOW,
            points=(terminal.metering_point,), types=("meter-reading",),
        )  # fmt: skip


def efficiency_step(
    state: ServiceState,
    *,
    directory: Path,
    store_url: str,
    artifacts: Mapping[str, ArtifactLike],
    operator: LocalAccount,
    clients: Mapping[str, LedgerClient],
    auditor: LedgerClient,
    verify: Callable[[Path], int],
    timeout_s: float,
    progress: Callable[[str], None],
) -> EfficiencyDemo:
    """``run_efficiency_demo`` on the demo's chain and store (the service ``state`` runs)."""
    if state.rpc_url is None:
        raise UnavailableError("the demo needs a chain the verifier can reach")
    chain = RpcChain(state.rpc_url, expected_chain_id=state.chain_id, signer=operator)
    store = Store.open(store_url, create=False)
    try:
        return run_efficiency_demo(
            chain=chain,
            trust=chain.contract(artifacts["TrustRegistry"], state.trust_registry),
            store=store, clients=clients, auditor=auditor, page_base=state.api_url,
            directory=directory, verify=verify, timeout_s=timeout_s, progress=progress,
        )  # fmt: skip
    finally:
        store.close()
        chain.close()


def run_efficiency_demo(
    *,
    chain: Chain,
    trust: Any,
    store: Store,
    clients: Mapping[str, LedgerClient],
    auditor: LedgerClient,
    page_base: str,
    directory: Path,
    verify: Callable[[Path], int],
    timeout_s: float,
    progress: Callable[[str], None],
) -> EfficiencyDemo:
    """Register the terminals, submit a month of the plant and its evaluation, wait for
    the evaluation's anchoring, export and verify its bundle, draw its code."""
    out = directory / "efficiency"
    out.mkdir(parents=True, exist_ok=True)
    progress("registering the plant's three terminal keys and their metering points")
    _register_terminals(chain, trust, store)
    progress(f"submitting {DAYS} days of signed hourly readings and the evaluation")
    seen: dict[str, Record] = {}
    digests: dict[str, str] = {}
    report_paths: list[Path] = []

    def digest_of(record: dict[str, Any]) -> str:
        if record["type"] == "carbon-efficiency":
            record, files = attach_report(record, seen)
            for name, data in files.items():
                (out / name).write_bytes(data)
                report_paths.append(out / name)
        client = clients[record["producer"]]
        try:
            receipt = client.get_receipt(record["id"])
        except NotFoundError:
            receipt = client.submit(record)
        seen[record["id"]] = validate_record(record)
        digests[record["id"]] = receipt.digest_hex
        return receipt.digest_hex

    records = ex.efficiency_example_records(digest_of, days=DAYS)
    evaluation = records[ex.EVALUATION]
    _wait_anchored(auditor, ex.EVALUATION, timeout_s=timeout_s, progress=progress)
    response = auditor.http.get("/v1/record/bundle", params={"id": ex.EVALUATION})
    if response.status_code != 200:
        raise UnavailableError(f"GET /v1/record/bundle answered HTTP {response.status_code}")
    bundle_path = out / "evaluation-bundle.json"
    bundle_path.write_bytes(response.content)
    code = verify(bundle_path)
    if code != 0:
        raise UnavailableError(
            f"the evaluation's bundle does not verify (carbon-verify exit {code})"
        )
    payload = efficiency_code_payload(page_base, ex.EVALUATION, digests[ex.EVALUATION])
    code_path = out / "carbon-efficiency-code.svg"
    code_path.write_text(efficiency_code_svg(payload), encoding="utf-8")
    result = evaluation["body"]["result"]
    readings = sum(
        len(r["body"]["readings"]) for r in records.values() if r["type"] == "meter-reading"
    )
    return EfficiencyDemo(
        page_url=payload,
        code_path=code_path,
        report_paths=tuple(report_paths),
        bundle_path=bundle_path,
        readings=readings,
        grade=int(result["grade"]),
        level=str(result["level"]),
    )


def _wait_anchored(
    client: LedgerClient, record_id: str, *, timeout_s: float, progress: Callable[[str], None]
) -> None:
    deadline = time.monotonic() + timeout_s
    progress(f"waiting for the anchorer: {quote(record_id, safe=':')}")
    while client.get_status(record_id)["anchoring"] != "anchored":
        if time.monotonic() > deadline:
            raise UnavailableError(f"{record_id} was not anchored within {timeout_s:.0f} s")
        time.sleep(0.5)
