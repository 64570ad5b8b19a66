"""TrustRegistry record types per key (granted and withdrawn by the registrar, dated by the
block) and the recorded time of a key's revocation (docs/CONTRACTS.md §4), on py-evm and
anvil."""

from __future__ import annotations

from tests.contracts.support import Registries, expect_revert, random32, sha256


def grant(reg: Registries, key_id: bytes, record_type: str) -> int:
    """Grant ``record_type``; returns the block timestamp the grant carries."""
    receipt = reg.tx(reg.trust.functions.grantRecordType(key_id, record_type), "registrar")
    t = int(reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert reg.events(reg.trust, "RecordTypeGranted", receipt) == [
        {"keyId": key_id, "recordType": record_type, "grantedAt": t}
    ]
    return t


def granted_at(reg: Registries, key_id: bytes, record_type: str, t: int) -> bool:
    return bool(reg.call(reg.trust.functions.isTypeGrantedAt(key_id, record_type, t)))


def new_key(reg: Registries) -> bytes:
    public = random32()
    now = reg.now()
    fn = reg.trust.functions.registerKey(
        sha256(public), public, reg.producer_id, now - 100, now + 10**6
    )
    reg.tx(fn, "key_admin")
    return sha256(public)


def test_a_key_signs_only_the_types_granted_from_the_grant_on(reg: Registries) -> None:
    key = reg.key_id
    assert reg.call(reg.trust.functions.recordTypesOf(key)) == []
    assert not granted_at(reg, key, "factor-set", reg.now())
    t = grant(reg, key, "factor-set")
    assert granted_at(reg, key, "factor-set", t)
    assert granted_at(reg, key, "factor-set", t + 10**6)
    assert not granted_at(reg, key, "factor-set", t - 1)  # anchored before the grant
    assert not granted_at(reg, key, "carbon-record", t)  # another type
    assert not granted_at(reg, random32(), "factor-set", t)  # another key
    assert tuple(reg.call(reg.trust.functions.getRecordTypeGrant(key, "factor-set"))) == (t, 0)
    assert tuple(reg.call(reg.trust.functions.getRecordTypeGrant(key, "region-rule"))) == (0, 0)
    grant(reg, key, "region-rule")
    assert reg.call(reg.trust.functions.recordTypesOf(key)) == ["factor-set", "region-rule"]


def test_withdrawal_ends_the_type_from_its_block_on(reg: Registries) -> None:
    key = reg.key_id
    t0 = grant(reg, key, "factor-set")
    reg.chain.advance_time(60)
    receipt = reg.tx(reg.trust.functions.withdrawRecordType(key, "factor-set"), "registrar")
    t1 = int(reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert t1 > t0
    assert reg.events(reg.trust, "RecordTypeWithdrawn", receipt) == [
        {"keyId": key, "recordType": "factor-set", "withdrawnAt": t1}
    ]
    assert granted_at(reg, key, "factor-set", t1 - 1)  # anchored before: still authorised
    assert not granted_at(reg, key, "factor-set", t1)
    assert tuple(reg.call(reg.trust.functions.getRecordTypeGrant(key, "factor-set"))) == (t0, t1)
    assert reg.call(reg.trust.functions.recordTypesOf(key)) == ["factor-set"]
    # Withdrawn once; a grant is made once (a fresh authority is a fresh key).
    again = reg.trust.functions.withdrawRecordType(key, "factor-set")
    expect_revert(
        lambda: reg.tx(again, "registrar"),
        "TrustRegistryRecordTypeNotGranted",
        keyId=key,
        recordType="factor-set",
    )
    regrant = reg.trust.functions.grantRecordType(key, "factor-set")
    expect_revert(
        lambda: reg.tx(regrant, "registrar"),
        "TrustRegistryRecordTypeAlreadyGranted",
        keyId=key,
        recordType="factor-set",
    )


def test_grant_refusals(reg: Registries) -> None:
    unknown = random32()
    fn = reg.trust.functions.grantRecordType(unknown, "factor-set")
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryUnknownKey", keyId=unknown)
    for name in ("", "x" * 65):
        fn = reg.trust.functions.grantRecordType(reg.key_id, name)
        expect_revert(
            lambda fn=fn: reg.tx(fn, "registrar"),
            "TrustRegistryInvalidRecordType",
            recordType=name,
        )
    grant(reg, reg.key_id, "x" * 64)  # the longest name allowed
    never = reg.trust.functions.withdrawRecordType(reg.key_id, "rating-rule")
    expect_revert(
        lambda: reg.tx(never, "registrar"),
        "TrustRegistryRecordTypeNotGranted",
        keyId=reg.key_id,
        recordType="rating-rule",
    )
    revoked = new_key(reg)
    reg.tx(reg.trust.functions.revokeKey(revoked, 0), "key_admin")
    fn = reg.trust.functions.grantRecordType(revoked, "factor-set")
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryKeyRevoked", keyId=revoked)


def test_a_key_holds_at_most_the_maximum_of_types(reg: Registries) -> None:
    limit = reg.call(reg.trust.functions.MAX_RECORD_TYPES())
    for i in range(limit):
        reg.tx(reg.trust.functions.grantRecordType(reg.key_id, f"type-{i}"), "registrar")
    fn = reg.trust.functions.grantRecordType(reg.key_id, "one-too-many")
    expect_revert(
        lambda: reg.tx(fn, "registrar"), "TrustRegistryTooManyRecordTypes", keyId=reg.key_id
    )


def test_rotation_carries_the_current_types_to_the_new_key(reg: Registries) -> None:
    old = reg.key_id
    grant(reg, old, "factor-set")
    grant(reg, old, "region-rule")
    reg.tx(reg.trust.functions.withdrawRecordType(old, "region-rule"), "registrar")
    public = random32()
    fn = reg.trust.functions.rotateKey(old, sha256(public), public, reg.now(), reg.now() + 10**6)
    receipt = reg.tx(fn, "key_admin")
    t = int(reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    new = sha256(public)
    assert reg.events(reg.trust, "RecordTypeGranted", receipt) == [
        {"keyId": new, "recordType": "factor-set", "grantedAt": t}
    ]
    assert reg.call(reg.trust.functions.recordTypesOf(new)) == ["factor-set"]
    assert granted_at(reg, new, "factor-set", t)
    assert not granted_at(reg, new, "region-rule", t)  # withdrawn from the old key: not carried


def test_key_revocation_records_when_the_chain_learnt_it(reg: Registries) -> None:
    key = new_key(reg)
    assert tuple(reg.call(reg.trust.functions.getKeyRevocation(key))) == (0, 0, 0)
    reg.chain.advance_time(600)
    now = reg.now()
    # Back-dated: the compromise was found late. The chain still dates its own knowledge.
    first = reg.tx(reg.trust.functions.revokeKey(key, now - 300), "key_admin")
    block = reg.chain.w3.eth.get_block(first["blockNumber"])
    expected = (now - 300, int(block["timestamp"]), int(first["blockNumber"]))
    assert tuple(reg.call(reg.trust.functions.getKeyRevocation(key))) == expected
    # Moving the cut-off earlier keeps the first recording.
    reg.tx(reg.trust.functions.revokeKey(key, now - 500), "key_admin")
    assert tuple(reg.call(reg.trust.functions.getKeyRevocation(key))) == (
        now - 500,
        *expected[1:],
    )
    assert tuple(reg.call(reg.trust.functions.getKey(key)))[4] == now - 500
    unknown = random32()
    expect_revert(
        lambda: reg.call(reg.trust.functions.getKeyRevocation(unknown)),
        "TrustRegistryUnknownKey",
        keyId=unknown,
    )
