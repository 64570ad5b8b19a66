"""TrustRegistry interface version 3: collection terminals' keys (Ed25519 or SM2, with the
SM2 signer's distinguishing identifier), their windows and revocations, and the metering
points and record types each may sign for (docs/CONTRACTS.md §4), on py-evm and anvil."""

from __future__ import annotations

import hashlib

import pytest

from anchoring.revert import ContractRevertError
from ledger.core.keys import public_key_of
from ledger.core.sm2 import SM2PrivateKey
from tests.contracts.support import Registries, expect_revert, random32, sha256

ED25519, SM2 = 1, 2
TERMINAL = "88.118.8/TM-GRID-01"
TERMINAL_ID = hashlib.sha256(TERMINAL.encode()).digest()
POINT = "88.118.8/MP-GRID-01"


def sm2_public(ident: bytes = TERMINAL.encode()) -> bytes:
    """A real SM2 public key, 04 || x || y (65 bytes)."""
    return public_key_of(SM2PrivateKey(random32(), ident)).raw


def register(
    reg: Registries,
    public: bytes,
    *,
    scheme: int = SM2,
    ident: bytes = TERMINAL.encode(),
    window: tuple[int, int] | None = None,
) -> bytes:
    start, end = window or (reg.now() - 100, reg.now() + 10**6)
    fn = reg.trust.functions.registerTerminalKey(
        sha256(public), scheme, public, ident, TERMINAL_ID, start, end
    )
    reg.tx(fn, "key_admin")
    return sha256(public)


def timestamp_of(reg: Registries, receipt: object) -> int:
    return int(reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])  # type: ignore[index]


def test_an_sm2_terminal_key_is_stored_with_its_identifier(reg: Registries) -> None:
    public = sm2_public()
    now = reg.now()
    fn = reg.trust.functions.registerTerminalKey(
        sha256(public), SM2, public, TERMINAL.encode(), TERMINAL_ID, now - 10, now + 1000
    )
    receipt = reg.tx(fn, "key_admin")
    key_id = sha256(public)
    assert reg.events(reg.trust, "TerminalKeyRegistered", receipt) == [
        {
            "keyId": key_id,
            "terminalId": TERMINAL_ID,
            "scheme": SM2,
            "publicKey": public,
            "distinguishingId": TERMINAL.encode(),
            "validFrom": now - 10,
            "validUntil": now + 1000,
        }
    ]
    stored = tuple(reg.call(reg.trust.functions.getTerminalKey(key_id)))
    assert stored == (SM2, public, TERMINAL.encode(), TERMINAL_ID, now - 10, now + 1000, 0)
    valid = reg.trust.functions.isTerminalKeyValidAt
    assert reg.call(valid(key_id, now - 10)) and reg.call(valid(key_id, now + 999))
    assert not reg.call(valid(key_id, now - 11)) and not reg.call(valid(key_id, now + 1000))
    assert not reg.call(valid(random32(), now))  # unknown: never valid
    # A terminal key is not a producer key, and the other way round.
    missing = reg.trust.functions.getKey(key_id)
    expect_revert(lambda: reg.call(missing), "TrustRegistryUnknownKey", keyId=key_id)
    producer = reg.trust.functions.getTerminalKey(reg.key_id)
    expect_revert(lambda: reg.call(producer), "TrustRegistryUnknownKey", keyId=reg.key_id)


def test_an_ed25519_terminal_key_has_no_distinguishing_identifier(reg: Registries) -> None:
    public = random32()
    key_id = register(reg, public, scheme=ED25519, ident=b"")
    stored = tuple(reg.call(reg.trust.functions.getTerminalKey(key_id)))
    assert stored[:4] == (ED25519, public, b"", TERMINAL_ID)


def test_malformed_terminal_keys_are_refused(reg: Registries) -> None:
    public = sm2_public()
    now = reg.now()

    def attempt(scheme: int, key: bytes, ident: bytes, **changes: object) -> object:
        args = {
            "keyId": sha256(key),
            "terminalId": TERMINAL_ID,
            "validFrom": now,
            "validUntil": now + 10,
            **changes,
        }
        fn = reg.trust.functions.registerTerminalKey(
            args["keyId"], scheme, key, ident, args["terminalId"], args["validFrom"],
            args["validUntil"],
        )  # fmt: skip
        return lambda: reg.tx(fn, "key_admin")

    ident = TERMINAL.encode()
    for scheme in (0, 3, 255):
        expect_revert(attempt(scheme, public, ident), "TrustRegistryUnknownScheme", scheme=scheme)
    compressed = bytes([2 + public[-1] % 2]) + public[1:33]
    for key in (public[1:], compressed, b"\x02" + public[1:], public + b"\x00"):
        expect_revert(
            attempt(SM2, key, ident),
            "TrustRegistryInvalidPublicKey",
            scheme=SM2,
            length=len(key),
        )
    for key in (bytes(32), random32()[:31], random32() + b"\x01"):
        expect_revert(
            attempt(ED25519, key, b""),
            "TrustRegistryInvalidPublicKey",
            scheme=ED25519,
            length=len(key),
        )
    for bad_ident in (b"", b"x" * 8192):
        expect_revert(
            attempt(SM2, public, bad_ident),
            "TrustRegistryInvalidDistinguishingId",
            scheme=SM2,
            length=len(bad_ident),
        )
    expect_revert(
        attempt(ED25519, random32(), b"1234567812345678"),
        "TrustRegistryInvalidDistinguishingId",
        scheme=ED25519,
        length=16,
    )
    other = random32()
    expect_revert(
        attempt(SM2, public, ident, keyId=other),
        "TrustRegistryKeyIdMismatch",
        expected=sha256(public),
        given=other,
    )
    expect_revert(attempt(SM2, public, ident, terminalId=bytes(32)), "TrustRegistryZeroDigest")
    expect_revert(
        attempt(SM2, public, ident, validUntil=now),
        "TrustRegistryInvalidValidity",
        validFrom=now,
        validUntil=now,
    )
    reg.tx(reg.trust.functions.registerTerminalKey(  # the longest identifier SM2 allows
        sha256(public), SM2, public, b"x" * 8191, TERMINAL_ID, now, now + 10
    ), "key_admin")  # fmt: skip
    expect_revert(attempt(SM2, public, ident), "TrustRegistryKeyExists", keyId=sha256(public))


def test_one_key_id_is_a_producer_key_or_a_terminal_key(reg: Registries) -> None:
    # The producer key of the baseline cannot be registered again as a terminal key...
    now = reg.now()
    fn = reg.trust.functions.registerTerminalKey(
        reg.key_id, ED25519, reg.key_public, b"", TERMINAL_ID, now, now + 10
    )
    expect_revert(lambda: reg.tx(fn, "key_admin"), "TrustRegistryKeyExists", keyId=reg.key_id)
    # ...nor a terminal key as a producer key.
    public = random32()
    key_id = register(reg, public, scheme=ED25519, ident=b"")
    fn = reg.trust.functions.registerKey(key_id, public, reg.producer_id, now, now + 10)
    expect_revert(lambda: reg.tx(fn, "key_admin"), "TrustRegistryKeyExists", keyId=key_id)


def test_terminal_key_revocation(reg: Registries) -> None:
    key_id = register(reg, sm2_public())
    revocation = reg.trust.functions.getTerminalKeyRevocation
    assert tuple(reg.call(revocation(key_id))) == (0, 0, 0)
    reg.chain.advance_time(600)
    now = reg.now()
    receipt = reg.tx(reg.trust.functions.revokeTerminalKey(key_id, now - 300), "key_admin")
    assert reg.events(reg.trust, "TerminalKeyRevoked", receipt) == [
        {"keyId": key_id, "effectiveAt": now - 300}
    ]
    recorded = (timestamp_of(reg, receipt), int(receipt["blockNumber"]))
    assert tuple(reg.call(revocation(key_id))) == (now - 300, *recorded)
    assert tuple(reg.call(reg.trust.functions.getTerminalKey(key_id)))[6] == now - 300
    valid = reg.trust.functions.isTerminalKeyValidAt
    assert reg.call(valid(key_id, now - 301)) and not reg.call(valid(key_id, now - 300))
    # Only earlier; never later, never in the future.
    again = reg.trust.functions.revokeTerminalKey(key_id, now - 300)
    expect_revert(lambda: reg.tx(again, "key_admin"), "TrustRegistryKeyRevoked", keyId=key_id)
    reg.tx(reg.trust.functions.revokeTerminalKey(key_id, now - 400), "key_admin")
    assert tuple(reg.call(revocation(key_id))) == (now - 400, *recorded)
    fresh = register(reg, sm2_public())
    with pytest.raises(ContractRevertError) as info:  # the call's block time is not known ahead
        reg.tx(reg.trust.functions.revokeTerminalKey(fresh, reg.now() + 10**6), "key_admin")
    assert info.value.error_name == "TrustRegistryRevocationInFuture"
    # A producer key is revoked with revokeKey, not as a terminal key.
    fn = reg.trust.functions.revokeTerminalKey(reg.key_id, 0)
    expect_revert(lambda: reg.tx(fn, "key_admin"), "TrustRegistryUnknownKey", keyId=reg.key_id)


def test_a_terminal_signs_for_the_metering_points_granted_from_the_grant_on(
    reg: Registries,
) -> None:
    key_id = register(reg, sm2_public())
    assert reg.call(reg.trust.functions.meteringPointsOf(key_id)) == []
    receipt = reg.tx(reg.trust.functions.grantMeteringPoint(key_id, POINT), "registrar")
    t0 = timestamp_of(reg, receipt)
    assert reg.events(reg.trust, "MeteringPointGranted", receipt) == [
        {"keyId": key_id, "meteringPoint": POINT, "grantedAt": t0}
    ]
    granted = reg.trust.functions.isMeteringPointGrantedAt
    assert reg.call(granted(key_id, POINT, t0)) and not reg.call(granted(key_id, POINT, t0 - 1))
    assert not reg.call(granted(key_id, "88.118.8/MP-GAS-01", t0))  # another point
    assert tuple(reg.call(reg.trust.functions.getMeteringPointGrant(key_id, POINT))) == (t0, 0)
    reg.chain.advance_time(60)
    receipt = reg.tx(reg.trust.functions.withdrawMeteringPoint(key_id, POINT), "registrar")
    t1 = timestamp_of(reg, receipt)
    assert reg.events(reg.trust, "MeteringPointWithdrawn", receipt) == [
        {"keyId": key_id, "meteringPoint": POINT, "withdrawnAt": t1}
    ]
    assert reg.call(granted(key_id, POINT, t1 - 1)) and not reg.call(granted(key_id, POINT, t1))
    assert tuple(reg.call(reg.trust.functions.getMeteringPointGrant(key_id, POINT))) == (t0, t1)
    assert reg.call(reg.trust.functions.meteringPointsOf(key_id)) == [POINT]
    # Granted once, withdrawn once.
    for fn, error in (
        (reg.trust.functions.grantMeteringPoint, "TrustRegistryMeteringPointAlreadyGranted"),
        (reg.trust.functions.withdrawMeteringPoint, "TrustRegistryMeteringPointNotGranted"),
    ):
        call = fn(key_id, POINT)
        expect_revert(
            lambda c=call: reg.tx(c, "registrar"), error, keyId=key_id, meteringPoint=POINT
        )


def test_metering_point_refusals(reg: Registries) -> None:
    key_id = register(reg, sm2_public())
    for name in ("", "x" * 1025):
        fn = reg.trust.functions.grantMeteringPoint(key_id, name)
        expect_revert(
            lambda fn=fn: reg.tx(fn, "registrar"),
            "TrustRegistryInvalidMeteringPoint",
            meteringPoint=name,
        )
    reg.tx(reg.trust.functions.grantMeteringPoint(key_id, "x" * 1024), "registrar")
    # A producer key has no metering points; an unknown key neither.
    for other in (reg.key_id, random32()):
        fn = reg.trust.functions.grantMeteringPoint(other, POINT)
        expect_revert(lambda fn=fn: reg.tx(fn, "registrar"), "TrustRegistryUnknownKey", keyId=other)
    fn = reg.trust.functions.withdrawMeteringPoint(reg.key_id, POINT)
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryUnknownKey", keyId=reg.key_id)
    reg.tx(reg.trust.functions.revokeTerminalKey(key_id, 0), "key_admin")
    fn = reg.trust.functions.grantMeteringPoint(key_id, POINT)
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryKeyRevoked", keyId=key_id)


def test_a_terminal_key_is_granted_record_types_as_a_producer_key(reg: Registries) -> None:
    key_id = register(reg, random32(), scheme=ED25519, ident=b"")
    receipt = reg.tx(reg.trust.functions.grantRecordType(key_id, "meter-reading"), "registrar")
    t = timestamp_of(reg, receipt)
    assert reg.call(reg.trust.functions.isTypeGrantedAt(key_id, "meter-reading", t))
    assert reg.call(reg.trust.functions.recordTypesOf(key_id)) == ["meter-reading"]
    reg.tx(reg.trust.functions.withdrawRecordType(key_id, "meter-reading"), "registrar")
    reg.tx(reg.trust.functions.revokeTerminalKey(key_id, 0), "key_admin")
    fn = reg.trust.functions.grantRecordType(key_id, "carbon-record")
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryKeyRevoked", keyId=key_id)


def test_interface_version_three_keeps_every_version_two_read(reg: Registries) -> None:
    assert reg.call(reg.trust.functions.INTERFACE_VERSION()) == 3
    assert reg.call(reg.trust.functions.SCHEME_ED25519()) == ED25519
    assert reg.call(reg.trust.functions.SCHEME_SM2_SM3()) == SM2
    assert reg.call(reg.trust.functions.MAX_METERING_POINTS()) == 256
    assert reg.call(reg.trust.functions.MAX_METERING_POINT_BYTES()) == 1024
    assert reg.call(reg.trust.functions.MAX_DISTINGUISHING_ID_BYTES()) == 8191
    # A version 2 reader's calls answer as before.
    key = tuple(reg.call(reg.trust.functions.getKey(reg.key_id)))
    assert key[:2] == (reg.key_public, reg.producer_id)
