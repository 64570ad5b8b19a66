"""What an operator and a cache see (docs/API.md §3.5, §6; docs/OPERATIONS.md §8): metrics
through prometheus_client, JSON log lines with the request id, the access log,
``Location`` on 201, ``ETag`` and ``Cache-Control: immutable`` on anchored data.

The defects these stop: ``/metrics`` was five hand-written families with nothing per
request and counted a resubmitted record as accepted again; logs were plain text without
timestamps and there was no access log; created resources had no ``Location``, immutable
ones no ``ETag``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.logs import JsonFormatter
from ledger.client import submission_bytes
from ledger.core.view import commit
from ledger.examples import CR_TANK
from ledger.store import chainmirror
from tests.api.world import JSON, PLANT, TANK_SUBJECT, World, producer_key, scrape


def _submission(world: World, suffix: str) -> bytes:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-obs-{suffix}"
    return submission_bytes(commit(record), producer_key(PLANT))


def _post(world: World, body: bytes, key: str, path: str = "/v1/records") -> httpx.Response:
    headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": key}
    return world.http.post(path, content=body, headers=headers)


def test_accepted_counts_new_records_only(world: World) -> None:
    body = _submission(world, "once")
    assert _post(world, body, "first").status_code == 201
    assert _post(world, body, "first").headers["idempotent-replayed"] == "true"
    # The same record under another Idempotency-Key: its first receipt again, not new.
    assert _post(world, body, "second").status_code == 201
    samples = scrape(world)
    assert samples[("carbonledger_records_accepted_total", ())] == 1
    assert samples[("carbonledger_records", (("status", "pending"),))] == 1


def test_requests_are_counted_by_route_template_and_status(world: World) -> None:
    world.http.get("/v1/record", params={"id": CR_TANK})
    world.http.get("/v1/record", params={"id": "urn:carbonledger:x:none"})
    world.http.get("/v1/batches/1")
    world.http.get("/v1/nowhere")
    samples = scrape(world)

    def count(method: str, route: str, status: str) -> float:
        labels = (("method", method), ("route", route), ("status", status))
        return samples.get(("carbonledger_http_requests_total", labels), 0)

    assert count("GET", "/v1/record", "200") == 1
    assert count("GET", "/v1/record", "404") == 1
    assert count("GET", "/v1/batches/{seq}", "200") == 1
    assert count("GET", "unmatched", "404") == 1
    latency = ("carbonledger_http_request_duration_seconds_count",
               (("method", "GET"), ("route", "/v1/record")))  # fmt: skip
    assert samples[latency] == 2


def test_the_outbox_alerts_and_follower_lag_are_exposed(world: World) -> None:
    samples = scrape(world)
    assert samples[("carbonledger_batches", (("state", "anchored"),))] >= 1
    assert samples[("carbonledger_anchor_txs", (("state", "mined"),))] >= 1
    world.store.run(
        lambda s: chainmirror.advance(
            s, chainmirror.FOLLOWER, block_number=40, block_hash="0x" + "ab" * 32, head=47,
            at=world.clock(),
        )
    )  # fmt: skip
    assert scrape(world)[("carbonledger_follower_lag_blocks", ())] == 7


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_each_request_has_an_id_and_an_access_log_line(world: World, json_log: io.StringIO) -> None:
    response = world.http.get(
        "/v1/record", params={"id": CR_TANK}, headers={"X-Request-Id": "probe-42"}
    )
    assert response.headers["x-request-id"] == "probe-42"
    mine = world.http.get("/v1/batches")
    generated = mine.headers["x-request-id"]
    assert len(generated) == 16 and generated != "probe-42"
    hostile = world.http.get("/healthz", headers={"X-Request-Id": "a b\nforged"})
    assert hostile.headers["x-request-id"] not in ("a b\nforged", "")
    access = [line for line in _lines(json_log) if line["logger"] == "carbonledger.access"]
    first = next(line for line in access if line["request_id"] == "probe-42")
    assert first["level"] == "info" and first["ts"].endswith("Z") and "T" in first["ts"]
    assert (first["method"], first["path"], first["route"], first["status"]) == (
        "GET",
        "/v1/record",
        "/v1/record",
        200,
    )
    assert first["duration_ms"] >= 0 and first["bytes"] > 0
    assert "id=" not in first["path"]  # the query string (record ids) is not logged


def test_a_500_names_the_request_id_in_the_log_and_the_answer(
    world: World, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(world.app.state.api.queries, "record", explode)
    response = world.http.get(
        "/v1/record", params={"id": CR_TANK}, headers={"X-Request-Id": "incident-7"}
    )
    assert response.status_code == 500
    assert response.json()["correlation_id"] == "incident-7"
    logged = [line for line in _lines(json_log) if line.get("exception")]
    assert logged and logged[0]["request_id"] == "incident-7"
    assert "RuntimeError: boom" in logged[0]["exception"]


def test_created_resources_say_where_they_are(world: World) -> None:
    created = _post(world, _submission(world, "loc"), "loc")
    assert created.status_code == 201
    location = created.headers["location"]
    assert location.startswith("/v1/record?id=")
    assert world.http.get(location).json()["record_id"] == f"{CR_TANK}-obs-loc"
    replayed = _post(world, _submission(world, "loc"), "loc")
    assert replayed.headers.get("location") in (None, location)
    bulk = (
        b'{"format":"carbonledger-submission-batch/1","submissions":['
        + _submission(world, "bulk")
        + b"]}"
    )
    assert "location" not in _post(world, bulk, "bulk", "/v1/records/bulk").headers
    attestation = world.http.post(
        "/v1/attestations",
        json={"record_id": CR_TANK, "report_digest": "ab" * 32, "verdict": "conforms"},
        headers=world.headers("tuv-auditor"),
    )
    assert attestation.status_code == 201
    assert world.http.get(attestation.headers["location"]).status_code == 200


def test_anchored_data_is_immutable_and_revalidates_by_etag(world: World) -> None:
    record = world.http.get("/v1/record", params={"id": CR_TANK})
    assert record.json()["status"] == "anchored"
    assert record.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = record.headers["etag"]
    again = world.http.get("/v1/record", params={"id": CR_TANK}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # A regulator's full view is another representation, private to its cache.
    full = world.http.get(
        "/v1/record", params={"id": CR_TANK}, headers=world.headers("eu-regulator")
    )
    assert full.headers["etag"] != etag
    assert full.headers["cache-control"].startswith("private, ")
    assert "Authorization" in full.headers["vary"]
    batch = world.http.get("/v1/batches/1")
    assert batch.headers["cache-control"].endswith("immutable") and batch.headers["etag"]
    bundle = world.http.get("/v1/record/bundle", params={"id": CR_TANK})
    assert bundle.headers["cache-control"].endswith("immutable")
    assert bundle.headers["etag"] == f'"{hashlib.sha256(bundle.content).hexdigest()}"'
    # A trail bundle grows as more records are anchored: revalidate, never immutable.
    trail = world.http.get("/v1/trail/bundle", params={"subject": TANK_SUBJECT})
    assert trail.headers["cache-control"] == "public, no-cache" and trail.headers["etag"]


def test_a_pending_record_is_not_cached_as_final(world: World) -> None:
    assert _post(world, _submission(world, "pending"), "pending").status_code == 201
    pending = world.http.get("/v1/record", params={"id": f"{CR_TANK}-obs-pending"})
    assert pending.json()["status"] == "pending"
    assert "immutable" not in pending.headers["cache-control"]
    assert pending.headers["cache-control"] == "public, no-cache"
