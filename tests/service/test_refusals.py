"""Bad input through the accept path (docs/SUBMISSION.md §5): each refusal names the record id
and the field, and the store is left exactly as it was (a dump before and after)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.core.canonical import canonicalize, parse_json
from ledger.core.errors import MalformedError
from ledger.core.signature import public_key_bytes
from ledger.core.view import Commitment, commit, redact
from ledger.examples import (
    CC_ENTERPRISE_2024,
    CR_TANK,
    CR_TANK_REVISED,
    FS_ILLUSTRATIVE,
)
from ledger.service import AcceptLimits, LedgerService, ManualClock, RefusedRecordError
from ledger.store import Store
from ledger.store.producers import add_producer_key, revoke_producer_key
from tests.service.conftest import (
    KEYS_FROM,
    PRODUCER_KEYS,
    SERVICE_KEY,
    Examples,
    dump,
    seeded_key,
    submission,
    submission_json,
)
from tests.support.ledgerdata import example_types

MES = "urn:carbonledger:producer:example-plant-mes"
REFDATA = "urn:carbonledger:producer:reference-data-desk"
RATING = "urn:carbonledger:producer:credit-rating-desk"
ILLUSTRATIVE_REF = 3  # CR_TANK's refs[3] names the illustrative factor set


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _extra_key(
    store: Store, label: str, *, revoked_at: datetime | None = None, **window: Any
) -> Any:
    key = seeded_key(label)
    with store.transaction() as session:
        row = add_producer_key(
            session, producer=MES, public_key_hex=public_key_bytes(key).hex(),
            record_types=example_types()[MES], **window,
        )  # fmt: skip
        if revoked_at is not None:
            revoke_producer_key(session, row.key_id, at=revoked_at)
    return key


def _mutated(examples: Examples, change: Callable[[dict[str, Any]], None]) -> Commitment:
    record = copy.deepcopy(examples[CR_TANK].record)
    change(record)
    return commit(record)


@dataclass
class Case:
    """``build`` returns the submission bytes; the store is dumped after ``build``."""

    build: Callable[[Store, Examples], bytes]
    field: str
    fragment: str
    record_id: str = CR_TANK
    needs_illustrative: bool = True


def _signed_by(key_label: str) -> Callable[[Store, Examples], bytes]:
    return lambda store, ex: submission(ex[CR_TANK], seeded_key(key_label))


def _with_key(label: str, **window: Any) -> Callable[[Store, Examples], bytes]:
    def build(store: Store, ex: Examples) -> bytes:
        return submission(ex[CR_TANK], _extra_key(store, label, **window))

    return build


def _record_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Store, Examples], bytes]:
    return lambda store, ex: submission(_mutated(ex, change))


def _submission_change(
    change: Callable[[dict[str, Any], Examples], None],
) -> Callable[[Store, Examples], bytes]:
    def build(store: Store, ex: Examples) -> bytes:
        obj = submission_json(ex[CR_TANK], PRODUCER_KEYS[MES])
        change(obj, ex)
        return canonicalize(obj)

    return build


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        node = record
        for seg in path[:-1]:
            node = node[seg]
        node[path[-1]] = value

    return change


def _drop_salt(obj: dict[str, Any], ex: Examples) -> None:
    obj["view"]["salts"].pop(5)


def _redacted(obj: dict[str, Any], ex: Examples) -> None:
    obj["view"] = redact(ex[CR_TANK], lambda p: p[0] != "body").to_json()


def _bad_signature(obj: dict[str, Any], ex: Examples) -> None:
    other = ex[FS_ILLUSTRATIVE].digest
    obj["signature"] = submission_json(ex[CR_TANK], PRODUCER_KEYS[MES], digest=other)["signature"]


def _pending_link(store: Store, ex: Examples) -> bytes:
    # The illustrative set is stored, but under other salts than CR_TANK's link states.
    LedgerService(
        store=store, service_key=SERVICE_KEY, clock=ManualClock(_at("2026-06-01T00:00:00Z")),
        max_merge_delay_s=60,
    ).accept(submission(commit(ex[FS_ILLUSTRATIVE].record)))  # fmt: skip
    return submission(ex[CR_TANK])


CASES: dict[str, Case] = {
    "unknown_producer": Case(
        _record_change(_set(["producer"], "urn:carbonledger:producer:nobody")),
        "producer", "unknown producer",
    ),
    "unregistered_key": Case(_signed_by("stranger"), "signature.key_id", "no producer key"),
    "key_of_another_producer": Case(
        lambda store, ex: submission(ex[CR_TANK], PRODUCER_KEYS[REFDATA]),
        "producer", f"belongs to producer {REFDATA!r}",
    ),
    "expired_key": Case(
        _with_key("expired", valid_from=KEYS_FROM, valid_until=_at("2026-01-01T00:00:00Z")),
        "signature.key_id", "expired at 2026-01-01T00:00:00Z",
    ),
    "revoked_key": Case(
        _with_key("revoked", valid_from=KEYS_FROM, revoked_at=_at("2026-01-10T00:00:00Z")),
        "signature.key_id", "revoked at 2026-01-10T00:00:00Z",
    ),
    "key_not_yet_valid": Case(
        _with_key("later", valid_from=_at("2026-02-01T00:00:00Z")),
        "signature.key_id", "valid from 2026-02-01T00:00:00Z",
    ),
    "signature_over_another_digest": Case(
        _submission_change(_bad_signature), "signature.value", "does not verify"
    ),
    "signature_not_hex": Case(
        _submission_change(lambda obj, ex: obj["signature"].update(value="zz" * 64)),
        "signature.value", "hex",
    ),
    "dangling_ref": Case(
        lambda store, ex: submission(ex[CR_TANK]),
        f"refs[{ILLUSTRATIVE_REF}].id", "dangling", needs_illustrative=False,
    ),
    "ref_digest_mismatch": Case(
        _pending_link, f"refs[{ILLUSTRATIVE_REF}].digest", "the link states",
        needs_illustrative=False,
    ),
    "float_quantity": Case(
        _record_change(_set(["body", "lines", 0, "quantity"], 13)),
        "body.lines[0].quantity", "decimal string",
    ),
    "unknown_body_member": Case(
        _record_change(_set(["body", "colour"], "red")), "body.colour", "unexpected field"
    ),
    "unknown_type": Case(_record_change(_set(["type"], "carbon-recrd")), "type", "unknown"),
    "unknown_schema_version": Case(
        _record_change(_set(["schema_version"], "9")), "schema_version", "unknown schema_version"
    ),
    "issued_in_the_future": Case(
        _record_change(_set(["issued_at"], "2026-06-02T00:00:00Z")), "issued_at", "after the"
    ),
    "missing_salt": Case(_submission_change(_drop_salt), "view.salts", "no salt for field"),
    "redacted_view": Case(_submission_change(_redacted), "view.kind", "full view"),
    "other_format": Case(
        _submission_change(lambda obj, ex: obj.update(format="carbonledger-submission/2")),
        "format", "carbonledger-submission/1",
    ),
    "extra_member": Case(
        _submission_change(lambda obj, ex: obj.update(receipt={})), "receipt", "unknown member"
    ),
}  # fmt: skip


@pytest.fixture
def ready(service: LedgerService, examples: Examples) -> LedgerService:
    """Reference data stored, except the illustrative factor set CR_TANK links to."""
    for rid in examples.order:
        item = examples[rid]
        reference = item.record["type"] in ("factor-set", "region-rule", "rating-rule")
        if reference and rid != FS_ILLUSTRATIVE:
            service.accept(submission(item))
    return service


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_naming_record_and_field_and_nothing_changes(
    name: str, ready: LedgerService, store: Store, examples: Examples
) -> None:
    case = CASES[name]
    if case.needs_illustrative:
        ready.accept(submission(examples[FS_ILLUSTRATIVE]))
    data = case.build(store, examples)
    before = dump(store)
    with pytest.raises(RefusedRecordError) as refused:
        ready.accept(data)
    error = refused.value
    assert (error.record_id, error.field) == (case.record_id, case.field), str(error)
    assert f"record {case.record_id}: {case.field}" in str(error)
    assert case.fragment in str(error)
    assert dump(store) == before
    # The same fault after a good record in a bulk refuses the whole bulk.
    good = submission_json(examples[CC_ENTERPRISE_2024], PRODUCER_KEYS[RATING])
    with pytest.raises(RefusedRecordError) as in_bulk:
        ready.accept_values([good, parse_json(data)])
    assert (in_bulk.value.record_id, in_bulk.value.index) == (case.record_id, 1)
    assert dump(store) == before


def test_superseding_an_already_superseded_record(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    for rid in examples.order[: examples.order.index(CR_TANK_REVISED) + 1]:
        service.accept(submission(examples[rid]))
    third = copy.deepcopy(examples[CR_TANK_REVISED].record)
    third["id"] = CR_TANK_REVISED.replace("-v2", "-v3")
    before = dump(store)
    with pytest.raises(RefusedRecordError) as refused:
        service.accept(submission(commit(third)))
    assert refused.value.record_id == third["id"]
    assert refused.value.field.startswith("refs[") and "already superseded" in str(refused.value)
    assert dump(store) == before


def test_oversized_record_names_the_record(
    store: Store, clock: ManualClock, examples: Examples
) -> None:
    small = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=60,
        limits=AcceptLimits(max_record_bytes=2048),
    )  # fmt: skip
    item = examples[FS_ILLUSTRATIVE]
    before = dump(store)
    with pytest.raises(RefusedRecordError) as refused:
        small.accept(submission(item))
    assert (refused.value.record_id, refused.value.field) == (FS_ILLUSTRATIVE, "view")
    assert "limit is 2048" in str(refused.value)
    with pytest.raises(MalformedError, match="exceeds the limit"):
        LedgerService(
            store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=60,
            limits=AcceptLimits(max_bulk_bytes=1024),
        ).accept(submission(item))  # fmt: skip
    assert dump(store) == before


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("duplicate_json_key", b'{"format":"a","format":"b"}', "duplicate key"),
        ("float_number", b'{"format":1.5}', "non-integer number"),
        ("trailing_garbage", b"{}{}", "not JSON"),
        ("invalid_utf8", b'{"format":"\xff"}', "invalid UTF-8"),
        ("not_an_object", b"[]", "a submission is a JSON object"),
    ],
)
def test_unparseable_submissions_are_refused(
    name: str, data: bytes, fragment: str, service: LedgerService, store: Store
) -> None:
    before = dump(store)
    with pytest.raises(MalformedError, match=fragment):
        service.accept(data)
    assert dump(store) == before


def test_bulk_limits(service: LedgerService, store: Store, examples: Examples) -> None:
    capped = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=service.clock, max_merge_delay_s=60,
        limits=AcceptLimits(max_bulk_records=2),
    )  # fmt: skip
    item = submission_json(examples[FS_ILLUSTRATIVE], PRODUCER_KEYS[REFDATA])
    batch = {"format": "carbonledger-submission-batch/1", "submissions": [item, item, item]}
    with pytest.raises(MalformedError, match="at most 2") as refused:
        capped.accept_bulk(canonicalize(batch))
    assert refused.value.path == "batch.submissions"
    with pytest.raises(MalformedError, match="non-empty"):
        service.accept_bulk(canonicalize({**batch, "submissions": []}))
    with pytest.raises(MalformedError, match="carbonledger-submission-batch/1"):
        service.accept_bulk(canonicalize({**batch, "format": "x"}))
    assert dump(store)["records"] == []
