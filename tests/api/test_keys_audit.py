"""Keys and the audit log (docs/API.md §2.1, §2.2): the two-person rule for privileged
keys, and every key event and privileged read recorded for the regulator.

The defect these stop: an admin could mint a key for the regulator principal, read every
record in full with it, and nothing recorded either step.
"""

from __future__ import annotations

from typing import Any

from ledger.examples import CR_HX, CR_TANK
from ledger.store.access import add_principal, issue_api_key
from tests.api.world import KEYS_FROM, TANK_SUBJECT, World
from tests.pages.conftest import browser, page_of


def _second_admin(world: World, name: str = "second-admin") -> dict[str, str]:
    """Another admin, made at the operator's console (its key issued directly)."""

    def work(session: Any) -> str:
        add_principal(session, name, role="admin", created_at=KEYS_FROM)
        return issue_api_key(session, name, created_at=KEYS_FROM).token

    return {"Authorization": f"Bearer {world.store.run(work)}"}


def _events(world: World, kind: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = world.http.get(
            "/v1/audit",
            params={"after": after, "limit": 200},
            headers=world.headers("eu-regulator"),
        ).json()
        items += page["items"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    return [e for e in items if kind is None or e["kind"] == kind]


def test_one_admin_cannot_mint_a_regulator_key(world: World) -> None:
    admin = world.headers("ops-admin")
    asked = world.http.post("/v1/principals/eu-regulator/keys", headers=admin)
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert "api_key" not in request and request["state"] == "pending"
    assert request["requested_by"] == "ops-admin" and request["principal"] == "eu-regulator"
    listed = world.http.get("/v1/key-requests", headers=admin).json()["items"]
    assert [r["request_id"] for r in listed] == [request["request_id"]]
    # The same admin cannot confirm their own request.
    confirm = f"/v1/key-requests/{request['request_id']}/confirm"
    alone = world.http.post(confirm, headers=admin)
    assert alone.status_code == 409
    assert "another admin" in alone.json()["detail"]
    # A second admin can; the key is made then, and works as the regulator's.
    confirmed = world.http.post(confirm, headers=_second_admin(world))
    assert confirmed.status_code == 201, confirmed.text
    key = confirmed.json()
    assert confirmed.headers["location"] == f"/v1/keys/{key['key_id']}"
    regulator = {"Authorization": f"Bearer {key['api_key']}"}
    record = world.http.get("/v1/record", params={"id": CR_TANK}, headers=regulator)
    assert record.json()["view"]["kind"] == "full"
    assert world.http.post(confirm, headers=_second_admin(world, "third-admin")).status_code == 409
    requested = _events(world, "key_requested")[-1]
    assert requested["actor"] == "ops-admin" and requested["principal"] == "eu-regulator"
    done = _events(world, "key_confirmed")[-1]
    assert done["actor"] == "second-admin" and done["key_id"] == key["key_id"]
    assert request["request_id"] in done["target"] and "ops-admin" in done["target"]


def test_a_new_admin_principal_is_no_way_around_the_rule(world: World) -> None:
    admin = world.headers("ops-admin")
    made = world.http.post("/v1/principals", json={"name": "a2", "role": "admin"}, headers=admin)
    assert made.status_code == 201
    assert made.headers["location"] == "/v1/principals/a2"
    asked = world.http.post("/v1/principals/a2/keys", headers=admin)
    assert asked.status_code == 202
    # The key's own principal cannot confirm it either (here: a2 has no key anyway; the
    # second admin is the subject of its own request).
    second = _second_admin(world)
    own = world.http.post("/v1/principals/second-admin/keys", headers=admin).json()
    refused = world.http.post(f"/v1/key-requests/{own['request_id']}/confirm", headers=second)
    assert refused.status_code == 409


def test_a_request_expires_and_can_be_cancelled(world: World) -> None:
    admin, second = world.headers("ops-admin"), _second_admin(world)
    first = world.http.post("/v1/principals/eu-regulator/keys", headers=admin).json()
    world.clock.advance(24 * 3600 + 1)
    late = world.http.post(f"/v1/key-requests/{first['request_id']}/confirm", headers=second)
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    again = world.http.post("/v1/principals/eu-regulator/keys", headers=admin).json()
    cancel = world.http.delete(f"/v1/key-requests/{again['request_id']}", headers=second)
    assert cancel.status_code == 204
    after = world.http.post(f"/v1/key-requests/{again['request_id']}/confirm", headers=second)
    assert after.status_code == 409 and "cancelled" in after.json()["detail"]
    assert _events(world, "key_request_cancelled")[-1]["actor"] == "second-admin"


def test_keys_of_other_roles_are_issued_at_once_and_audited(world: World) -> None:
    issued = world.http.post("/v1/principals/plant-mes/keys", headers=world.headers("ops-admin"))
    assert issued.status_code == 201
    key_id = issued.json()["key_id"]
    assert issued.headers["location"] == f"/v1/keys/{key_id}"
    described = world.http.get(f"/v1/keys/{key_id}", headers=world.headers("ops-admin")).json()
    assert described["principal"] == "plant-mes" and described["revoked_at"] is None
    event = _events(world, "key_issued")[-1]
    assert (event["actor"], event["principal"], event["key_id"]) == (
        "ops-admin",
        "plant-mes",
        key_id,
    )


def test_privileged_reads_are_audited_and_public_ones_are_not(world: World) -> None:
    before = len(_events(world, "privileged_read"))
    regulator_key = world.template.tokens["eu-regulator"].split("_")[1]
    world.http.get("/v1/record", params={"id": CR_TANK}, headers=world.headers("eu-regulator"))
    world.http.get("/v1/record", params={"id": CR_TANK}, headers=world.headers("tuv-auditor"))
    # Not privileged: the auditor's ungranted subject (public view), the public, the owner.
    world.http.get("/v1/record", params={"id": CR_HX}, headers=world.headers("tuv-auditor"))
    world.http.get("/v1/record", params={"id": CR_TANK})
    world.http.get("/v1/record", params={"id": CR_TANK}, headers=world.headers("plant-mes"))
    bundle = world.http.get(
        "/v1/trail/bundle",
        params={"subject": TANK_SUBJECT},
        headers=world.headers("eu-regulator"),
    )
    assert bundle.status_code == 200
    reads = _events(world, "privileged_read")[before:]
    assert [(e["actor"], e["target"].split(" (")[0]) for e in reads] == [
        ("eu-regulator", f"record {CR_TANK}"),
        ("tuv-auditor", f"record {CR_TANK}"),
        ("eu-regulator", f"bundle of query subject={TANK_SUBJECT}"),
    ]
    assert reads[0]["key_id"] == regulator_key
    assert "records in full" in reads[2]["target"]


def test_the_regulator_reads_the_log_on_a_page(world: World) -> None:
    world.http.post("/v1/principals/plant-mes/keys", headers=world.headers("ops-admin"))
    client = browser(world, "eu-regulator")
    page = page_of(client.get("/audit"))
    assert page.by_id("audit") is not None and "API key issued" in page.text
    assert page.by_id("audit-link") is not None
    public = browser(world, None).get("/audit")
    assert public.status_code == 401
    admin = browser(world, "ops-admin").get("/audit")
    assert admin.status_code == 403
