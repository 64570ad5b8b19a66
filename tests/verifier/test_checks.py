"""The numbered checks against a real anchored ledger on py-evm, through the library.

Each attack is named for what it models; every failing case asserts the
check that catches it and that the run as a whole is not "verified".
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
from typing import Any

import pytest

from ledger import examples
from ledger.core.bundle import Bundle, ChainRef, serialize_bundle
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.records import REFERENCE_TYPES
from ledger.core.signature import private_key_from_seed, sign_digest
from ledger.core.view import Commitment, RedactedView, commit, redact
from ledger.examples.equipment import ENTERPRISE
from ledger.examples.trail import credit_change
from tests.verifier.conftest import pins_for, reader_for
from tests.verifier.support import Ledger, anchor, seeded_salts
from verifier.chain import ChainReader, packaged_code_hash
from verifier.checks import verify_bundle
from verifier.model import Status, Verification
from verifier.report import render_table


def run(ledger: Ledger, data: bytes, **pin_overrides: Any) -> Verification:
    pins = pins_for(ledger, **pin_overrides)
    reader = ChainReader(
        ledger.chain.w3, anchor_registry=pins.anchor_registry, trust_registry=pins.trust_registry
    )
    return verify_bundle(data, reader=reader, pins=pins)


def statuses(v: Verification, number: int, subject: str | None = None) -> set[Status]:
    return {c.status for c in v.checks if c.number == number and subject in (None, c.subject)}


def reasons(v: Verification, number: int) -> str:
    return " | ".join(c.reason for c in v.checks if c.number == number)


def test_anchored_bundle_verifies(memory_ledger: Ledger) -> None:
    v = run(memory_ledger, memory_ledger.bundle_bytes())
    assert v.exit_code == 0 and v.verdict == "verified", [c for c in v.checks if c.status != "PASS"]
    assert v.record_count == 16
    for number in (1, 2, 4, 5, 6, 7, 9):
        assert statuses(v, number) == {Status.PASS}, number
    # The revised tank record supersedes v1: a warning naming the successor, not a failure.
    assert statuses(v, 8) == {Status.PASS, Status.WARN}
    assert examples.CR_TANK_REVISED in reasons(v, 8)
    by_type = {c.record_id: c for c in v.checks if c.number == 10}
    assert by_type[examples.SUB_TANK_EU].status is Status.PASS
    assert by_type[examples.SUB_HX_SEA].status is Status.PASS
    assert by_type[examples.CC_ENTERPRISE_2025].status is Status.PASS
    # The rating names the one it follows, which the bundle carries: previous_grade checked.
    assert "previous grade A as set by " + examples.CC_ENTERPRISE_2024 in (
        by_type[examples.CC_ENTERPRISE_2025].reason
    )
    assert all(c.recomputed for c in by_type.values() if c.status is Status.PASS)
    assert by_type[examples.CR_TANK_REVISED].status is Status.PASS
    assert by_type[examples.BIM_TANK_INSPECTION].status is Status.SKIP


def test_reads_are_cached_per_batch(memory_ledger: Ledger) -> None:
    data = memory_ledger.bundle_bytes()
    cached = reader_for(memory_ledger)
    pins = pins_for(memory_ledger)
    verify_bundle(data, reader=cached, pins=pins)
    first = cached.calls
    verify_bundle(data, reader=cached, pins=pins)
    assert cached.calls == first  # a second run costs no call at all
    naive = reader_for(memory_ledger, cache=False)
    verify_bundle(data, reader=naive, pins=pins)
    assert naive.calls > first


def test_public_bundle_is_not_verified_where_figures_are_hidden(memory_ledger: Ledger) -> None:
    """The example figures rest on a supplier's declared factors (confidential) and the
    credit changes hide their scores by design: nothing fails, but nothing of that is
    recomputed, so the run ends NOT RECOMPUTED (exit 4), never VERIFIED."""
    data = memory_ledger.bundle_bytes(audience="public", closure_audience="public")
    v = run(memory_ledger, data)
    assert v.exit_code == 4 and v.verdict == "not-recomputed"
    assert statuses(v, 4) == {Status.PASS} and "redacted view" in reasons(v, 4)
    assert statuses(v, 5) == {Status.PASS} and statuses(v, 6) == {Status.PASS}
    assert statuses(v, 10) == {Status.SKIP}
    by_id = {c.record_id: c for c in v.checks if c.number == 10}
    assert by_id[examples.SUB_TANK_EU].recomputed is False
    assert "confidential inputs" in by_id[examples.SUB_TANK_EU].reason
    credit = by_id[examples.CC_ENTERPRISE_2025]
    assert credit.recomputed is False and "hides its scores by design" in credit.reason
    # Reference data travels in full: official sets, rules; the supplier's set redacted.
    full = {c.record_id for c in v.checks if c.number == 4 and "full view" in c.reason}
    assert {examples.FS_CN_MEE_2023, examples.RULE_EU_CBAM, examples.RULE_RATING} <= full
    assert examples.FS_SUPPLIER not in full
    assert by_id[examples.FS_CN_MEE_2023].recomputed is None  # no figures: not counted
    table = render_table(v, pins=pins_for(memory_ledger))
    result = table[table.index("result:") :]
    assert result.startswith("result: NOT RECOMPUTED") and "(exit 4)" in result
    assert examples.CC_ENTERPRISE_2025 in result and "hides its scores by design" in result
    assert "regulator's view" in result and ENTERPRISE in result


def test_full_item_with_redacted_inputs_is_not_recomputed(memory_ledger: Ledger) -> None:
    v = run(memory_ledger, memory_ledger.bundle_bytes(closure_audience="allow-list"))
    assert v.exit_code == 4
    sub = next(c for c in v.checks if c.number == 10 and c.record_id == examples.SUB_TANK_EU)
    assert sub.status is Status.SKIP and sub.recomputed is False
    assert "is in the bundle as a redacted view" in sub.reason


def test_first_version_bundles_recompute_from_views_hiding_nothing(memory_ledger: Ledger) -> None:
    """The first exporter shipped reference data as redacted views with nothing hidden;
    such a view discloses the whole record, so the figures resting on it recompute."""
    bundle = memory_ledger.bundle()
    closure = tuple(
        dataclasses.replace(i, view=redact(i.view, lambda _path: True))
        if isinstance(i.view, Commitment) and i.view.record["type"] in REFERENCE_TYPES
        else i
        for i in bundle.closure
    )
    assert any(not isinstance(i.view, Commitment) for i in closure)
    v = run(memory_ledger, serialize_bundle(dataclasses.replace(bundle, closure=closure)))
    assert v.exit_code == 0 and v.verdict == "verified"
    sub = next(c for c in v.checks if c.number == 10 and c.record_id == examples.SUB_TANK_EU)
    assert sub.status is Status.PASS and sub.recomputed is True


def test_proof_for_other_record(memory_ledger: Ledger) -> None:
    """Record X shipped with record Y's digest, signature and proof (cosign GHSA-8gw7-4j42-w388)."""
    bundle = memory_ledger.bundle()
    other = memory_ledger.item(examples.SUB_TANK_UK)  # a record the bundle does not hold
    items = list(bundle.items)
    items[0] = dataclasses.replace(items[0], view=other.view)
    v = run(memory_ledger, serialize_bundle(dataclasses.replace(bundle, items=tuple(items))))
    assert v.exit_code == 1
    assert statuses(v, 4, "items[0]") == {Status.FAIL}
    # ...and with X's own digest: Y's signature and proof no longer fit.
    items[0] = dataclasses.replace(items[0], digest=other.digest)
    v = run(memory_ledger, serialize_bundle(dataclasses.replace(bundle, items=tuple(items))))
    assert statuses(v, 5, "items[0]") == {Status.FAIL}
    assert statuses(v, 6, "items[0]") == {Status.FAIL}


def test_bundle_wrong_chain_id_pinned(memory_ledger: Ledger) -> None:
    v = run(memory_ledger, memory_ledger.bundle_bytes(), chain_id=1)
    assert v.exit_code == 1
    assert statuses(v, 2) == {Status.FAIL} and "pinned 1" in reasons(v, 2)
    assert statuses(v, 7) == {
        Status.SKIP
    }  # nothing is read from a chain that is not the pinned one


def test_wrong_registry_pinned(memory_ledger: Ledger) -> None:
    other = memory_ledger.trust_address
    v = run(memory_ledger, memory_ledger.bundle_bytes(), anchor_registry=other)
    assert v.exit_code == 1 and statuses(v, 2) == {Status.FAIL}
    assert "AnchorRegistry" in reasons(v, 2)


def test_bundle_naming_another_chain_fails_even_with_right_pins(memory_ledger: Ledger) -> None:
    ref = ChainRef(1, memory_ledger.anchor_address, memory_ledger.trust_address)
    v = run(memory_ledger, memory_ledger.bundle_bytes(chain_ref=ref))
    assert v.exit_code == 1 and "the bundle names chain 1" in reasons(v, 2)


def test_registry_code_hash(memory_ledger: Ledger) -> None:
    good = run(
        memory_ledger,
        memory_ledger.bundle_bytes(),
        anchor_code_hash=packaged_code_hash("AnchorRegistry"),
        trust_code_hash=packaged_code_hash("TrustRegistry"),
    )
    assert statuses(good, 3) == {Status.PASS} and good.exit_code == 0
    bad = run(memory_ledger, memory_ledger.bundle_bytes(), anchor_code_hash="0x" + "ab" * 32)
    assert statuses(bad, 3) == {Status.FAIL} and bad.exit_code == 1


def test_batch_header_tampering(memory_ledger: Ledger) -> None:
    bundle = memory_ledger.bundle()
    h1, h2 = bundle.batches[1], bundle.batches[2]
    cases = {
        "leaf_count": dataclasses.replace(h2, leaf_count=h2.leaf_count + 1),
        "tx_of_other_batch": dataclasses.replace(h2, tx_hash=h1.tx_hash),
        "block_hash": dataclasses.replace(h2, block_hash=h1.block_hash),
        "manifest": dataclasses.replace(h2, manifest_digest=h1.manifest_digest),
    }
    for name, header in cases.items():
        tampered = dataclasses.replace(bundle, batches={1: h1, 2: header})
        v = run(memory_ledger, serialize_bundle(tampered))
        assert v.exit_code == 1, name
        assert Status.FAIL in statuses(v, 7), name


def test_batch_never_anchored(memory_ledger: Ledger) -> None:
    bundle = memory_ledger.bundle([examples.FS_DESNZ_2025])
    only = bundle.items[0]
    moved = dataclasses.replace(
        bundle, items=(dataclasses.replace(only, batch_seq=99),), batches={99: bundle.batches[1]}
    )
    v = run(memory_ledger, serialize_bundle(moved))
    assert v.exit_code == 1 and "holds no batch 99" in reasons(v, 7)


def test_anchor_not_deep_enough(memory_ledger: Ledger) -> None:
    v = run(memory_ledger, memory_ledger.bundle_bytes(), min_depth=10_000)
    assert v.exit_code == 1 and "wait and re-run" in reasons(v, 7)


def test_reference_missing_from_bundle(memory_ledger: Ledger) -> None:
    bundle = memory_ledger.bundle([examples.SUB_TANK_UK])
    kept = tuple(
        i for i in bundle.closure if i.digest != memory_ledger.commitments[examples.RULE_UK].digest
    )
    v = run(memory_ledger, serialize_bundle(dataclasses.replace(bundle, closure=kept)))
    assert v.exit_code == 1
    assert statuses(v, 9, "items[0]") == {Status.FAIL} and examples.RULE_UK in reasons(v, 9)
    assert statuses(v, 10, "items[0]") == {Status.FAIL}


def _anchor_new(ledger: Ledger, record: dict[str, Any], *, key_seed: bytes | None = None) -> bytes:
    """Commit, anchor in a batch of its own and return a bundle of ``record``."""
    c = commit(record, salt_source=seeded_salts(record["id"]))
    ledger.commitments[record["id"]] = c
    anchor(ledger, [record["id"]])
    bundle = ledger.bundle([record["id"]])
    if key_seed is not None:
        item = bundle.items[0]
        sig = sign_digest(private_key_from_seed(key_seed), item.digest)
        bundle = dataclasses.replace(bundle, items=(dataclasses.replace(item, signature=sig),))
    return serialize_bundle(bundle)


def _digests(ledger: Ledger) -> dict[str, str]:
    return {i: c.digest_hex for i, c in ledger.commitments.items()}


def test_recomputation_mismatch_prints_both_values(memory_ledger: Ledger) -> None:
    """A signed, anchored credit change whose grade does not follow from its scores."""
    record = credit_change(
        _digests(memory_ledger), rid="urn:carbonledger:credit-change:ent-wrong-grade"
    )
    record = parse_json(canonicalize(record))
    record["body"]["scores"]["dynamic_carbon_governance"] = "10.00"
    v = run(memory_ledger, _anchor_new(memory_ledger, record))
    assert v.exit_code == 1
    check = next(c for c in v.checks if c.number == 10)
    assert check.status is Status.FAIL
    assert "stated" in check.reason and "recomputed" in check.reason
    assert check.evidence and check.evidence["stated"] != check.evidence["computed"]
    for number in (4, 5, 6, 7):  # everything else about it is genuine
        assert statuses(v, number) == {Status.PASS}


def test_previous_grade_lie_fails(memory_ledger: Ledger) -> None:
    """A rating naming the 2024 rating (grade A) as the one it follows, but claiming the
    enterprise was AAA before: the bundle carries the named rating, check 10 compares."""
    record = credit_change(
        _digests(memory_ledger),
        rid="urn:carbonledger:credit-change:ent-previous-lie",
        previous_grade="AAA",
    )
    assert {k: record["refs"][-1][k] for k in ("rel", "id")} == {
        "rel": "previous",
        "id": examples.CC_ENTERPRISE_2024,
    }
    v = run(memory_ledger, _anchor_new(memory_ledger, record))
    assert v.exit_code == 1
    check = next(c for c in v.checks if c.number == 10 and c.subject == "items[0]")
    assert check.status is Status.FAIL and "body.previous_grade" in check.reason
    assert check.evidence == {"stated": "AAA", "computed": "A"}


def test_factor_sets_outside_their_validity(memory_ledger: Ledger) -> None:
    """The tank's footprint on 2023 grid factors for 2025: stated why in schema 2 (PASS);
    an older schema-1 record cannot say why (WARN, still verified); a schema-2 record that
    does not say why was never accepted by the service (FAIL)."""
    base = memory_ledger.commitments[examples.CR_TANK].record
    v1 = parse_json(canonicalize(base))
    v1["id"] = "urn:carbonledger:carbon-record:st-tk-0101-2025-schema1"
    v1["schema_version"] = "1"
    del v1["body"]["validity_exceptions"]
    v = run(memory_ledger, _anchor_new(memory_ledger, v1))
    check = next(c for c in v.checks if c.number == 10 and c.subject == "items[0]")
    assert v.verdict == "verified" and check.status is Status.WARN
    assert "2023-01-01..2023-12-31" in check.reason and "schema version 1 cannot" in check.reason
    unstated = parse_json(canonicalize(v1))
    unstated["id"] = "urn:carbonledger:carbon-record:st-tk-0101-2025-unstated"
    unstated["schema_version"] = "2"
    v = run(memory_ledger, _anchor_new(memory_ledger, unstated))
    check = next(c for c in v.checks if c.number == 10 and c.subject == "items[0]")
    assert v.exit_code == 1 and check.status is Status.FAIL
    assert "body.lines[3].factor.set" in check.reason and "states why" in check.reason


def _reordered(bundle: Bundle, where: str) -> Bundle:
    items = list(bundle.items)
    item = items[0]
    view = item.view
    if where == "salts":
        assert isinstance(view, Commitment)
        salts = list(view.salts.items())
        salts[3], salts[4] = salts[4], salts[3]
        items[0] = dataclasses.replace(item, view=Commitment(view.record, dict(salts)))
    elif where == "disclosures":
        assert isinstance(view, RedactedView)
        shown = list(view.disclosures)
        shown[0], shown[1] = shown[1], shown[0]
        items[0] = dataclasses.replace(item, view=RedactedView(tuple(shown), view.hidden))
    elif where == "hidden":
        assert isinstance(view, RedactedView)
        items[0] = dataclasses.replace(
            item, view=RedactedView(view.disclosures, tuple(reversed(view.hidden)))
        )
    else:  # the same record twice: once as an item, once in the closure
        return dataclasses.replace(bundle, closure=(*bundle.closure, item))
    return dataclasses.replace(bundle, items=tuple(items))


@pytest.mark.parametrize(
    ("attack", "audience", "place"),
    [
        ("salts_out_of_order", None, "bundle.items[0].view.salts[4]"),
        ("disclosures_out_of_order", "public", "bundle.items[0].view.disclosures[1]"),
        ("hidden_out_of_order", "public", "bundle.items[0].view.hidden[1]"),
        ("record_twice_in_one_bundle", None, ".digest"),
    ],
)
def test_one_bundle_one_byte_string(
    memory_ledger: Ledger, attack: str, audience: str | None, place: str
) -> None:
    """Orders JCS does not fix, and repeats, would let two byte strings carry one bundle:
    refused as unreadable (exit 2), naming the place (docs/FORMAT.md §6)."""
    bundle = memory_ledger.bundle([examples.CC_ENTERPRISE_2025], audience=audience)
    where = attack.split("_")[0]
    v = run(memory_ledger, serialize_bundle(_reordered(bundle, where)))
    assert v.unreadable and v.exit_code == 2, attack
    assert place in reasons(v, 1)


def test_revoked_record_fails(memory_ledger: Ledger) -> None:
    record = credit_change(
        _digests(memory_ledger), rid="urn:carbonledger:credit-change:ent-revoked"
    )
    data = _anchor_new(memory_ledger, record)
    digest = memory_ledger.commitments[record["id"]].digest
    registry = memory_ledger.contract("AnchorRegistry")
    memory_ledger.chain.transact(registry.functions.revoke(digest, 7, b"\x00" * 32))
    v = run(memory_ledger, data)
    assert v.exit_code == 1 and statuses(v, 8, "items[0]") == {Status.FAIL}
    assert "reason code 7" in reasons(v, 8)


def test_key_not_valid_at_issue_time(memory_ledger: Ledger) -> None:
    record = credit_change(
        _digests(memory_ledger),
        rid="urn:carbonledger:credit-change:ent-backdated",
        issued_at="2024-06-30T00:00:00Z",
    )
    v = run(memory_ledger, _anchor_new(memory_ledger, record))
    assert v.exit_code == 1 and "was not valid at issued_at" in reasons(v, 5)


def test_unregistered_key(memory_ledger: Ledger) -> None:
    record = credit_change(
        _digests(memory_ledger), rid="urn:carbonledger:credit-change:ent-rogue-key"
    )
    v = run(memory_ledger, _anchor_new(memory_ledger, record, key_seed=b"\x42" * 32))
    assert v.exit_code == 1 and "is not registered" in reasons(v, 5)


def test_attestations_name_the_accredited_body(memory_ledger: Ledger) -> None:
    record = credit_change(
        _digests(memory_ledger), rid="urn:carbonledger:credit-change:ent-attested"
    )
    data = _anchor_new(memory_ledger, record)
    chain = memory_ledger.chain
    body = chain.dev_accounts()[3]
    trust = memory_ledger.contract("TrustRegistry")
    chain.transact(
        trust.functions.accreditBody(
            body.address, "Example Verification Ltd", "ISO 14064-3", "EU,GB", 0, 2**40
        )
    )
    digest = memory_ledger.commitments[record["id"]].digest
    chain.transact(trust.functions.attest(digest, b"\x11" * 32, 1), sender=body)
    v = run(memory_ledger, data)
    assert v.exit_code == 0
    assert statuses(v, 11, "items[0]") == {Status.PASS}
    assert "Example Verification Ltd" in reasons(v, 11) and body.address in reasons(v, 11)


def test_local_file_against_archive_record(memory_ledger: Ledger) -> None:
    # The example archive's document hashes are SHA-256 of the document names
    # (ledger.examples.equipment.document_hash): a file with that content matches.
    name = "inspection-report-2026-03.pdf"
    good = (name, hashlib.sha256(name.encode()).hexdigest())
    data = memory_ledger.bundle_bytes([examples.BIM_TANK_INSPECTION])
    pins = pins_for(memory_ledger)
    v = verify_bundle(data, reader=reader_for(memory_ledger), pins=pins, files=[good])
    assert (
        v.exit_code == 0 and statuses(v, 12) == {Status.PASS} and "documents[0]" in reasons(v, 12)
    )
    other = ("forged.pdf", hashlib.sha256(b"forged").hexdigest())
    v = verify_bundle(data, reader=reader_for(memory_ledger), pins=pins, files=[other])
    assert v.exit_code == 1 and statuses(v, 12) == {Status.FAIL}
    public = memory_ledger.bundle_bytes([examples.BIM_TANK_INSPECTION], audience="public")
    v = verify_bundle(public, reader=reader_for(memory_ledger), pins=pins, files=[good])
    assert v.exit_code == 1 and "public view hides them" in reasons(v, 12)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("truncated", None, "bundle"),
        ("not_json", b"\x89PNG\r\n\x1a\n\x00\x00", ""),
        (
            "unknown_major_version",
            b'{"format":"carbonledger-bundle/2"}',
            "unsupported bundle version 2",
        ),
        ("duplicate_json_key", b'{"format":"carbonledger-bundle/1","format":"x"}', ""),
    ],
)
def test_unreadable_bundles(
    memory_ledger: Ledger, name: str, data: bytes | None, expected: str
) -> None:
    if data is None:
        full = memory_ledger.bundle_bytes()
        data = full[: len(full) // 2]
    v = run(memory_ledger, data)
    assert v.unreadable and v.exit_code == 2, name
    assert statuses(v, 1) == {Status.FAIL} and expected in reasons(v, 1)


def test_rpc_down_is_indeterminate_not_pass(memory_ledger: Ledger) -> None:
    pins = pins_for(memory_ledger)
    reader = ChainReader.from_rpc(
        "http://127.0.0.1:9",
        anchor_registry=pins.anchor_registry,
        trust_registry=pins.trust_registry,
        timeout_s=2,
    )
    v = verify_bundle(memory_ledger.bundle_bytes(), reader=reader, pins=pins)
    assert v.exit_code == 3 and v.verdict == "indeterminate"
    assert statuses(v, 2) == {Status.UNKNOWN} and statuses(v, 7) == {Status.UNKNOWN}
    assert statuses(v, 4) == {Status.PASS}  # what needs no chain is still checked
    assert reader.calls == 1  # one failed call, then no more attempts


def test_the_cyclic_collector_is_paused_for_a_verification_and_restored(
    memory_ledger: Ledger,
) -> None:
    """A run allocates millions of acyclic objects; the collector's full passes over them
    cost half a 10,000-record run (scripts/bench verify), so it is paused while the run
    lasts and left as it was found: on again after a run, off if the caller had it off."""
    pins = pins_for(memory_ledger)
    seen: list[bool] = []
    reader = ChainReader(
        memory_ledger.chain.w3, anchor_registry=pins.anchor_registry, trust_registry=None
    )
    data = memory_ledger.bundle_bytes()
    v = verify_bundle(
        data, reader=reader, pins=pins, progress=lambda *_: seen.append(gc.isenabled())
    )
    assert v.exit_code == 0 and seen and not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:
        verify_bundle(data, reader=reader, pins=pins)
        assert not gc.isenabled()
    finally:
        gc.enable()
