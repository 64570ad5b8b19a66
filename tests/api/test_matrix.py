"""The role x route x owner matrix, generated from the OpenAPI document (docs/API.md §2:
OWASP API1 object-level and API5 function-level authorization).

Every operation the app publishes must have a row in ``EXPECTED``; every cell (caller x
operation, on an object owned by the ``plant-mes`` producer) is requested against a fresh
copy of the populated ledger and must answer the status in the table, and read cells
must show the view the role is entitled to. A cell that only reads (``GET``) cannot change
the ledger, so the read cells of this module share one copy (``read_world``); every other
cell gets a fresh one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.client import idempotency_key, submission_bytes
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.view import commit
from ledger.examples import CR_HX, CR_TANK
from ledger.store.apikeys import request_key
from ledger.store.webhooks import add_subscription
from tests.api.world import (
    ENTERPRISE,
    JSON,
    NOW,
    PLANT,
    TANK_SUBJECT,
    Template,
    World,
    open_world,
    producer_key,
)

ROLES = {
    "anonymous": None,
    "owner": "plant-mes",
    "other-producer": "rating",
    "auditor": "tuv-auditor",
    "regulator": "eu-regulator",
    "admin": "ops-admin",
    "enterprise": "tank-maker",
    "reader": "green-bank",
}


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def _only(role: str, status: int, *, others: int = 403) -> dict[str, int]:
    out = {r: others for r in ROLES}
    out["anonymous"] = 401
    out[role] = status
    return out


_READ_OWNED = {**_all(200), "other-producer": 404}

#: operationId -> caller -> status. The object is the plant's tank carbon record (subject
#: 88.118.8/ST-TK-0101, which the auditor is granted).
EXPECTED: dict[str, dict[str, int]] = {
    "submit_record": _only("owner", 201),
    "submit_records": _only("owner", 201),
    "get_record": _READ_OWNED,
    "get_record_status": _READ_OWNED,
    "list_attestations": _READ_OWNED,
    "get_record_bundle": _READ_OWNED,
    "get_trail": _all(200),
    # The other producer has no record about the tank: nothing of its own to bundle.
    "get_trail_bundle": {**_all(200), "other-producer": 404},
    "query_bundle": {**_all(200), "other-producer": 404},
    "list_batches": _all(200),
    "get_batch": _all(200),
    "file_attestation": _only("auditor", 201),
    # A producer revokes its own records (reason 3, withdrawn by its producer); another
    # producer cannot see the record at all.
    "request_revocation": {
        **_only("regulator", 202),
        "owner": 202,
        "other-producer": 404,
    },
    "list_principals": _only("admin", 200),
    "add_principal": _only("admin", 201),
    "issue_key": _only("admin", 201),
    "get_principal": _only("admin", 200),
    "get_key": _only("admin", 200),
    "revoke_key": _only("admin", 204),
    "list_key_requests": _only("admin", 200),
    "confirm_key_request": _only("admin", 201),
    "cancel_key_request": _only("admin", 204),
    "list_audit_events": _only("regulator", 200),
    "list_subscriptions": {**_all(200), "anonymous": 401},
    "add_subscription": {**_all(201), "anonymous": 401},
    # The object is a subscription of the plant: its own and the admin's to manage.
    "disable_subscription": {**_all(404), "anonymous": 401, "owner": 200, "admin": 200},
    "list_deliveries": {**_all(404), "anonymous": 401, "owner": 200, "admin": 200},
    # A package of conversions the world does not hold: looked up, not found.
    "cbam_package": {**_all(404), "anonymous": 401},
    "cbam_bundle": {**_all(404), "anonymous": 401},
    # The matrix ledger holds no knowledge-base rule: a caller allowed to assess the tank
    # reaches the region check (422); one that cannot see it gets 404.
    "assess": {**_only("owner", 422), "auditor": 422, "regulator": 422, "other-producer": 404},
    # This instance has no conversion key: an allowed caller reaches it (503).
    "convert": {**_only("owner", 503), "regulator": 503, "other-producer": 404},
    "list_locks": _all(200),
    # The tank's carbon record is not a conversion: a caller allowed to read it gets 422.
    "render_declaration": {
        **_only("owner", 422),
        "auditor": 422,
        "regulator": 422,
        "other-producer": 404,
    },
    "get_service": _all(200),
    "healthz": _all(200),
    "readyz": _all(200),
    "metrics": _all(200),
    # The registry (docs/API.md §3.6): public reads; the register is the regulator's.
    "search": _all(200),
    "list_enterprises": _all(200),
    "green_registry": _all(200),
    "get_enterprise": _all(200),
    "register_enterprise": _only("regulator", 200),
    "list_equipment": _all(200),
    "get_equipment": _all(200),
    "list_warnings": _all(200),
    "list_verification_bodies": _all(200),
    "find_document": _all(200),
    # Authorised queries (docs/API.md §2.1): the request named is unknown, so whoever may
    # act on a request finds nothing there.
    "list_access_requests": {**_only("regulator", 200), "enterprise": 200, "reader": 200},
    "request_access": _only("reader", 201),
    "decide_access_request": {**_only("regulator", 404), "enterprise": 404},
    "end_access_request": {**_only("regulator", 404), "enterprise": 404, "reader": 404},
    "read_access_log": {**_only("regulator", 200), "enterprise": 200},
}

FULL_VIEW = {"owner", "auditor", "regulator"}


def _submission(world: World, suffix: str) -> bytes:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-matrix-{suffix}"
    return submission_bytes(commit(record), producer_key(PLANT))


Request = tuple[str, str, dict[str, Any]]


def _key_request(world: World) -> str:
    """A pending key request for the regulator, made by another admin than ops-admin."""
    row = world.store.run(
        lambda s: request_key(s, "eu-regulator", actor="second-admin", at=world.clock())
    )
    return row.request_id


def _cbam_request() -> dict[str, Any]:
    return {
        "format": "carbonledger-cbam-request/1",
        "cn_code": "73090030",
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "installation": {"id": "inst-1", "name": "Works", "country": "CN"},
        "operator": {"id": "op-1", "name": "Operator"},
        "routes": [
            {
                "route": "welded",
                "net_mass_t": "1",
                "consignments": ["urn:carbonledger:factor-substitution:none"],
            }
        ],
        "net_mass_t": "1",
    }


def _plant_subscription(world: World) -> int:
    with world.store.transaction() as session:
        row = add_subscription(
            session,
            principal="plant-mes",
            kind="webhook",
            url="https://hooks.example.com/plant",
            events=["record.anchored"],
            created_at=NOW,
        )
    return row.id


def _request(op: str, world: World) -> Request:
    key_id = world.template.tokens["plant-mes"][4:20]
    digest = "ab" * 32
    table: dict[str, Callable[[], Request]] = {
        "submit_record": lambda: (
            "POST",
            "/v1/records",
            {
                "content": (body := _submission(world, "one")),
                "headers": {**JSON, "Idempotency-Key": idempotency_key("x", body.hex()[:64])},
            },
        ),
        "submit_records": lambda: (
            "POST",
            "/v1/records/bulk",
            {
                "content": canonicalize(
                    {
                        "format": "carbonledger-submission-batch/1",
                        "submissions": [parse_json(_submission(world, "bulk"))],
                    }
                ),
                "headers": {**JSON, "Idempotency-Key": "bulk-1"},
            },
        ),
        "get_record": lambda: ("GET", "/v1/record", {"params": {"id": CR_TANK}}),
        "get_record_status": lambda: ("GET", "/v1/record/status", {"params": {"id": CR_TANK}}),
        "list_attestations": lambda: (
            "GET",
            "/v1/record/attestations",
            {"params": {"id": CR_TANK}},
        ),
        "get_record_bundle": lambda: ("GET", "/v1/record/bundle", {"params": {"id": CR_TANK}}),
        "get_trail": lambda: ("GET", "/v1/trail", {"params": {"subject": TANK_SUBJECT}}),
        "get_trail_bundle": lambda: (
            "GET",
            "/v1/trail/bundle",
            {"params": {"subject": TANK_SUBJECT}},
        ),
        "query_bundle": lambda: (
            "GET",
            "/v1/bundles",
            {"params": {"subject": TANK_SUBJECT, "type": "carbon-record"}},
        ),
        "list_batches": lambda: ("GET", "/v1/batches", {}),
        "get_batch": lambda: ("GET", "/v1/batches/1", {}),
        "file_attestation": lambda: (
            "POST",
            "/v1/attestations",
            {"json": {"record_id": CR_TANK, "report_digest": digest, "verdict": "conforms"}},
        ),
        "request_revocation": lambda: (
            "POST",
            "/v1/revocations",
            {"json": {"record_id": CR_TANK, "reason_code": 3, "reason_digest": digest}},
        ),
        "list_principals": lambda: ("GET", "/v1/principals", {}),
        "add_principal": lambda: (
            "POST",
            "/v1/principals",
            {"json": {"name": "new-auditor", "role": "auditor", "grants": ["*"]}},
        ),
        "issue_key": lambda: ("POST", "/v1/principals/plant-mes/keys", {}),
        "get_principal": lambda: ("GET", "/v1/principals/plant-mes", {}),
        "get_key": lambda: ("GET", f"/v1/keys/{key_id}", {}),
        "revoke_key": lambda: ("DELETE", f"/v1/keys/{key_id}", {}),
        "list_key_requests": lambda: ("GET", "/v1/key-requests", {}),
        "confirm_key_request": lambda: (
            "POST",
            f"/v1/key-requests/{_key_request(world)}/confirm",
            {},
        ),
        "cancel_key_request": lambda: ("DELETE", f"/v1/key-requests/{_key_request(world)}", {}),
        "list_audit_events": lambda: ("GET", "/v1/audit", {}),
        "list_subscriptions": lambda: ("GET", "/v1/subscriptions", {}),
        "add_subscription": lambda: (
            "POST",
            "/v1/subscriptions",
            {
                "json": {
                    "kind": "webhook",
                    "url": "https://hooks.example.com/in",
                    "events": ["record.anchored", "claim.made"],
                }
            },
        ),
        "disable_subscription": lambda: (
            "DELETE",
            f"/v1/subscriptions/{_plant_subscription(world)}",
            {},
        ),
        "list_deliveries": lambda: (
            "GET",
            f"/v1/subscriptions/{_plant_subscription(world)}/deliveries",
            {},
        ),
        "cbam_package": lambda: ("POST", "/v1/cbam/packages", {"json": _cbam_request()}),
        "cbam_bundle": lambda: ("POST", "/v1/cbam/bundle", {"json": _cbam_request()}),
        "assess": lambda: (
            "POST",
            "/v1/assessments",
            {"json": {"source": CR_TANK, "region": "EU", "import_date": "2026-07-01"}},
        ),
        "convert": lambda: (
            "POST",
            "/v1/conversions",
            {"json": {"source": CR_TANK, "region": "EU"}},
        ),
        "list_locks": lambda: ("GET", "/v1/locks", {"params": {"subject": TANK_SUBJECT}}),
        "render_declaration": lambda: (
            "GET",
            "/v1/declaration",
            {"params": {"conversion": CR_TANK}},
        ),
        "get_service": lambda: ("GET", "/v1/service", {}),
        "search": lambda: ("GET", "/v1/search", {"params": {"q": TANK_SUBJECT}}),
        "list_enterprises": lambda: ("GET", "/v1/enterprises", {}),
        "green_registry": lambda: ("GET", "/v1/registry", {}),
        "get_enterprise": lambda: ("GET", "/v1/enterprise", {"params": {"id": ENTERPRISE}}),
        "register_enterprise": lambda: (
            "PUT",
            "/v1/enterprise",
            {
                "params": {"id": ENTERPRISE},
                "json": {"name_zh": "示例防腐设备有限公司", "handle_prefixes": ["88.118.8"]},
            },
        ),
        "list_equipment": lambda: ("GET", "/v1/equipment", {}),
        "get_equipment": lambda: (
            "GET",
            "/v1/equipment/item",
            {"params": {"subject": TANK_SUBJECT}},
        ),
        "list_warnings": lambda: ("GET", "/v1/warnings", {}),
        "list_verification_bodies": lambda: ("GET", "/v1/whitelist", {}),
        "find_document": lambda: ("GET", "/v1/documents", {"params": {"sha256": digest}}),
        "list_access_requests": lambda: ("GET", "/v1/access-requests", {}),
        "request_access": lambda: (
            "POST",
            "/v1/access-requests",
            {
                "json": {
                    "enterprise_id": ENTERPRISE,
                    "scope": "ratings",
                    "purpose": "credit line review for 2026",
                    "days": 30,
                }
            },
        ),
        "decide_access_request": lambda: (
            "POST",
            f"/v1/access-requests/{'0' * 16}/decision",
            {"json": {"approve": True}},
        ),
        "end_access_request": lambda: ("POST", f"/v1/access-requests/{'0' * 16}/end", {}),
        "read_access_log": lambda: ("GET", "/v1/access-log", {}),
        "healthz": lambda: ("GET", "/healthz", {}),
        "readyz": lambda: ("GET", "/readyz", {}),
        "metrics": lambda: ("GET", "/metrics", {}),
    }
    return table[op]()


def _operations(world: World) -> dict[str, tuple[str, str]]:
    spec = world.app.openapi()
    return {
        op["operationId"]: (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }


_PUBLISHED: dict[str, tuple[str, str]] = {}


def _published(world: World) -> dict[str, tuple[str, str]]:
    """``_operations`` of the first world a cell opens: every world's app is built by the same
    ``create_app`` with the same settings, and generating the document takes most of a
    cell's time."""
    if not _PUBLISHED:
        _PUBLISHED.update(_operations(world))
    return _PUBLISHED


def test_every_published_operation_has_a_row(world: World) -> None:
    assert set(_operations(world)) == set(EXPECTED)


CELLS = [(op, role) for op in EXPECTED for role in ROLES]
#: Operations that only read and whose request builds nothing in the world: their cells
#: share ``read_world``. (Reads of the access, key-request, audit and subscription tables are
#: left out: their requests or the reads themselves write.)
READS = {
    "get_record",
    "get_record_status",
    "list_attestations",
    "get_record_bundle",
    "get_trail",
    "get_trail_bundle",
    "query_bundle",
    "list_batches",
    "get_batch",
    "list_principals",
    "get_service",
    "healthz",
    "readyz",
    "metrics",
    "search",
    "list_enterprises",
    "green_registry",
    "get_enterprise",
    "list_equipment",
    "get_equipment",
    "list_warnings",
    "list_verification_bodies",
    "find_document",
}


@pytest.fixture(scope="module")
def read_world(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    shared = open_world(template, tmp_path_factory.mktemp("matrix-reads") / "data")
    try:
        yield shared
    finally:
        shared.store.close()


def _world_for(op: str, request: pytest.FixtureRequest) -> World:
    fixture = "read_world" if op in READS else "world"
    world: World = request.getfixturevalue(fixture)
    return world


@pytest.mark.parametrize(("op", "role"), CELLS, ids=[f"{o}-{r}" for o, r in CELLS])
def test_cell(request: pytest.FixtureRequest, op: str, role: str) -> None:
    world = _world_for(op, request)
    method, path, kwargs = _request(op, world)
    if op in READS:
        assert method == "GET", op
    published_method, published_path = _published(world)[op]
    assert method == published_method
    assert path.split("/")[:3] == published_path.split("/")[:3]
    headers = {**world.headers(ROLES[role]), **kwargs.pop("headers", {})}
    response = world.http.request(method, path, headers=headers, **kwargs)
    assert response.status_code == EXPECTED[op][role], (op, role, response.text[:400])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code
    if op == "get_record" and response.status_code == 200:
        kind = response.json()["view"]["kind"]
        assert kind == ("full" if role in FULL_VIEW else "redacted"), (role, kind)
    if op == "get_trail" and role == "other-producer":
        assert response.json()["items"] == []


def test_auditor_sees_ungranted_subjects_in_the_public_view_only(world: World) -> None:
    headers = world.headers("tuv-auditor")
    tank = world.http.get("/v1/record", params={"id": CR_TANK}, headers=headers).json()
    hx = world.http.get("/v1/record", params={"id": CR_HX}, headers=headers).json()
    assert tank["view"]["kind"] == "full"
    assert hx["view"]["kind"] == "redacted"
    revealed = {tuple(d[1]) for d in hx["view"]["disclosures"]}
    # The public policy hides activity quantities (ledger.core.policy: carbon-record).
    assert not any(p[:2] == ("body", "lines") and p[-1] == "quantity" for p in revealed)


def test_a_producer_cannot_learn_that_anothers_record_exists(world: World) -> None:
    headers = world.headers("rating")
    known = world.http.get("/v1/record/status", params={"id": CR_TANK}, headers=headers)
    unknown = world.http.get(
        "/v1/record/status", params={"id": "urn:carbonledger:x:none"}, headers=headers
    )
    assert known.status_code == unknown.status_code == 404
    assert known.json()["title"] == unknown.json()["title"]


def test_an_unknown_or_revoked_key_is_refused_not_downgraded(world: World) -> None:
    bad = world.http.get(
        "/v1/record", params={"id": CR_TANK}, headers={"Authorization": "Bearer x"}
    )
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith("Bearer")
    token = world.template.tokens["eu-regulator"]
    admin = world.headers("ops-admin")
    assert world.http.delete(f"/v1/keys/{token[4:20]}", headers=admin).status_code == 204
    revoked = world.http.get(
        "/v1/record", params={"id": CR_TANK}, headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 401
    wrong_secret = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    other = world.template.tokens["tuv-auditor"]
    forged = other[:20] + wrong_secret[20:]
    assert (
        world.http.get(
            "/v1/record", params={"id": CR_TANK}, headers={"Authorization": f"Bearer {forged}"}
        ).status_code
        == 401
    )
