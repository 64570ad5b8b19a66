"""Meter readings and carbon-efficiency records through the accept path (docs/SUBMISSION.md §5,
docs/RECORDS.md §3.12-§3.16), on SQLite and PostgreSQL: a day of the example plant is accepted
and its evaluation recomputed; a batch from an unregistered terminal, with a bad signature,
for a metering point its terminal may not sign for, out of its template, overlapping stored
readings or with a malformed identifier is refused naming the field, and nothing is stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli.terminals import identifier_of
from ledger.core.keys import public_key_of
from ledger.core.readings import reading_content, sign_reading, terminal_id_hex
from ledger.core.signature import key_id, public_key_bytes
from ledger.core.view import Commitment, commit
from ledger.examples import efficiency as ex
from ledger.examples import factors as ref
from ledger.service import LedgerService, RefusedRecordError
from ledger.service.evaluations import EvaluationConflictError
from ledger.store import Store
from ledger.store.producers import add_producer, add_producer_key, grant_key_type
from ledger.store.terminals import (
    all_terminal_keys,
    mirror_terminal_grant,
    mirror_terminal_key,
    mirror_terminal_revocation,
)
from tests.service.conftest import KEYS_FROM, PRODUCER_KEYS, bulk, dump, seeded_key, submission
from tests.service.conftest import submission_json as signed

EDGE_KEY = seeded_key(ex.PRODUCER_METERING)
DESK_KEY = seeded_key(ex.PRODUCER_EFFICIENCY)
TERMINALS = {t.field: t for t in ex.terminals()}
GRID, GAS, PV = (
    TERMINALS["electricity_import"],
    TERMINALS["natural_gas"],
    TERMINALS["pv_generation"],
)
TERMINALS_FROM = datetime(2025, 12, 1, tzinfo=ex.PERIOD_START.tzinfo)
DAY0 = ex.PERIOD_START


def register_terminal(store: Store, terminal: ex.Terminal, *, points: tuple[str, ...] = ()) -> str:
    public = public_key_of(terminal.key)
    with store.transaction() as session:
        kid = mirror_terminal_key(
            session,
            terminal_id_hex=terminal_id_hex(terminal.id),
            scheme=public.scheme,
            public_key_hex=public.raw.hex(),
            distinguishing_id_hex=public.distinguishing_id.hex()
            if public.distinguishing_id is not None
            else None,
            valid_from=TERMINALS_FROM,
            valid_until=None,
            tx_hash=None,
        )
        for point in points or (terminal.metering_point,):
            mirror_terminal_grant(session, kid, "metering-point", point, granted_at=KEYS_FROM)
        mirror_terminal_grant(session, kid, "record-type", "meter-reading", granted_at=KEYS_FROM)
    return kid


@pytest.fixture
def plant(store: Store) -> dict[str, Commitment]:
    """A day of the plant, committed in dependency order; producers and terminals registered."""
    with store.transaction() as session:
        for producer, key, types in (
            (ex.PRODUCER_METERING, EDGE_KEY, ("metadata-template", "meter-reading")),
            (ex.PRODUCER_EFFICIENCY, DESK_KEY, ("carbon-efficiency",)),
        ):
            add_producer(session, producer, created_at=KEYS_FROM)
            add_producer_key(
                session,
                producer=producer,
                public_key_hex=public_key_bytes(key).hex(),
                valid_from=KEYS_FROM,
                record_types=types,
            )
        desk = key_id(public_key_bytes(PRODUCER_KEYS[ref.PRODUCER_REFDATA]))
        for rtype in ("metadata-template", "industry-benchmark", "efficiency-grading-rule"):
            grant_key_type(session, desk, rtype, granted_at=KEYS_FROM)
    for terminal in TERMINALS.values():
        register_terminal(store, terminal)
    commitments: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        commitments[record["id"]] = commit(record)
        return commitments[record["id"]].digest_hex

    ex.efficiency_example_records(digest_of, days=1)
    return commitments


def key_of(c: Commitment) -> Ed25519PrivateKey:
    return {ex.PRODUCER_METERING: EDGE_KEY, ex.PRODUCER_EFFICIENCY: DESK_KEY}.get(
        c.record["producer"], PRODUCER_KEYS.get(c.record["producer"], EDGE_KEY)
    )


def accept(service: LedgerService, c: Commitment) -> None:
    service.accept(submission(c, key_of(c)))


def accept_references(service: LedgerService, plant: dict[str, Commitment]) -> None:
    for c in plant.values():
        if c.record["type"] in ("meter-reading", "carbon-efficiency"):
            return
        accept(service, c)


def digests(plant: dict[str, Commitment]) -> dict[str, str]:
    return {rid: c.digest_hex for rid, c in plant.items()}


def hours(
    day: int, first: int, count: int, qty: str = "100"
) -> list[tuple[datetime, datetime, str]]:
    start = DAY0 + timedelta(days=day, hours=first)
    return [(start + timedelta(hours=h), start + timedelta(hours=h + 1), qty) for h in range(count)]


def refused(
    service: LedgerService, store: Store, send: Callable[[], object], field: str, words: str
) -> RefusedRecordError:
    before = dump(store)
    with pytest.raises(RefusedRecordError) as info:
        send()
    assert info.value.field == field, str(info.value)
    assert words in str(info.value), str(info.value)
    assert dump(store) == before  # nothing stored
    return info.value


def test_a_day_of_the_plant_is_accepted_and_its_evaluation_recomputed(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    for c in plant.values():
        accept(service, c)
    assert dump(store)["records"] and len(dump(store)["reading_spans"]) == 3
    # The evaluation was recomputed at acceptance: a figure off by one digit is refused.
    evaluation = copy.deepcopy(plant[ex.EVALUATION].record)
    evaluation["id"] += "-v2"
    evaluation["body"]["result"]["grade"] = 5
    bad = commit(evaluation)
    info = refused(
        service, store, lambda: service.accept(submission(bad, DESK_KEY)), "body.result.grade",
        "stated 5, recomputed 2",
    )  # fmt: skip
    assert (info.expected, info.computed) == (5, 2)


def test_a_batch_from_an_unregistered_terminal_is_refused(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    stranger = ex.Terminal(
        "88.118.8/TM-GRID-09", GRID.metering_point, GRID.field, GRID.unit,
        Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))), GRID.profile,
    )  # fmt: skip
    batch = commit(
        ex.signed_batch(
            stranger, "urn:carbonledger:meter-reading:stray", hours(0, 0, 2), digests(plant)
        )
    )
    refused(
        service, store, lambda: accept(service, batch), "body.terminal.public_key",
        "is registered in the TrustRegistry",
    )  # fmt: skip


def test_a_reading_with_a_bad_signature_is_refused(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    record = ex.signed_batch(
        GRID, "urn:carbonledger:meter-reading:grid", hours(0, 0, 3), digests(plant)
    )
    record["body"]["readings"][1]["quantity"] = "1.0"  # altered after the terminal signed it
    batch = commit(record)
    refused(
        service, store, lambda: accept(service, batch), "body.readings[1].signature",
        "does not verify",
    )  # fmt: skip


def test_a_terminal_signing_for_a_metering_point_it_may_not_is_refused(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    # The grid meter's key signs readings of the photovoltaic metering point.
    record = ex.signed_batch(
        GRID, "urn:carbonledger:meter-reading:pv", hours(0, 0, 2), digests(plant),
        metering_point=PV.metering_point, template=None,
    )  # fmt: skip
    batch = commit(record)
    refused(
        service, store, lambda: accept(service, batch), "body.metering_point",
        f"may not sign for metering point {PV.metering_point}",
    )  # fmt: skip


def test_readings_out_of_the_template_are_refused_field_by_field(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    # The plant's template allows 0..1200 kWh an hour from the grid, in kWh only.
    readings = hours(0, 0, 3)
    readings[0] = (readings[0][0], readings[0][1], "1500")
    readings[2] = (readings[2][0], readings[2][1], "1300.5")
    batch = commit(
        ex.signed_batch(GRID, "urn:carbonledger:meter-reading:over", readings, digests(plant))
    )
    info = refused(
        service, store, lambda: accept(service, batch), "body.readings[0].quantity",
        "above the maximum 1200",
    )  # fmt: skip
    assert "body.readings[2].quantity" in str(info)  # every finding, not the first only
    mwh = ex.signed_batch(
        GRID, "urn:carbonledger:meter-reading:mwh", hours(0, 0, 1, "0.4"), digests(plant),
        unit="MWh",
    )  # fmt: skip
    batch = commit(mwh)
    refused(service, store, lambda: accept(service, batch), "body.unit", "'MWh' is not allowed")


def test_overlapping_readings_are_refused_within_a_batch_a_call_and_the_store(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    d = digests(plant)
    readings = hours(0, 0, 2)
    readings[1] = (readings[0][0] + timedelta(minutes=30), readings[1][1], "100")
    inside = commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:inside", readings, d))
    refused(service, store, lambda: accept(service, inside), "body.readings[1].start", "overlaps")
    accept(
        service,
        commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:morning", hours(0, 0, 6), d)),
    )
    again = commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:again", hours(0, 5, 2), d))
    refused(
        service, store, lambda: accept(service, again), "body.readings[0].start",
        "urn:carbonledger:meter-reading:morning (stored)",
    )  # fmt: skip
    # Two batches of one call: the second overlaps the first.
    first = commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:noon", hours(0, 12, 2), d))
    second = commit(
        ex.signed_batch(GRID, "urn:carbonledger:meter-reading:noon-2", hours(0, 13, 2), d)
    )
    both = bulk(signed(first, EDGE_KEY), signed(second, EDGE_KEY))
    info = refused(
        service, store, lambda: service.accept_bulk(both), "body.readings[0].start",
        "urn:carbonledger:meter-reading:noon (earlier in this call)",
    )  # fmt: skip
    assert info.index == 1
    # Adjacent readings do not overlap; another metering point's readings never do.
    service.accept_bulk(bulk(signed(first, EDGE_KEY)))
    accept(
        service,
        commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:after", hours(0, 14, 1), d)),
    )
    accept(
        service,
        commit(
            ex.signed_batch(GAS, "urn:carbonledger:meter-reading:gas", hours(0, 0, 6, "3.15"), d)
        ),
    )


@pytest.mark.parametrize(
    ("point", "words"),
    [
        ("1.2.156.0123", "canonical spelling '1.2.156.123'"),  # an OID arc with a leading zero
        ("1" * 34, "got 34"),  # an Ecode of the wrong length
    ],
)
def test_a_malformed_metering_point_is_refused(
    service: LedgerService, store: Store, plant: dict[str, Commitment], point: str, words: str
) -> None:
    accept_references(service, plant)
    record = ex.signed_batch(
        GRID, "urn:carbonledger:meter-reading:mp", hours(0, 0, 1), digests(plant), template=None
    )
    record["subject"] = record["body"]["metering_point"] = point
    batch = commit(record)
    refused(service, store, lambda: accept(service, batch), "body.metering_point", words)


def test_the_terminal_key_must_be_the_registered_one_and_valid(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    d = digests(plant)
    # The batch names another terminal than the key is registered for.
    record = ex.signed_batch(GRID, "urn:carbonledger:meter-reading:other", hours(0, 0, 1), d)
    record["body"]["terminal"]["id"] = "88.118.8/TM-GRID-02"
    content = reading_content(record["body"], record["body"]["readings"][0])
    record["body"]["readings"][0]["signature"] = sign_reading(GRID.key, content)
    batch = commit(record)
    refused(service, store, lambda: accept(service, batch), "body.terminal.id", "another terminal")
    # Another distinguishing identifier for the same SM2 key.
    record = ex.signed_batch(GRID, "urn:carbonledger:meter-reading:ident", hours(0, 0, 1), d)
    record["body"]["terminal"]["distinguishing_id"] = "1234567812345678"
    batch = commit(record)
    refused(
        service, store, lambda: accept(service, batch), "body.terminal.distinguishing_id",
        "another distinguishing identifier",
    )  # fmt: skip
    # A reading ended before the key's window opened.
    early = [(TERMINALS_FROM - timedelta(hours=2), TERMINALS_FROM - timedelta(hours=1), "1")]
    batch = commit(ex.signed_batch(GRID, "urn:carbonledger:meter-reading:early", early, d))
    refused(service, store, lambda: accept(service, batch), "body.readings[0].end", "not valid")
    # Revoked before the batch arrives.
    with store.transaction() as session:
        mirror_terminal_revocation(
            session, public_key_of(GAS.key).key_id, effective_at=KEYS_FROM + timedelta(days=400)
        )
    batch = commit(
        ex.signed_batch(GAS, "urn:carbonledger:meter-reading:revoked", hours(0, 0, 1, "3"), d)
    )
    refused(service, store, lambda: accept(service, batch), "body.terminal.public_key", "revoked")


def test_an_enterprise_template_may_not_widen_its_industry_template(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    for c in plant.values():
        if c.record["id"] == ex.TPL_ENTERPRISE_METER:
            break
        accept(service, c)
    record = copy.deepcopy(plant[ex.TPL_ENTERPRISE_METER].record)
    record["body"]["fields"][0]["max"] = "9000"  # the industry template stops at 5000 kWh
    wider = commit(record)
    refused(
        service, store, lambda: accept(service, wider), "body.fields[0].max",
        "goes above the maximum 5000",
    )  # fmt: skip


# -- one current evaluation per enterprise and period (docs/RECORDS.md §3.16) ----------------


def second_evaluation(
    plant: dict[str, Commitment], suffix: str, *, value_added: str, supersedes: Commitment | None
) -> Commitment:
    """Another evaluation of the plant's enterprise for the same day, with another value
    added (so another grade), superseding ``supersedes`` when it is given."""
    first = plant[ex.EVALUATION].record
    batches = {s["field"]: [r["id"] for r in s["readings"]] for s in first["body"]["sources"]}
    records = {rid: c.record for rid, c in plant.items()}
    record = ex.evaluation(records, digests(plant), batches, days=1, value_added=value_added)
    record["id"] = f"{ex.EVALUATION}-{suffix}"
    if supersedes is not None:
        link = {"rel": "supersedes", "id": supersedes.record["id"], "reason": "correction"}
        record["refs"].append({**link, "digest": supersedes.digest_hex})
    return commit(record)


def test_a_second_evaluation_of_the_same_period_must_supersede_the_first(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    # The trial accepted a grade 5 and a grade 4 for one plant and one month, both current.
    for c in plant.values():
        accept(service, c)
    first = plant[ex.EVALUATION]
    rival = second_evaluation(plant, "rival", value_added="10000", supersedes=None)
    assert rival.record["body"]["result"]["grade"] != first.record["body"]["result"]["grade"]
    before = dump(store)
    with pytest.raises(EvaluationConflictError) as info:
        service.accept(submission(rival, DESK_KEY))
    assert info.value.existing_record_id == first.record["id"]
    assert info.value.record_id == rival.record["id"]
    assert first.record["id"] in str(info.value) and "body.period" in str(info.value)
    assert "(2025-12-31T16:00:00Z to 2026-01-01T16:00:00Z)" in str(info.value)
    assert dump(store) == before  # nothing stored

    # A correction that supersedes it takes its place, and a third one must supersede that.
    revised = second_evaluation(plant, "revised", value_added="10000", supersedes=first)
    service.accept(submission(revised, DESK_KEY))
    third = second_evaluation(plant, "third", value_added="20000", supersedes=first)
    refused(
        service, store, lambda: service.accept(submission(third, DESK_KEY)),
        f"refs[{len(third.record['refs']) - 1}].id",
        "already superseded",
    )  # fmt: skip
    unlinked = second_evaluation(plant, "unlinked", value_added="20000", supersedes=None)
    with pytest.raises(EvaluationConflictError) as info:
        service.accept(submission(unlinked, DESK_KEY))
    assert info.value.existing_record_id == revised.record["id"]


def test_two_evaluations_of_one_period_in_one_bulk_are_refused_whole(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    accept_references(service, plant)
    rest = [c for c in plant.values() if c.record["type"] == "meter-reading"]
    for c in rest:
        accept(service, c)
    first = plant[ex.EVALUATION]
    rival = second_evaluation(plant, "rival", value_added="10000", supersedes=None)
    before = dump(store)
    with pytest.raises(EvaluationConflictError) as info:
        service.accept_bulk(bulk(signed(first, DESK_KEY), signed(rival, DESK_KEY)))
    assert (info.value.index, info.value.existing_record_id) == (1, first.record["id"])
    assert dump(store) == before


def test_keys_terminals_names_each_terminal_not_only_its_hash(
    service: LedgerService, store: Store, plant: dict[str, Commitment]
) -> None:
    # The trial's `carbonledger keys terminals` listed only SHA-256 of the identifier.
    with store.transaction(readonly=True) as session:
        before = {k.key_id: identifier_of(session, k) for k in all_terminal_keys(session)}
    assert set(before.values()) == {None}  # no batch yet: only the hash is known
    for c in plant.values():
        accept(service, c)
    with store.transaction(readonly=True) as session:
        named = {identifier_of(session, k) for k in all_terminal_keys(session)}
    assert named == {t.id for t in TERMINALS.values()}
