"""The size cap of trail and query bundles (docs/API.md §5): a bundle may hold up to
10,000 items, within the bundle format's item limit (docs/FORMAT.md §6), not just a
listing page, and a larger ``limit`` is refused with 422, never clamped."""

from __future__ import annotations

import pytest

from ledger.core.bundle import MAX_ITEMS, parse_bundle
from ledger.core.errors import MalformedError
from ledger.service.export import MAX_BUNDLE_ITEMS, check_bundle_limit
from ledger.service.limits import MAX_PAGE
from tests.api.world import TANK_SUBJECT, World


def test_the_bundle_cap_is_the_format_item_limit_and_above_a_page() -> None:
    assert MAX_BUNDLE_ITEMS == 10_000 <= MAX_ITEMS
    assert MAX_BUNDLE_ITEMS > MAX_PAGE
    assert check_bundle_limit(MAX_BUNDLE_ITEMS) == MAX_BUNDLE_ITEMS
    for bad in (0, MAX_BUNDLE_ITEMS + 1, True):
        with pytest.raises(MalformedError) as raised:
            check_bundle_limit(bad)
        assert raised.value.path == "limit"


@pytest.mark.parametrize(
    ("route", "params"),
    [("/v1/bundles", {"type": "carbon-record"}), ("/v1/trail/bundle", {"subject": TANK_SUBJECT})],
)
def test_a_bundle_may_ask_for_the_whole_cap(
    world: World, route: str, params: dict[str, str]
) -> None:
    headers = world.headers("eu-regulator")
    small = world.http.get(route, params={**params, "limit": MAX_PAGE}, headers=headers)
    assert small.status_code == 200, small.text
    whole = world.http.get(route, params={**params, "limit": MAX_BUNDLE_ITEMS}, headers=headers)
    assert whole.status_code == 200, whole.text
    # Fewer records than either cap exist here: both answers are the same complete bundle.
    assert whole.content == small.content
    assert parse_bundle(whole.content, require_canonical=True).items


@pytest.mark.parametrize(
    ("route", "params"),
    [("/v1/bundles", {"type": "carbon-record"}), ("/v1/trail/bundle", {"subject": TANK_SUBJECT})],
)
@pytest.mark.parametrize("limit", [MAX_BUNDLE_ITEMS + 1, 10**12, 0])
def test_a_bundle_over_the_cap_is_refused_not_clamped(
    world: World, route: str, params: dict[str, str], limit: int
) -> None:
    response = world.http.get(
        route, params={**params, "limit": limit}, headers=world.headers("eu-regulator")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["path"] == "query.limit"


def test_listings_keep_the_page_cap(world: World) -> None:
    over = world.http.get("/v1/trail", params={"subject": TANK_SUBJECT, "limit": MAX_PAGE + 1})
    assert over.status_code == 422 and over.json()["path"] == "query.limit"


@pytest.mark.parametrize(
    ("route", "params"),
    [("/v1/bundles", {"type": "carbon-record"}), ("/v1/trail/bundle", {"subject": TANK_SUBJECT})],
)
def test_anonymous_callers_keep_the_page_cap(
    world: World, route: str, params: dict[str, str]
) -> None:
    at_cap = world.http.get(route, params={**params, "limit": MAX_PAGE})
    assert at_cap.status_code == 200, at_cap.text
    over = world.http.get(route, params={**params, "limit": MAX_PAGE + 1})
    assert over.status_code == 422
    assert over.headers["content-type"].startswith("application/problem+json")
    assert "authenticate for larger bundles" in over.json()["detail"]
