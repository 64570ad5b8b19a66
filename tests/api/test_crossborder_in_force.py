"""What is in force. The export lock weighs only the risk assessment in force (docs/API.md
§3.7): a revoked or superseded assessment neither locks nor unlocks, and inside a bulk a
red assessment locks the conversions submitted after it. The whitelist is the one list of
accreditations the accept path and the desk check against. On the memory chain (py-evm)
with the real anchorer, revocations written on-chain and read back, and `carbon-verify`
over the revoked assessment's bundle."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.problems import problem_for
from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.crossborder import compose
from ledger.core.records import validate_record
from ledger.core.submission import submission_bytes
from ledger.core.view import commit
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from ledger.examples import substitution_record
from ledger.examples.equipment import CR_TANK
from ledger.service.locks import ExportLockedError
from ledger.store.chainfacts import find_revocation
from ledger.store.chainmirror import mirror_body
from tests.api.test_crossborder_api import (
    ASSESSOR_KEY,
    CR_TANK_LOW_CARBON,
    DIGESTS,
    verified_on_chain,
    world,
)
from tests.api.world import (
    CONVERSION,
    KEYS_FROM,
    KEYS_UNTIL,
    TANK_SUBJECT,
    World,
    anchor_everything,
    producer_key,
    run_anchorer,
)
from verifier.model import Status

__all__ = ["world"]  # the module's world, built as the cross-border API tests build theirs

ASSESSOR = xb.PRODUCER_ASSESSOR
LOW_CARBON = CR_TANK_LOW_CARBON + "-locks"
#: The digests of the records this module stores (the cross-border tests' own stay as their
#: module leaves them).
_STORED: dict[str, str] = {}


def _digests() -> dict[str, str]:
    return {**DIGESTS, **_STORED}


def _low_carbon(w: World) -> str:
    """The rectified tank record (a low-carbon coating), stored once in the module's world,
    whichever test asks first."""
    if w.http.get("/v1/record/status", params={"id": LOW_CARBON}).status_code == 404:
        low = xb.low_carbon_coating_tank_record(
            w.template.records[CR_TANK], _digests(), issued_at="2026-06-01T11:30:00Z",
            rid=LOW_CARBON,
        )  # fmt: skip
        _STORED[LOW_CARBON] = w.client("plant-mes").submit(low).digest_hex
    return LOW_CARBON


def _locks(w: World) -> list[tuple[str, str]]:
    items = w.http.get("/v1/locks", params={"subject": TANK_SUBJECT}).json()["items"]
    return [(i["region"], i["assessment"]) for i in items]


def _store_assessment(w: World, source: str, region: str = "NA") -> tuple[str, str]:
    r = w.http.post(
        "/v1/assessments",
        json={"source": source, "region": region, "import_date": "2026-07-01", "store": True},
        headers=w.headers("plant-mes"),
    )
    assert r.status_code == 200, r.text
    return r.json()["record_id"], r.json()["assessment"]["level"]


def _convert(w: World) -> Any:
    return w.http.post(
        "/v1/conversions", json={"source": CR_TANK, "region": "NA"}, headers=w.headers("plant-mes")
    )


def _revoke_on_chain(w: World, record_id: str) -> None:
    """A regulator's revocation, written on-chain by the real anchorer and read back."""
    anchor_everything(w)
    asked = w.http.post(
        "/v1/revocations",
        json={"record_id": record_id, "reason_code": 1, "reason_digest": "ab" * 32},
        headers=w.headers("eu-regulator"),
    )
    assert asked.status_code == 202, asked.text
    digest = asked.json()["digest"]

    def mined() -> bool:
        with w.store.transaction() as session:
            row = find_revocation(session, digest)
            return row is not None and row.state == "mined"

    if not run_anchorer(w, mined, tick_s=5):
        raise AssertionError(f"the revocation of {record_id} was not mined")


def test_a_revoked_red_assessment_no_longer_locks(world: World) -> None:
    w = world
    red, level = _store_assessment(w, CR_TANK)
    assert level == "red" and _locks(w) == [("NA", red)]
    assert _convert(w).status_code == 409
    # The exchange with buyers' systems asks the same lock (the app's default).
    exports = w.app.state.cbam.lock
    assert red in exports([TANK_SUBJECT], "NA")[TANK_SUBJECT]
    assert red in exports([TANK_SUBJECT], None)[TANK_SUBJECT]
    assert exports([TANK_SUBJECT], "EU") == {}
    _revoke_on_chain(w, red)
    assert _locks(w) == [] and exports([TANK_SUBJECT], None) == {}
    converted = _convert(w)
    assert converted.status_code == 201, converted.text

    # The verifier agrees: the revoked assessment FAILs check 8 from the chain.
    anchor_everything(w)
    bundle = w.http.get("/v1/record/bundle", params={"id": red}, headers=w.headers("tuv-auditor"))
    assert bundle.status_code == 200, bundle.text
    v = verified_on_chain(w, bundle.content)
    revoked = [c for c in v.checks if c.number == 8 and c.record_id == red]
    assert [c.status for c in revoked] == [Status.FAIL] and v.exit_code == 1


def test_a_revoked_assessment_that_was_not_red_no_longer_lifts_the_lock(world: World) -> None:
    w = world
    red, level = _store_assessment(w, CR_TANK)
    assert level == "red" and _locks(w) == [("NA", red)]
    yellow, level = _store_assessment(w, _low_carbon(w))
    assert level == "yellow" and _locks(w) == []
    _revoke_on_chain(w, yellow)
    # The red assessment before it is in force again.
    assert _locks(w) == [("NA", red)]
    refused = _convert(w)
    assert refused.status_code == 409 and refused.json()["record_id"] == red


def _assessment(w: World, rid: str, region: str, **extra: Any) -> dict[str, Any]:
    records = w.template.records
    rule_id = {"NA": kb.RULE_XB_NA, "EU": kb.RULE_XB_EU}[region]
    rule = records[rule_id]
    sets = [records[s["id"]] for s in rule["body"]["factor_sets"]]
    record = compose.assessment_record(
        rid,
        format_timestamp(w.clock()),
        ASSESSOR,
        validate_record(records[CR_TANK]),
        validate_record(rule),
        [validate_record(s) for s in sets],
        _digests(),
        import_date=date(2026, 7, 1),
    )
    record["refs"] += extra.get("refs", [])
    return record


def test_a_superseded_red_assessment_no_longer_locks(world: World) -> None:
    w = world
    before = _locks(w)
    red, level = _store_assessment(w, CR_TANK)
    assert level == "red" and _locks(w) == [("NA", red)] != before
    # The assessor corrects it: the assessment was meant for the EU.
    fixed = _assessment(
        w,
        "urn:carbonledger:risk-assessment:st-tk-0101-corrected-to-eu",
        "EU",
        refs=[{"rel": "supersedes", "id": red, "digest": _digest(w, red),
               "reason": "correction"}],
    )  # fmt: skip
    w.app.state.api.ledger.accept(submission_bytes(commit(fixed), ASSESSOR_KEY))
    # Superseded, it no longer counts: what stood before it stands again.
    assert _locks(w) == before


def _digest(w: World, record_id: str) -> str:
    status = w.http.get("/v1/record/status", params={"id": record_id}).json()
    return str(status["digest"])


def test_a_red_assessment_earlier_in_a_bulk_locks_a_later_conversion(world: World) -> None:
    w = world
    # The rectified record assessed again: nothing stored locks the tank for North America.
    assert _store_assessment(w, _low_carbon(w))[1] == "yellow" and _locks(w) == []
    # A red assessment and a conversion in one bulk, in that order.
    red = _assessment(w, "urn:carbonledger:risk-assessment:st-tk-0101-na-in-a-bulk", "NA")
    assert red["body"]["level"] == "red"
    by_hand = substitution_record(
        "urn:carbonledger:factor-substitution:st-tk-0101-na-in-a-bulk",
        format_timestamp(w.clock()),
        w.template.records[CR_TANK],
        w.template.records[kb.RULE_XB_NA],
        [w.template.records[kb.FS_XB_GRIDS]],
        _digests(),
    )
    assert by_hand["producer"] == CONVERSION
    bulk = [
        submission_bytes(commit(red), ASSESSOR_KEY),
        submission_bytes(commit(by_hand), producer_key(CONVERSION)),
    ]
    ledger = w.app.state.api.ledger
    before = sum(w.app.state.api.queries.counts().by_status.values())
    with pytest.raises(ExportLockedError) as refused:
        ledger.accept_values([_json(b) for b in bulk])
    assert refused.value.record_id == red["id"] and refused.value.index == 1
    problem = problem_for(refused.value)
    assert problem.status_code == 409
    assert b'"index": 1' in problem.body and red["id"].encode() in problem.body
    assert sum(w.app.state.api.queries.counts().by_status.values()) == before
    # The other order: the conversion goes first, before anything locks it.
    receipts = ledger.accept_values([_json(b) for b in reversed(bulk)])
    assert len(receipts) == 2 and _locks(w) == [("NA", red["id"])]


def _json(submission: bytes) -> Any:
    return parse_json(submission)


def test_the_whitelist_recognises_what_the_accept_path_recognises(world: World) -> None:
    """A body whose registry entry separates its regions with ';' (the registry's format
    is comma-separated, docs/CONTRACTS.md §4): the whitelist must not list it for a region
    for which the desk, the accept path and the verifier's check 11 do not recognise it."""
    w = world
    name = "Semicolon Verification Body (fictional)"
    with w.store.transaction() as session:
        mirror_body(
            session,
            address="0x" + "c1" * 20,
            name=name,
            scope="ISO 14065:2020 / CNAS: product carbon footprints",
            regions="EU;GB",
            valid_from=KEYS_FROM,
            valid_until=KEYS_UNTIL,
            withdrawn=False,
            block_number=2,
        )
    desk = w.app.state.api.crossborder.desk
    for region in ("EU", "GB"):
        listed = w.http.get("/v1/whitelist", params={"region": region}).json()["items"]
        on_the_list = any(i["name"] == name and i["valid_now"] for i in listed)
        recognised = desk.body_warning(name, region, w.clock()) is None
        assert on_the_list == recognised, region
        assert not recognised
