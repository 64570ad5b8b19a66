"""TrustRegistry: producer key windows, rotation and revocation; accredited bodies and their
attestations (docs/FORMAT.md §3, docs/CONTRACTS.md), on py-evm and anvil."""

from __future__ import annotations

from typing import Any

import pytest

from anchoring.revert import ContractRevertError
from tests.contracts.support import ZERO32, Registries, expect_revert, random32, sha256

PRODUCER = sha256(b"Example Titanium Works")


def register(reg: Registries, valid_from: int, valid_until: int) -> bytes:
    public = random32()
    key_id = sha256(public)
    fn = reg.trust.functions.registerKey(key_id, public, PRODUCER, valid_from, valid_until)
    receipt = reg.tx(fn, "key_admin")
    assert reg.events(reg.trust, "KeyRegistered", receipt) == [
        {
            "keyId": key_id,
            "producerId": PRODUCER,
            "publicKey": public,
            "validFrom": valid_from,
            "validUntil": valid_until,
        }
    ]
    return key_id


def is_valid(reg: Registries, key_id: bytes, t: int) -> bool:
    return bool(reg.call(reg.trust.functions.isKeyValidAt(key_id, t)))


def get_key(reg: Registries, key_id: bytes) -> tuple:
    return tuple(reg.call(reg.trust.functions.getKey(key_id)))


# ------------------------------------------------------------------ producer keys


def test_key_validity_window_edges(reg: Registries) -> None:
    key_id = register(reg, 1_000, 2_000)
    assert get_key(reg, key_id)[1:] == (PRODUCER, 1_000, 2_000, 0)
    assert not is_valid(reg, key_id, 999)  # before validFrom
    assert is_valid(reg, key_id, 1_000)  # at validFrom
    assert is_valid(reg, key_id, 1_999)  # at validUntil - 1
    assert not is_valid(reg, key_id, 2_000)  # at validUntil: the end is exclusive
    assert not is_valid(reg, key_id, 2**64 - 1)
    assert not is_valid(reg, random32(), 1_500)  # an unknown key is never valid


def test_revocation_now_ends_validity_from_this_block(reg: Registries) -> None:
    now = reg.now()
    key_id = register(reg, now - 1_000, now + 10**6)
    receipt = reg.tx(reg.trust.functions.revokeKey(key_id, 0), "key_admin")
    revoked_at = reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert get_key(reg, key_id)[4] == revoked_at
    assert reg.events(reg.trust, "KeyRevoked", receipt) == [
        {"keyId": key_id, "effectiveAt": revoked_at}
    ]
    assert is_valid(reg, key_id, revoked_at - 1)
    assert not is_valid(reg, key_id, revoked_at)
    assert not is_valid(reg, key_id, now + 10**5)


def test_back_dated_revocation_and_only_earlier_re_revocation(reg: Registries) -> None:
    now = reg.now()
    key_id = register(reg, now - 1_000, now + 10**6)
    reg.tx(reg.trust.functions.revokeKey(key_id, now - 100), "key_admin")
    assert is_valid(reg, key_id, now - 101)
    assert not is_valid(reg, key_id, now - 100)
    # A compromise found to start even earlier moves the cut-off back...
    receipt = reg.tx(reg.trust.functions.revokeKey(key_id, now - 500), "key_admin")
    assert reg.events(reg.trust, "KeyRevoked", receipt) == [
        {"keyId": key_id, "effectiveAt": now - 500}
    ]
    assert not is_valid(reg, key_id, now - 200)
    # ...but a revocation is never postponed, repeated or turned into "now".
    for later in (now - 500, now - 100, 0):
        expect_revert(
            lambda t=later: reg.tx(reg.trust.functions.revokeKey(key_id, t), "key_admin"),
            "TrustRegistryKeyRevoked",
            keyId=key_id,
        )


def test_revocation_in_the_future_reverts(reg: Registries) -> None:
    key_id = register(reg, 0, 2**64 - 1)
    before = reg.now()
    future = before + 10**6
    with pytest.raises(ContractRevertError) as info:
        reg.tx(reg.trust.functions.revokeKey(key_id, future), "key_admin")
    assert info.value.error_name == "TrustRegistryRevocationInFuture"
    assert info.value.error_args["effectiveAt"] == future
    # now_ is the timestamp of the block the call was evaluated in: at or just after `before`.
    assert before <= info.value.error_args["now_"] < before + 600
    assert get_key(reg, key_id)[4] == 0


def test_rotation_closes_the_old_window_and_keeps_the_producer(reg: Registries) -> None:
    old_id = register(reg, 1_000, 10_000)
    public = random32()
    new_id = sha256(public)
    fn = reg.trust.functions.rotateKey(old_id, new_id, public, 5_000, 20_000)
    receipt = reg.tx(fn, "key_admin")
    assert reg.events(reg.trust, "KeyRotated", receipt) == [
        {
            "oldKeyId": old_id,
            "newKeyId": new_id,
            "producerId": PRODUCER,
            "validFrom": 5_000,
            "validUntil": 20_000,
        }
    ]
    assert get_key(reg, old_id)[3] == 5_000
    assert get_key(reg, new_id) == (public, PRODUCER, 5_000, 20_000, 0)
    assert is_valid(reg, old_id, 4_999) and not is_valid(reg, new_id, 4_999)
    assert not is_valid(reg, old_id, 5_000) and is_valid(reg, new_id, 5_000)


def test_rotation_after_the_old_window_leaves_it_alone(reg: Registries) -> None:
    old_id = register(reg, 1_000, 2_000)
    public = random32()
    reg.tx(reg.trust.functions.rotateKey(old_id, sha256(public), public, 3_000, 4_000), "key_admin")
    assert get_key(reg, old_id)[2:4] == (1_000, 2_000)


def test_rotation_refusals(reg: Registries) -> None:
    old_id = register(reg, 1_000, 2_000)
    public = random32()

    def rotate(old: bytes, new: bytes, pk: bytes):
        return lambda: reg.tx(
            reg.trust.functions.rotateKey(old, new, pk, 1_500, 3_000), "key_admin"
        )

    unknown = random32()
    expect_revert(rotate(unknown, sha256(public), public), "TrustRegistryUnknownKey", keyId=unknown)
    expect_revert(
        rotate(old_id, reg.key_id, reg.key_public), "TrustRegistryKeyExists", keyId=reg.key_id
    )
    wrong = random32()
    expect_revert(
        rotate(old_id, wrong, public),
        "TrustRegistryKeyIdMismatch",
        expected=sha256(public),
        given=wrong,
    )
    reg.tx(reg.trust.functions.revokeKey(old_id, 0), "key_admin")
    expect_revert(rotate(old_id, sha256(public), public), "TrustRegistryKeyRevoked", keyId=old_id)


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("key_id_mismatch", "TrustRegistryKeyIdMismatch"),
        ("key_exists", "TrustRegistryKeyExists"),
        ("zero_public_key", "TrustRegistryZeroDigest"),
        ("zero_producer", "TrustRegistryZeroDigest"),
        ("empty_window", "TrustRegistryInvalidValidity"),
        ("inverted_window", "TrustRegistryInvalidValidity"),
    ],
)
def test_registration_refusals(reg: Registries, case: str, error: str) -> None:
    public, wrong = random32(), random32()
    row: dict[str, Any] = {
        "keyId": sha256(public),
        "pk": public,
        "producer": PRODUCER,
        "from": 10,
        "until": 20,
    }
    cases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "key_id_mismatch": ({"keyId": wrong}, {"expected": sha256(public), "given": wrong}),
        "key_exists": ({"keyId": reg.key_id, "pk": reg.key_public}, {"keyId": reg.key_id}),
        "zero_public_key": ({"pk": ZERO32}, {}),
        "zero_producer": ({"producer": ZERO32}, {}),
        "empty_window": ({"from": 20}, {"validFrom": 20, "validUntil": 20}),
        "inverted_window": ({"from": 21}, {"validFrom": 21, "validUntil": 20}),
    }
    changes, expected_args = cases[case]
    row.update(changes)
    fn = reg.trust.functions.registerKey(
        row["keyId"], row["pk"], row["producer"], row["from"], row["until"]
    )
    expect_revert(lambda: reg.tx(fn, "key_admin"), error, **expected_args)


def test_unknown_key_reads_and_revocations_revert(reg: Registries) -> None:
    unknown = random32()
    expect_revert(lambda: get_key(reg, unknown), "TrustRegistryUnknownKey", keyId=unknown)
    expect_revert(
        lambda: reg.tx(reg.trust.functions.revokeKey(unknown, 0), "key_admin"),
        "TrustRegistryUnknownKey",
        keyId=unknown,
    )
