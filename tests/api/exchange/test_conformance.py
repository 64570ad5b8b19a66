"""The PACT Tech Specs v3 conformance test cases, each against the running service over
TLS (uvicorn with a trustme certificate), with the status codes the cases name; every
footprint, event and error answered is validated against the official OpenAPI schemas.

Case numbers are those of the conformance list (v3-test-cases-expected-results.md of the
PACT conformance service). Cases 18 and 19 (OpenID Connect discovery, "Mandatory: None")
are not offered: recipients use ``/auth/token``, as PACT prescribes without a discovery
document. The callbacks of cases 13 and 14.B are observed at a buyer's host served over
TLS, reached with a token from its own token endpoint.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx

from ledger.exchange.footprint import pf_id
from tests.api.exchange.conftest import BUYER, COMPANY_ID, Buyer, PactHost, event_id
from tests.support.pactspec import PactSpec

CE = "application/cloudevents+json; charset=UTF-8"
TANK_V1 = "urn:carbonledger:carbon-record:st-tk-0101-2025-v1"
TANK_V2 = "urn:carbonledger:carbon-record:st-tk-0101-2025-v2"
TANK_GIAI = "urn:epc:id:giai:0614141.ST-TK-0101"
CN_7309 = "urn:pact:productclassification:cn:7309"


def _footprints(pact_spec: PactSpec, response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"} and isinstance(body["data"], list)
    for footprint in body["data"]:
        pact_spec.check("ProductFootprint", footprint)
    return list(body["data"])


def _error(pact_spec: PactSpec, response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    pact_spec.check("Error", body)
    assert "data" not in body
    return dict(body)


def _all(host: PactHost, token: str) -> list[dict[str, Any]]:
    response = host.get("/3/footprints?limit=200", token)
    assert response.status_code == 200
    return list(response.json()["data"])


def _by_record(footprints: list[dict[str, Any]], record_id: str) -> dict[str, Any]:
    for f in footprints:
        if f["extensions"][0]["data"]["recordId"] == record_id:
            return f
    raise AssertionError(f"no footprint of {record_id}")


def _post_event(host: PactHost, event: dict[str, Any], token: str | None = None) -> httpx.Response:
    with host.client() as http:
        return http.post(
            f"{host.url}/3/events",
            content=json.dumps(event).encode(),
            headers={"content-type": CE, "authorization": f"Bearer {token or host.token()}"},
        )


# -- authentication -------------------------------------------------------------------


def test_case_01_token_with_valid_credentials(pact_host: PactHost) -> None:
    secret = pact_host.world.template.tokens[BUYER]
    basic = base64.b64encode(f"{BUYER}:{secret}".encode()).decode()
    with pact_host.client() as http:
        r = http.post(
            f"{pact_host.url}/auth/token",
            content=b"grant_type=client_credentials",
            headers={
                "authorization": f"Basic {basic}",
                "content-type": "application/x-www-form-urlencoded",
            },
        )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    assert r.headers["cache-control"] == "no-store"


def test_case_02_token_with_invalid_credentials(pact_host: PactHost) -> None:
    other = pact_host.world.template.tokens["eu-regulator"]  # a real key, of someone else
    for auth in ((BUYER, "clk_0000000000000000_wrong"), (BUYER, other), ("nobody", "x")):
        with pact_host.client() as http:
            r = http.post(
                f"{pact_host.url}/auth/token",
                data={"grant_type": "client_credentials"},
                auth=auth,
            )
        assert r.status_code in (400, 401)
        assert r.json()["error"] == "invalid_client"
        assert "access_token" not in r.json()


# -- GetFootprint and ListFootprints ------------------------------------------------------


def test_case_03_get_footprint(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    listed = _all(pact_host, token)
    target = _by_record(listed, TANK_V2)
    r = pact_host.get(f"/3/footprints/{target['id']}", token)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"data"}
    pact_spec.check("ProductFootprint", body["data"])
    assert body["data"] == target
    assert body["data"]["status"] == "Active"
    assert body["data"]["companyIds"] == [COMPANY_ID]


def test_case_04_list_footprints(pact_host: PactHost, pact_spec: PactSpec) -> None:
    found = _footprints(pact_spec, pact_host.get("/3/footprints"))
    records = {f["extensions"][0]["data"]["recordId"] for f in found}
    # Every anchored carbon record and conversion of the world, superseded ones included.
    assert TANK_V1 in records and TANK_V2 in records
    assert any(r.startswith("urn:carbonledger:factor-substitution:") for r in records)
    assert len({f["id"] for f in found}) == len(found)


def test_case_05_pagination_links(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    everything = [f["id"] for f in _all(pact_host, token)]
    assert len(everything) >= 4
    seen: list[str] = []
    url: str | None = f"{pact_host.url}/3/footprints?limit=2"
    with pact_host.client() as http:
        while url is not None:
            r = http.get(url, headers={"authorization": f"Bearer {token}"})
            page = _footprints(pact_spec, r)
            assert len(page) <= 2
            seen += [f["id"] for f in page]
            links = dict(
                (rel, target)
                for target, rel in re.findall(r'<([^>]+)>; rel="([a-z]+)"', r.headers["link"])
            )
            assert links["first"].startswith(
                f"{pact_host.url}/3/footprints?"
            )  # absolute, same host
            url = links.get("next")
            # A pagination link can be called more than once, with the same answer.
            if url is not None:
                again = http.get(url, headers={"authorization": f"Bearer {token}"})
                assert (
                    again.json()
                    == http.get(url, headers={"authorization": f"Bearer {token}"}).json()
                )
    assert seen == everything
    r = pact_host.get("/3/footprints?offset=2", token)
    assert [f["id"] for f in _footprints(pact_spec, r)] == everything[2:]
    assert 'rel="prev"' in r.headers["link"]


def test_case_06_list_with_invalid_token(pact_host: PactHost, pact_spec: PactSpec) -> None:
    r = pact_host.get("/3/footprints", "invalid-access-token")
    body = _error(pact_spec, r, 400, 401)
    assert body["code"] == "BadRequest"


def test_case_07_get_with_invalid_token(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    footprint_id = _all(pact_host, token)[0]["id"]
    r = pact_host.get(f"/3/footprints/{footprint_id}", "invalid-access-token")
    _error(pact_spec, r, 400, 401)


def test_case_08_get_non_existent_footprint(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    for missing in ("non-existent-id", pf_id("00" * 32)):
        body = _error(pact_spec, pact_host.get(f"/3/footprints/{missing}", token), 400, 404)
        assert body["code"] == "NotFound"


# -- plain HTTP is refused ----------------------------------------------------------------


def test_case_09_token_over_http_gives_no_token(pact_host: PactHost) -> None:
    secret = pact_host.world.template.tokens[BUYER]
    r = httpx.post(
        f"{pact_host.http_url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(BUYER, secret),
    )
    assert r.status_code >= 400
    assert "access_token" not in r.text


def test_case_10_list_over_http_gives_no_data(pact_host: PactHost) -> None:
    token = pact_host.token()
    r = httpx.get(
        f"{pact_host.http_url}/3/footprints", headers={"authorization": f"Bearer {token}"}
    )
    assert r.status_code >= 400
    assert "data" not in r.json()


def test_case_11_get_over_http_gives_no_data(pact_host: PactHost) -> None:
    token = pact_host.token()
    footprint_id = _all(pact_host, token)[0]["id"]
    r = httpx.get(
        f"{pact_host.http_url}/3/footprints/{footprint_id}",
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code >= 400
    assert "data" not in r.json()


# -- events: requests answered later --------------------------------------------------------


def _request(data: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id(name),
        "source": "https://webhook.example.com",
        "time": "2023-05-19T10:30:00Z",
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "data": data,
    }


def test_cases_12_13_request_created_then_fulfilled(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    request = _request({"productId": [TANK_GIAI], "comment": "Please send PCF data."}, "12")
    pact_spec.check("RequestCreatedEvent", request)
    r = _post_event(pact_host, request)
    assert r.status_code == 200
    assert r.content == b""
    worker = pact_host.worker()
    report = worker.step()
    assert report.answered == 1
    answers = [
        json.loads(x.body)
        for x in buyer.system.received
        if json.loads(x.body)["type"].endswith("RequestFulfilledEvent.3")
    ]
    assert len(answers) == 1
    answer = answers[0]
    pact_spec.check("RequestFulfilledEvent", answer)
    for footprint in answer["data"]["pfs"]:
        pact_spec.check("ProductFootprint", footprint)
        assert TANK_GIAI in footprint["productIds"]
    assert answer["data"]["requestEventId"] == request["id"]
    received = next(x for x in buyer.system.received if json.loads(x.body) == answer)
    assert received.headers["content-type"] == CE
    assert received.headers["authorization"].startswith("Bearer ")
    # Answered once: a further step sends nothing new.
    worker.step()
    assert sum(1 for x in buyer.system.received if json.loads(x.body) == answer) == 1


def test_cases_14a_14b_request_for_unknown_product_rejected(
    pact_host: PactHost, buyer: Buyer, pact_spec: PactSpec
) -> None:
    request = _request({"productId": ["urn:null"], "comment": "Please send PCF data."}, "14A")
    r = _post_event(pact_host, request)
    assert r.status_code == 200 and r.content == b""
    pact_host.worker().step()
    rejected = [
        json.loads(x.body)
        for x in buyer.system.received
        if json.loads(x.body)["type"].endswith("RequestRejectedEvent.3")
    ]
    assert len(rejected) == 1
    pact_spec.check("RequestRejectedEvent", rejected[0])
    assert rejected[0]["data"]["requestEventId"] == request["id"]
    assert rejected[0]["data"]["error"]["code"] == "NotFound"


def test_case_15_published_event_accepted(pact_host: PactHost, pact_spec: PactSpec) -> None:
    event = {
        "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "specversion": "1.0",
        "id": "123e4567-e89b-12d3-a456-426614174000",
        "source": "https://webhook.example.com",
        "time": "2023-05-19T11:30:00Z",
        "data": {"pfIds": ["urn:gtin:4712345060507"]},
    }
    r = _post_event(pact_host, event)
    assert r.status_code == 200 and r.content == b""


def test_case_16_events_with_invalid_token(pact_host: PactHost, pact_spec: PactSpec) -> None:
    event = {
        "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "specversion": "1.0",
        "id": "test-run-id-12345",
        "source": "https://webhook.example.com",
        "time": "2023-05-19T12:30:00Z",
        "data": {"pfIds": ["urn:gtin:4712345060507"]},
    }
    r = _post_event(pact_host, event, token="invalid-access-token")
    _error(pact_spec, r, 400, 401)


def test_case_17_events_over_http_refused(pact_host: PactHost, buyer: Buyer) -> None:
    token = pact_host.token()
    request = _request({"productId": [TANK_GIAI]}, "17")
    r = httpx.post(
        f"{pact_host.http_url}/3/events",
        content=json.dumps(request).encode(),
        headers={"content-type": CE, "authorization": f"Bearer {token}"},
    )
    assert r.status_code >= 400
    assert "data" not in r.json()
    # Refused before anything was stored: no answer is ever sent.
    assert pact_host.worker().step().answered == 0


# -- filters ---------------------------------------------------------------------------------


def _filtered(host: PactHost, spec: PactSpec, query: str, token: str) -> list[dict[str, Any]]:
    return _footprints(spec, host.get(f"/3/footprints?{query}", token))


def test_case_20_filter_product_id(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, f"productId={TANK_GIAI}", token)
    assert found and all(TANK_GIAI in f["productIds"] for f in found)
    # Case-insensitive match.
    again = _filtered(pact_host, pact_spec, f"productId={TANK_GIAI.upper()}", token)
    assert [f["id"] for f in again] == [f["id"] for f in found]


def test_case_21_filter_company_id(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, f"companyId={COMPANY_ID}", token)
    assert [f["id"] for f in found] == [f["id"] for f in _all(pact_host, token)][: len(found)]
    assert found and all(f["companyIds"] == [COMPANY_ID] for f in found)


def test_case_22_filter_geography(pact_host: PactHost, pact_spec: PactSpec) -> None:
    # The example records state no production geography (PACT: global), so no country
    # matches; the filter still answers 200 with a valid, empty list.
    token = pact_host.token()
    assert _filtered(pact_host, pact_spec, "geography=DE", token) == []


def test_case_23_filter_classification(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, f"classification={CN_7309}", token)
    assert found and all(CN_7309 in f["productClassifications"] for f in found)
    assert all(f["productNameCompany"].startswith("Epoxy-coated steel storage tank") for f in found)


def test_case_24_filter_valid_on(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, "validOn=2026-06-01T00:00:00Z", token)
    assert found
    for f in found:
        assert f["validityPeriodStart"] <= "2026-06-01T00:00:00Z" <= f["validityPeriodEnd"]
    # The validity period's start is inclusive.
    start = found[0]["validityPeriodStart"]
    assert found[0]["id"] in [
        f["id"] for f in _filtered(pact_host, pact_spec, f"validOn={start}", token)
    ]


def test_case_25_filter_valid_after(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, "validAfter=2025-12-31T00:00:00Z", token)
    assert found and all(f["validityPeriodStart"] > "2025-12-31T00:00:00Z" for f in found)
    # Strictly after: the start itself does not match.
    assert _filtered(pact_host, pact_spec, "validAfter=2026-01-01T00:00:00Z", token) == []


def test_case_26_filter_valid_before(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, "validBefore=2030-01-01T00:00:00Z", token)
    assert found and all(f["validityPeriodEnd"] < "2030-01-01T00:00:00Z" for f in found)
    # An offset other than Z is read as the same instant.
    same = _filtered(pact_host, pact_spec, "validBefore=2030-01-01T08:00:00%2B08:00", token)
    assert [f["id"] for f in same] == [f["id"] for f in found]


def test_case_27_filter_status(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    active = _filtered(pact_host, pact_spec, "status=Active", token)
    deprecated = _filtered(pact_host, pact_spec, "status=deprecated", token)
    assert active and all(f["status"] == "Active" for f in active)
    assert [f["extensions"][0]["data"]["recordId"] for f in deprecated] == [TANK_V1]
    assert len(active) + len(deprecated) == len(_all(pact_host, token))


def test_case_28_filter_status_and_product_id(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    found = _filtered(pact_host, pact_spec, f"status=Active&productId={TANK_GIAI}", token)
    assert found and all(f["status"] == "Active" and TANK_GIAI in f["productIds"] for f in found)
    assert TANK_V1 not in {f["extensions"][0]["data"]["recordId"] for f in found}


def test_case_29_filter_company_ids_or(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    query = f"companyId={COMPANY_ID}&companyId=urn:uuid:other-company&companyId=urn:uuid:another"
    found = _filtered(pact_host, pact_spec, query, token)
    assert len(found) == len(_all(pact_host, token))


def test_case_29_product_ids_or_within_and_across(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    hx = "urn:carbonledger:ecode:10012345678900042"
    tank = _filtered(pact_host, pact_spec, f"productId={TANK_GIAI}", token)
    exchanger = _filtered(pact_host, pact_spec, f"productId={hx}", token)
    both = _filtered(pact_host, pact_spec, f"productId={TANK_GIAI}&productid={hx}", token)
    assert {f["id"] for f in both} == {f["id"] for f in tank} | {f["id"] for f in exchanger}
    assert _filtered(pact_host, pact_spec, f"productId={hx}&classification={CN_7309}", token) == []


def test_cases_30_to_39_filters_matching_nothing(pact_host: PactHost, pact_spec: PactSpec) -> None:
    token = pact_host.token()
    for query in (
        "productId=urn:bogus:product:nonexistent123",  # 30
        "companyId=urn:bogus:company:nonexistent456",  # 31
        "geography=XX",  # 32
        "classification=urn:bogus:classification:nonexistent789",  # 33
        "validOn=1900-01-01T00:00:00Z",  # 34
        "validAfter=2099-12-31T23:59:59Z",  # 35
        "validBefore=1900-01-01T00:00:00Z",  # 36
        "status=BogusStatusValue",  # 37
        "companyId=urn:bogus:company:5FIi8zS3&productId=urn:bogus:product:nonexistent123",  # 38
        "companyId=urn:bogus:company:nonexistent1&companyId=urn:bogus:company:nonexistent2"
        "&companyId=urn:bogus:company:nonexistent3",  # 39
    ):
        r = pact_host.get(f"/3/footprints?{query}", token)
        assert r.status_code == 200, (query, r.text)
        assert r.json() == {"data": []}, query
        assert "link" not in r.headers


def test_case_40_odata_filter_refused(pact_host: PactHost, pact_spec: PactSpec) -> None:
    r = pact_host.get("/3/footprints?$filter=created ge '2023-01-15T10:15:30Z'")
    body = _error(pact_spec, r, 400)
    assert "$filter" in body["message"]


# -- the official examples ---------------------------------------------------------------


def test_official_examples_validate(pact_spec: PactSpec) -> None:
    for name in ("example-1.json", "example-2.json", "example-3.json", "example-4.json"):
        pact_spec.check("ProductFootprint", pact_spec.example(name))


def test_every_mandatory_case_has_its_test(pact_spec: PactSpec) -> None:
    """Every case the official list marks mandatory for v3.0 is named by a test here."""
    text = pact_spec.conformance_text()
    mandatory = re.findall(r"## Test Case #(\d+)(?:\.[AB])?:[^\n]*\n+_Mandatory: V3\.0_", text)
    assert len(mandatory) >= 30
    names = " ".join(n for n in globals() if n.startswith("test_case"))
    for number in sorted({int(m) for m in mandatory}):
        covered = (
            re.search(rf"case_{number:02d}_|cases_{number:02d}_", names)
            or any(
                int(a) <= number <= int(b) for a, b in re.findall(r"cases_(\d+)_to_(\d+)", names)
            )
            or re.search(rf"cases_\d+_{number:02d}[_a]", names)
            or re.search(rf"cases_{number:02d}a", names)
        )
        assert covered, f"no test for mandatory case #{number}"
