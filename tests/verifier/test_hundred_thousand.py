"""A bundle of 100,000 records (the bundle format's item limit, docs/FORMAT.md §6) verifies
end to end through ``carbon-verify bundle --jobs 2`` against a real anvil: 99,999 credit
changes and their rating rule, signed by a registered producer, anchored in one batch,
every chain fact proven from storage proofs. Built once, fast: one credit change is
rated by calc/1 and copied under 99,999 enterprises (the same scores, so the same total
and grade); the memory it takes is measured by ``scripts/bench verify``, not here.

The 100,000-record run takes minutes of CPU (about three to build, more to verify) and
4.4 GB of memory, too much for every run of the suite on a shared 2-core machine: it runs
when ``CARBONLEDGER_BIG_BUNDLES=1`` is set, as ``.ci/run`` does. The same test on 2,000
records always runs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import DevChain
from anchoring.deployment import deploy_contracts
from ledger.core.bundle import MAX_ITEMS
from ledger.core.view import commit
from ledger.examples import rules, trail
from tests.verifier.support import Ledger, anchor, register_producers
from verifier.cli import main

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

BIG = os.environ.get("CARBONLEDGER_BIG_BUNDLES") == "1"


def _anchored(
    records: int, artifacts: dict[str, Any], anvil_path: Path, tmp: pytest.TempPathFactory
) -> Iterator[tuple[Ledger, Path]]:
    chain = DevChain.start(data_dir=tmp.mktemp("anvil"), anvil_path=anvil_path)
    try:
        rule = commit(rules.rating_rule())
        template = trail.credit_change({rule.record["id"]: rule.digest_hex}, previous=None)
        template["body"]["previous_grade"] = None
        commitments = {rule.record["id"]: rule}
        for i in range(records - 1):
            record = copy.deepcopy(template)
            enterprise = f"urn:carbonledger:enterprise:large-{i:06d}"
            record["id"] = f"urn:carbonledger:credit-change:large-{i:06d}"
            record["subject"] = record["body"]["enterprise"]["id"] = enterprise
            commitments[record["id"]] = commit(record)
        ledger = Ledger(chain, deploy_contracts(chain, artifacts, admin_delay_s=3600), commitments)
        producers: dict[str, set[str]] = {}
        for c in commitments.values():
            producers.setdefault(c.record["producer"], set()).add(c.record["type"])
        register_producers(chain, ledger.contract("TrustRegistry"), producers)
        anchor(ledger, list(commitments))
        path = tmp.mktemp("big") / "bundle.json"
        path.write_bytes(ledger.bundle_bytes([i for i in commitments if i != rule.record["id"]]))
        yield ledger, path
    finally:
        chain.stop()


def _verifies(ledger: Ledger, path: Path, records: int) -> None:
    out = io.StringIO()
    argv = ["bundle", str(path), "--rpc", str(ledger.chain.rpc_url), "--chain-id",
            str(ledger.chain.chain_id), "--registry", ledger.anchor_address, "--json",
            "--jobs", "2"]  # fmt: skip
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    report = json.loads(out.getvalue())
    assert code == 0, [c for c in report["checks"] if c["status"] not in ("PASS", "SKIP")][:5]
    assert report["bundle"]["records"] == records
    assert report["summary"]["FAIL"] == 0 and report["summary"]["UNKNOWN"] == 0
    passed = {(c["number"], c["subject"]) for c in report["checks"] if c["status"] == "PASS"}
    for number in (4, 5, 6, 7, 10):
        assert (number, f"items[{records - 2}]") in passed, number


@pytest.fixture(scope="module")
def small(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Ledger, Path]]:
    yield from _anchored(2_000, artifacts, anvil_path, tmp_path_factory)


def test_two_thousand_copies_verify_in_two_processes(small: tuple[Ledger, Path]) -> None:
    _verifies(*small, 2_000)


@pytest.mark.skipif(not BIG, reason="set CARBONLEDGER_BIG_BUNDLES=1 (minutes, 4.4 GB)")
@pytest.mark.timeout(3600)
def test_a_hundred_thousand_records_verify(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for ledger, path in _anchored(MAX_ITEMS, artifacts, anvil_path, tmp_path_factory):
        _verifies(ledger, path, MAX_ITEMS)
