"""``GET /v1/batches/{seq}`` answers exactly the members docs/API.md §3.4.1 lists (read
from the document's text), and its manifest recomputes to the header's manifest digest."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ledger.core.canonical import canonicalize
from tests.api.world import World

DOC = " ".join((Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text("utf-8").split())


def _listed(after: str, until: str) -> set[str]:
    section = DOC[DOC.index(after) : DOC.index(until, DOC.index(after))]
    return set(re.findall(r"`([a-z_]+)`", section))


def test_a_batch_carries_the_documented_members_and_a_manifest_that_hashes_to_its_digest(
    world: World,
) -> None:
    (first, *_) = world.http.get("/v1/batches").json()["items"]
    detail = world.http.get(f"/v1/batches/{first['seq']}").json()
    header = _listed("the batch header as `GET /v1/batches` lists it", "(null before)")
    states = {"sealed", "anchoring", "anchored", "failed", "disputed"}
    assert set(detail) == (header - states) | {"manifest"}
    manifest = _listed("`carbonledger-manifest/1` document exactly", "SHA-256 of")
    assert set(detail["manifest"]) == manifest
    digest = hashlib.sha256(canonicalize(detail["manifest"])).hexdigest()
    assert digest == detail["manifest_digest"]
    assert world.http.get("/v1/batches/999999").status_code == 404
