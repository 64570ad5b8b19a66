"""Verification bodies by name (docs/PAGES.md §1.1): the whitelist leads with each body's
name and gives its address as secondary; an attestation on a record or an enterprise page
names its body and links to its whitelist entry, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.examples import CR_TANK
from ledger.store import chainfacts, chainmirror
from tests.api.world import ENTERPRISE, World
from tests.pages.conftest import browser, page_of

ADDRESS = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
NAME = "Example Verification Body (accredited, ISO 14065)"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _accredit_and_attest(world: World) -> None:
    """What the chain follower mirrors from TrustRegistry's BodyAccredited and
    AttestationFiled events (their writers, as anchoring.follower calls them)."""
    digest = world.http.get("/v1/record/status", params={"id": CR_TANK}).json()["digest"]
    with world.store.transaction() as session:
        chainmirror.mirror_body(
            session, address=ADDRESS, name=NAME, scope="ISO 14065", regions="EU,CN",
            valid_from=T0, valid_until=datetime(2031, 1, 1, tzinfo=UTC), withdrawn=False,
            block_number=7,
        )  # fmt: skip
        chainfacts.mirror_attestation(
            session, digest_hex=digest, body_address=ADDRESS, report_digest_hex="ab" * 32,
            verdict="conforms", index=0,
            mined=chainfacts.MinedAt("0x" + "cd" * 32, 8, "0x" + "ef" * 32, T0),
        )  # fmt: skip


def test_the_whitelist_leads_with_the_bodys_name(world: World) -> None:
    _accredit_and_attest(world)
    client = browser(world, None)
    for lang, words in (("en", "Address on the chain"), ("zh", "链上地址")):
        page = page_of(client.get("/whitelist", params={"lang": lang}))
        row = page.by_id("body-" + ADDRESS.lower())
        assert row is not None
        assert NAME in page.text and ADDRESS in page.text and words in page.text
        # The name comes first, the address after it.
        assert page.text.index(NAME) < page.text.index(ADDRESS)


def test_an_attestation_names_its_body_and_links_to_it(world: World) -> None:
    _accredit_and_attest(world)
    # The enterprise's equipment is its Handle prefix's (docs/API.md, PUT /v1/enterprise).
    registered = world.http.put(
        "/v1/enterprise",
        params={"id": ENTERPRISE},
        headers=world.headers("eu-regulator"),
        json={
            "name_en": "Example Anti-Corrosion Equipment Co., Ltd.",
            "handle_prefixes": ["88.118.8"],
        },
    )
    assert registered.status_code == 200, registered.text
    client = browser(world, "eu-regulator")
    anchor = "/whitelist#body-" + ADDRESS.lower()
    record = page_of(client.get("/record", params={"id": CR_TANK, "lang": "zh"}))
    assert NAME in record.text and anchor in record.links()
    assert "已上链" in record.text  # the attestation's state in words ("mined")
    enterprise = page_of(client.get("/enterprise", params={"id": ENTERPRISE}))
    assert NAME in enterprise.text and anchor in enterprise.links()
