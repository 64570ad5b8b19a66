"""Bad input at the PACT API, over TLS: forged and expired tokens, filters with bad dates,
malformed CloudEvents, unknown event types, other protocol versions. Each gets the status
the conformance cases name with PACT's error object, and nothing is stored."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest

from api.pact.tokens import TokenIssuer, token_key
from ledger.store import exchange as index
from ledger.store.access import Principal, issue_api_key, revoke_api_key
from tests.api.exchange.conftest import BUYER, Buyer, PactHost, event_id
from tests.api.world import NOW, SERVICE_KEY
from tests.support.pactspec import PactSpec

CE = "application/cloudevents+json; charset=UTF-8"
TANK = "88.118.8/ST-TK-0101"


def _error(pact_spec: PactSpec, r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    pact_spec.check("Error", body)
    assert body["code"] == code, body
    return str(body["message"])


def _pending(host: PactHost) -> list[Any]:
    return host.world.store.run(lambda s: index.pending_pact_requests(s, limit=100))


def _post(host: PactHost, body: bytes, *, content_type: str = CE) -> httpx.Response:
    with host.client() as http:
        return http.post(
            f"{host.url}/3/events",
            content=body,
            headers={"content-type": content_type, "authorization": f"Bearer {host.token()}"},
        )


# -- tokens ------------------------------------------------------------------------------


def test_forged_tokens_are_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    genuine = pact_host.token()
    claims = jwt.decode(genuine, options={"verify_signature": False})
    forged = {
        "other key": jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "other principal": jwt.encode(
            {**claims, "sub": "eu-regulator"}, secrets.token_bytes(32), algorithm="HS256"
        ),
        "body changed": genuine.split(".")[0]
        + "."
        + jwt.api_jws.base64url_encode(
            json.dumps({**claims, "sub": "eu-regulator"}).encode()
        ).decode()
        + "."
        + genuine.split(".")[2],
    }
    for name, token in forged.items():
        r = pact_host.get("/3/footprints", token)
        message = _error(pact_spec, r, 401, "BadRequest")
        assert message == "Invalid token provided", name
        assert "invalid_token" in r.headers["www-authenticate"]


def test_expired_token_is_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    assert pact_host.get("/3/footprints", token).status_code == 200
    pact_host.world.clock.advance(3599)
    assert pact_host.get("/3/footprints", token).status_code == 200
    pact_host.world.clock.advance(1)
    _error(pact_spec, pact_host.get("/3/footprints", token), 401, "TokenExpired")
    # A fresh token works again.
    assert pact_host.get("/3/footprints", pact_host.token()).status_code == 200


def test_token_of_another_service_key_is_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    from ledger.core.signature import private_key_from_seed

    other = TokenIssuer(token_key(private_key_from_seed(b"\x01" * 32)), clock=pact_host.world.clock)
    assert token_key(SERVICE_KEY) != other.key
    r = pact_host.get("/3/footprints", other.issue(BUYER, "k").access_token)
    _error(pact_spec, r, 401, "BadRequest")


def test_token_of_a_disabled_principal_is_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    with pact_host.world.store.transaction() as session:
        principal = session.get(Principal, BUYER)
        assert principal is not None
        principal.disabled_at = NOW
    _error(pact_spec, pact_host.get("/3/footprints", token), 401, "BadRequest")


def test_token_of_a_revoked_api_key_is_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    """A token never outlives the API key it was exchanged for (``principals revoke-key``)."""
    world = pact_host.world
    with world.store.transaction() as session:
        issued = issue_api_key(session, BUYER, created_at=NOW)
    with pact_host.client() as http:
        r = http.post(
            f"{pact_host.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(BUYER, issued.token),
        )
    token = r.json()["access_token"]
    assert pact_host.get("/3/footprints", token).status_code == 200
    with world.store.transaction() as session:
        revoke_api_key(session, issued.key_id, at=NOW)
    _error(pact_spec, pact_host.get("/3/footprints", token), 401, "BadRequest")
    # The principal's other key still gets a token that works.
    assert pact_host.get("/3/footprints", pact_host.token()).status_code == 200


def test_token_request_errors(pact_host: PactHost) -> None:
    secret = pact_host.world.template.tokens[BUYER]
    with pact_host.client() as http:
        url = f"{pact_host.url}/auth/token"
        r = http.post(url, data={"grant_type": "password"}, auth=(BUYER, secret))
        assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")
        r = http.post(url, data={}, auth=(BUYER, secret))
        assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
        r = http.post(url, json={"grant_type": "client_credentials"}, auth=(BUYER, secret))
        assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
        r = http.post(url, data={"grant_type": "client_credentials"})
        assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
        # client_secret_post is accepted as well as HTTP Basic.
        r = http.post(
            url,
            data={"grant_type": "client_credentials", "client_id": BUYER, "client_secret": secret},
        )
        assert r.status_code == 200 and r.json()["token_type"] == "Bearer"


# -- filters and versions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "validOn=2025-13-01T00:00:00Z",
        "validOn=2025-01-01",
        "validAfter=yesterday",
        "validBefore=2025-01-01T00:00:00",
        "validOn=2025-02-30T00:00:00Z",
        "validOn=2025-01-01T00:00:00Z&validOn=2025-01-02T00:00:00Z",
        "limit=-1",
        "offset=ten",
        "x-acme-invoice-id=12345",
    ],
)
def test_bad_filters_are_400(pact_host: PactHost, pact_spec: PactSpec, query: str) -> None:
    r = pact_host.get(f"/3/footprints?{query}")
    assert r.status_code == 400, r.text
    pact_spec.check("Error", r.json())
    assert r.json()["code"] in ("BadRequest", "NotImplemented")
    assert query.split("=")[0] in r.json()["message"]


def test_other_protocol_versions(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    _error(pact_spec, pact_host.get("/2/footprints", token), 400, "NotImplemented")
    _error(pact_spec, pact_host.get("/4/footprints/abc", token), 400, "NotImplemented")


# -- events -------------------------------------------------------------------------------


def _event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id("refusal"),
        "source": "https://webhook.example.com",
        "time": "2023-05-19T10:30:00Z",
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "data": {"productId": ["urn:epc:id:giai:0614141.ST-TK-0101"]},
    }
    for key, value in changes.items():
        if value is None:
            event.pop(key)
        else:
            event[key] = value
    return event


MALFORMED: dict[str, bytes] = {
    "not json": b"{not json",
    "an array": b"[]",
    "missing id": json.dumps(_event(id=None)).encode(),
    "missing time": json.dumps(_event(time=None)).encode(),
    "empty source": json.dumps(_event(source="")).encode(),
    "time not rfc 3339": json.dumps(_event(time="19 May 2023")).encode(),
    "data not an object": json.dumps(_event(data=["x"])).encode(),
    "productId not an array": json.dumps(_event(data={"productId": "urn:x"})).encode(),
    "unknown criterion": json.dumps(_event(data={"colour": ["red"]})).encode(),
    "bad validOn": json.dumps(_event(data={"validOn": "2025-01-01"})).encode(),
    "duplicate key": b'{"id":"a","id":"b"}',
    "a float": json.dumps(_event(data={"productId": ["x"], "n": 1.5})).encode(),
    "bad attribute name": json.dumps({**_event(), "Not-Valid": "x"}).encode(),
    "published without pfIds": json.dumps(
        _event(type="org.wbcsd.pact.ProductFootprint.PublishedEvent.3", data={})
    ).encode(),
    "rejected with unknown code": json.dumps(
        _event(
            type="org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
            data={"requestEventId": "x", "error": {"code": "Nope", "message": "m"}},
        )
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_cloudevents_are_400_and_store_nothing(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec, name: str
) -> None:
    _error(pact_spec, _post(pact_host, MALFORMED[name]), 400, "BadRequest")
    assert _pending(pact_host) == []


def test_unknown_event_types_are_400(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    for event_type in (
        "com.example.SomethingElse",
        "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.4",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
    ):
        body = json.dumps(_event(type=event_type)).encode()
        _error(pact_spec, _post(pact_host, body), 400, "NotImplemented")
    body = json.dumps(_event(specversion="0.3")).encode()
    _error(pact_spec, _post(pact_host, body), 400, "NotImplemented")
    assert _pending(pact_host) == []


def test_events_of_another_media_type_are_400(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    body = json.dumps(_event()).encode()
    _error(pact_spec, _post(pact_host, body, content_type="application/json"), 400, "BadRequest")
    assert _pending(pact_host) == []


def test_request_without_events_endpoint_is_refused_at_once(
    pact_host: PactHost, pact_spec: PactSpec
) -> None:
    message = _error(pact_spec, _post(pact_host, json.dumps(_event()).encode()), 400, "BadRequest")
    assert "events endpoint" in message
    assert _pending(pact_host) == []


def test_a_repeated_request_is_answered_once(pact_host: PactHost, buyer: Buyer) -> None:
    body = json.dumps(_event()).encode()
    assert _post(pact_host, body).status_code == 200
    assert _post(pact_host, body).status_code == 200
    assert len(_pending(pact_host)) == 1
    assert pact_host.worker().step().answered == 1


# -- who sees what ----------------------------------------------------------------------


def test_a_producer_sees_only_its_own_footprints(pact_host: PactHost) -> None:
    plant = pact_host.get("/3/footprints", pact_host.token("plant-mes")).json()["data"]
    everyone = pact_host.get("/3/footprints").json()["data"]
    types = {f["extensions"][0]["data"]["recordType"] for f in plant}
    assert types == {"carbon-record"}
    assert {f["extensions"][0]["data"]["recordType"] for f in everyone} == {
        "carbon-record",
        "factor-substitution",
    }
    conversion = next(
        f for f in everyone if f["extensions"][0]["data"]["recordType"] == "factor-substitution"
    )
    r = pact_host.get(f"/3/footprints/{conversion['id']}", pact_host.token("plant-mes"))
    assert r.status_code == 404


def test_the_export_lock_holds_back_locked_subjects(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    everyone = pact_host.get("/3/footprints").json()["data"]
    tank = next(
        f for f in everyone if "urn:carbonledger:handle:88.118.8/ST-TK-0101" in f["productIds"]
    )
    asked: list[tuple[list[str], str | None]] = []

    def lock(subjects: Any, region: str | None) -> dict[str, str]:
        asked.append((list(subjects), region))
        return {TANK: "red risk assessment"} if TANK in subjects else {}

    pact_host.world.app.state.pact.service.lock = lock
    listed = pact_host.get("/3/footprints").json()["data"]
    assert tank["id"] not in {f["id"] for f in listed}
    assert len(listed) < len(everyone)
    _error(pact_spec, pact_host.get(f"/3/footprints/{tank['id']}"), 403, "AccessDenied")
    body = json.dumps(_event(data={"productId": ["urn:epc:id:giai:0614141.ST-TK-0101"]})).encode()
    assert _post(pact_host, body).status_code == 200
    pact_host.worker().step()
    answers = [json.loads(x.body) for x in buyer.system.received]
    assert [a["type"].rsplit(".", 2)[-2] for a in answers if "Request" in a["type"]] == [
        "RequestRejectedEvent"
    ]
    assert asked and all(TANK in subjects for subjects, _ in asked[:1])


def _links(r: httpx.Response) -> dict[str, dict[str, str]]:
    """The Link header's targets by rel, each as its query parameters."""
    out = {}
    for part in r.headers["link"].split(", "):
        url, rel = part.split(">; rel=")
        out[rel.strip('"')] = dict(parse_qsl(urlsplit(url.lstrip("<")).query))
    return out


def test_pagination_past_the_end_and_with_limit_zero(pact_host: PactHost) -> None:
    token = pact_host.token()
    total = len(pact_host.get("/3/footprints?limit=200", token).json()["data"])
    assert total > 2
    r = pact_host.get("/3/footprints?limit=2&offset=1000", token)
    assert (r.status_code, r.json()["data"]) == (200, [])
    links = _links(r)
    last = str(((total - 1) // 2) * 2)
    assert links["last"] == {"offset": last, "limit": "2"}
    assert links["prev"] == links["last"]  # the last page, which is not empty
    assert pact_host.get(f"/3/footprints?limit=2&offset={last}", token).json()["data"]
    r = pact_host.get("/3/footprints?limit=0", token)
    assert (r.status_code, r.json()["data"]) == (200, [])
    links = _links(r)
    assert links["first"] == {"offset": "0", "limit": "50"}
    assert links["next"] == {"offset": "0", "limit": "50"}
