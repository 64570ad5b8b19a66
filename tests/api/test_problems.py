"""The one problem table (RFC 9457) and readiness: statuses, headers, and nothing internal
in any response (docs/API.md §4)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from api.problems import PROBLEM_TABLE, AuthenticationError, problem_for
from ledger.client import submission_bytes
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.errors import (
    ConflictError,
    InclusionProofError,
    LedgerError,
    MalformedError,
    NotFoundError,
    StorageError,
    UnavailableError,
)
from ledger.core.view import commit
from ledger.examples import CR_TANK
from ledger.service import RefusedRecordError
from ledger.service.evaluations import EvaluationConflictError
from tests.api.world import (
    CONVERSION,
    JSON,
    PLANT,
    Template,
    World,
    open_world,
    producer_key,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MalformedError("bad", path="body.lines[3]"), 422),
        (NotFoundError("none"), 404),
        (ConflictError("taken"), 409),
        (UnavailableError("chain down", retry_after_s=2.5), 503),
        (AuthenticationError("who"), 401),
        (StorageError("disk"), 500),
        (InclusionProofError("proof", expected="a", computed="b"), 500),
        (RuntimeError("boom"), 500),
    ],
)
def test_the_table(error: BaseException, status: int) -> None:
    response = problem_for(error)
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    if status == 503:
        assert response.headers["retry-after"] == "3"
    if status == 422:
        assert b'"path": "body.lines[3]"' in bytes(response.body)
    if status == 500:
        body = bytes(response.body)
        assert b"correlation_id" in body
        assert b"disk" not in body and b"boom" not in body


def test_subclasses_come_before_their_bases() -> None:
    classes = [row[0] for row in PROBLEM_TABLE]
    for i, cls in enumerate(classes):
        assert not any(issubclass(cls, earlier) for earlier in classes[:i]), cls
    assert all(issubclass(c, LedgerError) for c in classes)


def test_an_internal_error_leaks_no_sql_and_no_trace(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM records WHERE 1=1; Traceback (most recent call)")

    monkeypatch.setattr(world.app.state.api.queries, "record", explode)
    response = world.http.get("/v1/record", params={"id": CR_TANK})
    assert response.status_code == 500
    body = response.json()
    assert body["type"].endswith("/internal") and len(body["correlation_id"]) == 16
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert body["correlation_id"] in caplog.text


def test_unknown_paths_and_methods_are_problems_too(world: World) -> None:
    missing = world.http.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = world.http.put("/v1/batches")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


def test_page_sizes_are_capped(world: World) -> None:
    assert world.http.get("/v1/batches", params={"limit": 200}).status_code == 200
    over = world.http.get("/v1/batches", params={"limit": 201})
    assert over.status_code == 422 and over.json()["path"] == "query.limit"
    assert world.http.get("/v1/batches", params={"limit": 10**12}).status_code == 422


def test_trail_pages_follow_the_cursor(world: World) -> None:
    seen: list[str] = []
    after = 0
    while True:
        page = world.http.get(
            "/v1/trail",
            params={"subject": "88.118.8/ST-TK-0101", "limit": 2, "after": after},
        ).json()
        seen += [i["record_id"] for i in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    whole = world.http.get("/v1/trail", params={"subject": "88.118.8/ST-TK-0101"}).json()
    assert seen == [i["record_id"] for i in whole["items"]] and len(seen) == 5


def test_ready_when_store_chain_and_deployment_check(world: World) -> None:
    response = world.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"store": "ok", "chain": "ok", "deployment": "ok"},
    }


@pytest.fixture
def moved_world(template: Template, tmp_path: Path) -> Iterator[World]:
    """The deployment record names an address where the registry is not."""
    contracts = dict(template.deployment.contracts)
    anchor = contracts["AnchorRegistry"]
    contracts["AnchorRegistry"] = replace(anchor, address=contracts["TrustRegistry"].address)
    moved = replace(template, deployment=replace(template.deployment, contracts=contracts))
    w = open_world(moved, tmp_path / "moved")
    try:
        yield w
    finally:
        w.store.close()


def test_not_ready_when_the_deployment_check_fails(moved_world: World) -> None:
    response = moved_world.http.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    checks = response.json()["checks"]
    assert checks["store"] == "ok" and checks["chain"] == "ok"
    assert "AnchorRegistry" in checks["deployment"]


def test_not_ready_without_a_chain(template: Template, tmp_path: Path) -> None:
    w = open_world(replace(template, chain=None), tmp_path / "nochain")  # type: ignore[arg-type]
    try:
        response = w.http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["chain"] == "no chain configured"
        assert w.http.get("/healthz").status_code == 200
    finally:
        w.store.close()


def test_a_conflict_says_our_sentence_never_the_driver_text(world: World) -> None:
    # A second revocation of a record and a second principal of one name broke a unique
    # constraint, and the 409 carried "UNIQUE constraint failed: revocations.digest_hex".
    revocation = {"record_id": CR_TANK, "reason_code": 3, "reason_digest": "ab" * 32}
    regulator = world.headers("eu-regulator")
    assert world.http.post("/v1/revocations", json=revocation, headers=regulator).status_code == 202
    again = world.http.post("/v1/revocations", json=revocation, headers=regulator)
    principal = {"name": "twice", "role": "auditor"}
    admin = world.headers("ops-admin")
    assert world.http.post("/v1/principals", json=principal, headers=admin).status_code == 201
    twice = world.http.post("/v1/principals", json=principal, headers=admin)
    assert again.status_code == twice.status_code == 409
    assert twice.json()["detail"] == "a principal with this name already exists"
    for response in (again, twice):
        for word in ("UNIQUE", "constraint", "revocations.", "principals.", "duplicate key"):
            assert word not in response.text


def test_a_refused_bulk_names_the_submission_that_failed(world: World) -> None:
    # The 422 of a refused bulk carried only the record id; docs/SUBMISSION.md §5 promises
    # the submission's place too (`index`), which a client needs when ids repeat or are absent.
    records = []
    for suffix in ("first", "second", "third"):
        record = copy.deepcopy(world.template.records[CR_TANK])
        record["id"] = f"{CR_TANK}-bulk-{suffix}"
        records.append(record)
    good = [parse_json(submission_bytes(commit(r), producer_key(PLANT))) for r in records]
    forged = parse_json(submission_bytes(commit(records[1]), producer_key(CONVERSION)))
    batch = {"format": "carbonledger-submission-batch/1", "submissions": [good[0], forged, good[2]]}
    response = world.http.post(
        "/v1/records/bulk",
        content=canonicalize(batch),
        headers={**world.headers("plant-mes"), **JSON, "Idempotency-Key": "bulk-refused"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["index"] == 1
    assert problem["record_id"] == records[1]["id"]
    assert world.http.get("/v1/record", params={"id": records[0]["id"]}).status_code == 404


def test_a_single_refusal_has_index_zero() -> None:
    error = RefusedRecordError("bad", record_id="urn:x:y", field="body.lines[3]")
    assert json.loads(bytes(problem_for(error).body))["index"] == 0


def test_a_second_evaluation_of_a_period_is_a_409_naming_the_one_that_holds_it() -> None:
    error = EvaluationConflictError(
        "taken", record_id="urn:x:second", index=2, existing_record_id="urn:x:first"
    )
    response = problem_for(error)
    body = json.loads(bytes(response.body))
    assert response.status_code == 409
    assert (body["existing_record_id"], body["record_id"], body["index"]) == (
        "urn:x:first",
        "urn:x:second",
        2,
    )
