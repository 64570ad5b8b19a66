"""``up --demo`` fills the register (docs/DEMO.md): every demo enterprise registered with
its names in both languages and its equipment, a C-grade enterprise on the warning list,
and the authorised readers with one approved and one pending access request."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.demo.register import DEMO_ENTERPRISES, WARNED_ENTERPRISE
from ledger.examples.equipment import ENTERPRISE, TANK_HANDLE
from tests.e2e.conftest import DemoRun

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _get(demo: DemoRun, path: str, token: str | None = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = httpx.get(demo.state["api_url"] + path, params=params, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_demo_registers_its_enterprises_and_their_equipment(demo_service: DemoRun) -> None:
    maker = _get(demo_service, "/v1/enterprise", id=ENTERPRISE)
    assert maker["enterprise"]["name_zh"] == "示例防腐设备有限公司"
    assert TANK_HANDLE in {e["subject"] for e in maker["equipment"]}
    for enterprise in DEMO_ENTERPRISES:
        found = _get(demo_service, "/v1/search", q=enterprise.name_zh[2:6])
        assert enterprise.enterprise_id in [h["key"] for h in found["hits"]]
    english = _get(demo_service, "/v1/search", q="anti corrosion")
    assert [h["key"] for h in english["hits"]] == [ENTERPRISE]


def test_the_warning_list_is_not_empty(demo_service: DemoRun) -> None:
    listed = _get(demo_service, "/v1/warnings")["items"]
    assert WARNED_ENTERPRISE in {w["id"] for w in listed}
    page = httpx.get(demo_service.state["api_url"] + "/warnings", timeout=30)
    assert page.status_code == 200 and "Example Coatings Works" in page.text


def test_the_readers_have_one_approved_and_one_pending_request(demo_service: DemoRun) -> None:
    tokens = json.loads((demo_service.data_dir / "demo" / "credentials.json").read_text())
    requests = _get(demo_service, "/v1/access-requests", tokens["demo-regulator"])["items"]
    states = {r["requester"]: (r["requester_role"], r["state"]) for r in requests}
    assert states["demo-bank"] == ("financial-institution", "approved")
    assert states["demo-bidder"] == ("bidder", "pending")
    # The bank reads the maker's ratings in full on its grant; the bidder does not.
    bank = _get(demo_service, "/v1/enterprise", tokens["demo-bank"], id=ENTERPRISE)
    bidder = _get(demo_service, "/v1/enterprise", tokens["demo-bidder"], id=ENTERPRISE)
    assert bank["ratings"] and all(r["scores"] is not None for r in bank["ratings"])
    assert bidder["ratings"] and all(r["scores"] is None for r in bidder["ratings"])
