"""Property: for random valid records of every type with figures, the figure stored is the
figure calc/1 recomputes; and any one-digit change of any stated figure is refused at
acceptance, naming that figure's path (docs/CALC.md §10): as a figure that differs from
the recomputed one, or, when the change gives it more than 34 significant digits, as a
malformed figure (docs/RECORDS.md §2).

Random carbon records quote random entries of the example factor sets (official,
illustrative and a supplier's), with random quantities in random units of the factor's
dimension, stages, channels, GWP set and rounding; their UK conversion and random credit
ratings of fresh enterprises come with them. One SQLite store per test, records with fresh
ids per example: the reference data is stored once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import examples as ex
from ledger.core.calc import units
from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.calc.rating import compute_rating
from ledger.core.calc.substitution import compute_substitution
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.records import validate_record
from ledger.core.types import vocab
from ledger.core.view import Commitment, commit, parse_view
from ledger.examples import equipment as eq
from ledger.examples import factors as ref
from ledger.examples import rules
from ledger.examples.builder import activity_line, quote_factor
from ledger.examples.trail import credit_change
from ledger.service import LedgerService, ManualClock, RefusedRecordError
from ledger.store import Store, sqlite_url
from ledger.store.inputs import full_views
from tests.service.conftest import MAX_MERGE_DELAY_S, NOW, SERVICE_KEY, register_keys, submission

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Factor sets a random line may quote; the EU set (valid 2026 only) would need a reason.
SETS = (
    ref.cn_mee_2023_factor_set(),
    ref.ipcc_2006_factor_set(),
    ref.desnz_2025_factor_set(),
    ref.supplier_factor_set(),
    ref.illustrative_factor_set(),
)
ENTRIES = [(s, e) for s in SETS for e in s["body"]["entries"]]
_ids = itertools.count()


@pytest.fixture
def ready(tmp_path: Path) -> Iterator[tuple[LedgerService, Store, dict[str, str]]]:
    clock = ManualClock(NOW)
    store = Store.open(sqlite_url(tmp_path / "data"), clock=clock)
    register_keys(store)
    service = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=MAX_MERGE_DELAY_S
    )
    digests: dict[str, str] = {}

    def digest_of(record: dict[str, Any]) -> str:
        item = commit(record)
        if record["type"] in ("factor-set", "region-rule", "rating-rule"):
            service.accept(submission(item))
        return item.digest_hex

    records = ex.example_records(digest_of)
    for rid, record in records.items():
        if record["type"] in ("factor-set", "region-rule", "rating-rule"):
            digests[rid] = _stored_digest(store, rid)
    try:
        yield service, store, digests
    finally:
        store.close()


def _stored_digest(store: Store, rid: str) -> str:
    with store.transaction(readonly=True) as session:
        return full_views(session, [rid])[rid].digest_hex


def _stored_record(store: Store, rid: str) -> dict[str, Any]:
    with store.transaction(readonly=True) as session:
        view = parse_view(parse_json(full_views(session, [rid])[rid].full_view))
    assert isinstance(view, Commitment)
    return view.record


amounts = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("250000"), places=3, allow_nan=False
).map(lambda d: format(d.normalize(), "f"))


@st.composite
def carbon_records(draw: st.DrawFn, digests: dict[str, str]) -> dict[str, Any]:
    picks = draw(st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=7))
    lines = []
    for i, (fset, entry) in enumerate(picks):
        per = units.parse_factor_unit(entry["unit"]).per
        same = sorted(u for u in units.UNITS if units.dimension(u) == units.dimension(per))
        unit = draw(st.sampled_from(same))
        lines.append(
            activity_line(
                f"L{i + 1:02d}",
                draw(st.sampled_from(vocab.STAGES)),
                f"random activity {i + 1}",
                draw(st.sampled_from(vocab.EMISSION_CLASSES)),
                draw(st.sampled_from(vocab.CHANNELS)),
                draw(amounts),
                unit,
                quote_factor(fset, entry["id"], digests),
            )
        )
    stages = sorted({line["stage"] for line in lines}, key=vocab.STAGES.index)
    n = next(_ids)
    record = eq.carbon_record(
        f"urn:carbonledger:carbon-record:random-{n}",
        f"88.118.8/RND-{n}",
        "2odIvDaWbEyQfLdVSBzoV_",
        f"random equipment {n}",
        "7309",
        draw(amounts),
        stages,
        lines,
        [],
        "2026-02-15T08:00:00Z",
    )
    record["body"]["methodology"]["gwp_set"] = draw(st.sampled_from(units.GWP_SETS))
    record["body"]["rounding"] = {
        "mode": draw(st.sampled_from(vocab.ROUNDING_MODES)),
        "places": draw(st.integers(0, 4)),
    }
    record["body"]["totals"] = compute_carbon_totals(validate_record(record))
    return record


def _figures(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, decimal string) of every figure under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _figures(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _figures(value, f"{path}[{i}]")
    elif isinstance(node, str) and node and node.lstrip("-").replace(".", "", 1).isdigit():
        yield path, node


def _set_at(record: dict[str, Any], path: str, value: str) -> None:
    parts = [p for p in path.replace("]", "").replace("[", ".").split(".") if p]
    node: Any = record
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _one_digit(data: st.DataObject, record: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    """Change one digit of one of ``figures`` ((path, text) pairs) in ``record``; its path."""
    path, text = data.draw(st.sampled_from(figures))
    at = data.draw(st.sampled_from([i for i, ch in enumerate(text) if ch.isdigit()]))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != text[at]]))
    _set_at(record, path, text[:at] + digit + text[at + 1 :])
    return path


def _renamed(record: dict[str, Any], suffix: str) -> dict[str, Any]:
    copy: dict[str, Any] = parse_json(canonicalize(record))
    copy["id"] = f"{record['id']}-{suffix}"
    return copy


@SETTINGS
@given(data=st.data())
def test_carbon_records_and_their_conversions(
    ready: tuple[LedgerService, Store, dict[str, str]], data: st.DataObject
) -> None:
    service, store, digests = ready
    record = data.draw(carbon_records(digests))
    item = commit(record)
    service.accept(submission(item))
    stored = _stored_record(store, record["id"])
    assert stored["body"]["totals"] == compute_carbon_totals(validate_record(stored))
    wrong = _renamed(record, "wrong")
    path = _one_digit(data, wrong, list(_figures(wrong["body"]["totals"], "body.totals")))
    with pytest.raises(RefusedRecordError) as refused:
        service.accept(submission(commit(wrong)))
    assert refused.value.field == path
    # Its UK conversion (DESNZ 2025 factors replace what they can), recomputed too.
    digests[record["id"]] = item.digest_hex
    conversion = ex.substitution_record(
        f"urn:carbonledger:factor-substitution:random-uk-{record['id'].rsplit('-', 1)[1]}",
        "2026-02-16T09:00:00Z",
        record,
        rules.uk_rule(digests),
        [ref.desnz_2025_factor_set()],
        digests,
    )
    service.accept(submission(commit(conversion)))
    stored = validate_record(_stored_record(store, conversion["id"]))
    source = validate_record(record)
    rule = validate_record(rules.uk_rule(digests))
    computed = compute_substitution(source, rule, [validate_record(ref.desnz_2025_factor_set())])
    assert stored.body["result"] == computed["result"]
    wrong = _renamed(conversion, "wrong")
    path = _one_digit(data, wrong, list(_figures(wrong["body"]["result"], "body.result")))
    with pytest.raises(RefusedRecordError) as refused:
        service.accept(submission(commit(wrong)))
    assert refused.value.field == path


scores = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("100"), places=2, allow_nan=False
).map(lambda d: format(d, "f"))


@SETTINGS
@given(data=st.data())
def test_credit_ratings(
    ready: tuple[LedgerService, Store, dict[str, str]], data: st.DataObject
) -> None:
    service, store, digests = ready
    drawn = {k: data.draw(scores) for k in vocab.RATING_DIMENSIONS}
    n = next(_ids)
    record = credit_change(
        digests,
        scores=drawn,
        rid=f"urn:carbonledger:credit-change:random-{n}",
        previous_grade=None,
        previous=None,
    )
    enterprise = f"urn:carbonledger:enterprise:random-{n}"
    record["subject"] = record["body"]["enterprise"]["id"] = enterprise
    service.accept(submission(commit(record)))
    stored = _stored_record(store, record["id"])
    rule = validate_record(rules.rating_rule())
    computed = compute_rating(rule, drawn)
    assert {k: stored["body"][k] for k in computed} == computed
    wrong = _renamed(record, "wrong")
    path = _one_digit(
        data, wrong, [(f"body.{k}", wrong["body"][k]) for k in ("total", "total_exact")]
    )
    with pytest.raises(RefusedRecordError) as refused:
        service.accept(submission(commit(wrong)))
    assert refused.value.field == path
