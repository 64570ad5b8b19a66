"""Check 5 of meter-reading batches through ``ProvenReader`` (docs/VERIFY.md §9.2, terminal
keys): the terminal keys, their ``bytes`` fields and their metering point grants proven from
storage proofs on a real anvil, the example plant's SM2 meters and Ed25519 gateway passing
with no ``eth_call`` at all; an endpoint that alters a terminal key's public key or a
grant's time beside its proofs is caught, and check 5 fails naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from anchoring.chain import DevChain
from ledger.core.keys import ALG_ED25519, ALG_SM2_SM3, public_key_of
from ledger.examples import efficiency as ex
from tests.support.lyingproxy import LyingProxy
from tests.verifier.conftest import pins_for
from tests.verifier.support import Ledger, build_efficiency_ledger
from verifier.checks import verify_bundle
from verifier.evm.errors import CodeHashError
from verifier.evm.layout import StorageLayout, long_bytes_slots
from verifier.model import Check, Status
from verifier.proven import ProvenReader

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def plant(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil"), anvil_path=anvil_path)
    try:
        yield build_efficiency_ledger(chain, artifacts)
    finally:
        chain.stop()


@pytest.fixture
def proxy(plant: Ledger) -> Iterator[LyingProxy]:
    with LyingProxy(str(plant.chain.rpc_url)) as p:
        yield p


def _readings(plant: Ledger) -> dict[str, ex.Terminal]:
    """One meter-reading batch per terminal: record id -> its terminal."""
    by_id = {t.id: t for t in ex.terminals()}
    out: dict[str, ex.Terminal] = {}
    for rid, c in sorted(plant.commitments.items()):
        if c.record["type"] == "meter-reading":
            terminal = by_id[c.record["body"]["terminal"]["id"]]
            if terminal not in out.values():
                out[rid] = terminal
    return out


def _check5(plant: Ledger, url: str, items: list[str]) -> dict[str, Check]:
    pins = pins_for(plant)
    reader = ProvenReader.from_urls([url], anchor_registry=pins.anchor_registry)
    v = verify_bundle(plant.bundle_bytes(items), reader=reader, pins=pins)
    return {c.record_id: c for c in v.checks if c.number == 5 and c.record_id in items}


def _lie_about(slot: int, forge: Any) -> Any:
    """An ``eth_getProof`` rewrite stating ``forge(word)`` as the value of ``slot``."""

    def lie(_params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        storage = [
            {**e, "value": hex(forge(int(e["value"], 16)))} if int(e["key"], 16) == slot else e
            for e in answer["storageProof"]
        ]
        return {**answer, "storageProof": storage}

    return lie


def test_sm2_and_ed25519_readings_pass_check_5_from_proofs_alone(
    plant: Ledger, proxy: LyingProxy
) -> None:
    readings = _readings(plant)
    schemes = {public_key_of(t.key).scheme for t in readings.values()}
    assert schemes == {ALG_SM2_SM3, ALG_ED25519}

    checks = _check5(plant, proxy.url, list(readings))
    for rid, terminal in readings.items():
        scheme = public_key_of(terminal.key).scheme
        assert checks[rid].status is Status.PASS, checks[rid].reason
        assert f"signed {scheme} by {terminal.id}" in checks[rid].reason
        assert f"granted {terminal.metering_point}" in checks[rid].reason
    # Every terminal fact came from storage proofs: nothing was asked of eth_call.
    assert proxy.calls["eth_call"] == 0 and proxy.calls["eth_getProof"] >= 1


def _sm2_reading(plant: Ledger) -> tuple[str, ex.Terminal]:
    return next(
        (rid, t)
        for rid, t in _readings(plant).items()
        if public_key_of(t.key).scheme == ALG_SM2_SM3
    )


def test_a_terminal_key_with_altered_bytes_fails_check_5_naming_the_endpoint(
    plant: Ledger, proxy: LyingProxy
) -> None:
    rid, terminal = _sm2_reading(plant)
    public = public_key_of(terminal.key)
    layout = StorageLayout.packaged("TrustRegistry")
    length_slot = layout.locate("_terminalKeys", bytes.fromhex(public.key_id), "publicKey").slot
    first_data = long_bytes_slots(length_slot, len(public.raw))[0]
    proxy.lie("eth_getProof", _lie_about(first_data, lambda word: word ^ 1))

    check = _check5(plant, proxy.url, [rid])[rid]
    assert check.status is Status.FAIL
    assert proxy.url in check.reason and "but its proof shows" in check.reason


def test_a_metering_point_grant_with_another_time_fails_check_5_naming_the_endpoint(
    plant: Ledger, proxy: LyingProxy
) -> None:
    rid, terminal = _sm2_reading(plant)
    layout = StorageLayout.packaged("TrustRegistry")
    granted = layout.locate(
        "_points",
        bytes.fromhex(public_key_of(terminal.key).key_id),
        keccak(terminal.metering_point.encode()),
        "grantedAt",
    )
    proxy.lie(
        "eth_getProof", _lie_about(granted.slot, lambda word: word - (1 << 8 * granted.offset))
    )

    check = _check5(plant, proxy.url, [rid])[rid]
    assert check.status is Status.FAIL
    assert proxy.url in check.reason and "but its proof shows" in check.reason


def test_the_interface_version_is_the_proven_builds(plant: Ledger, proxy: LyingProxy) -> None:
    """INTERFACE_VERSION is code, not storage: the version is the build's whose code hash
    the account proof shows (3 for the TrustRegistry with terminal keys), and a registry
    pinned to other code is a FAIL, not a version guessed."""
    reader = ProvenReader.from_urls([proxy.url], anchor_registry=plant.anchor_address)
    reader.pin_head()
    assert reader.interface_version("trust") == 3
    assert reader.interface_version("anchor") == 2
    assert proxy.calls["eth_call"] == 0

    pinned = ProvenReader.from_urls(
        [proxy.url], anchor_registry=plant.anchor_address, trust_code_hash="0x" + "11" * 32
    )
    pinned.pin_head()
    with pytest.raises(CodeHashError, match="not the pinned"):
        pinned.interface_version("trust")
