"""TrustRegistry: the accredited-body whitelist (ISO 14065 style) and attestations; only a
body accredited at the block's timestamp may attest (docs/CONTRACTS.md), on py-evm and anvil."""

from __future__ import annotations

import pytest

from tests.contracts.support import ZERO32, Registries, expect_revert, random32

BODY = ("Example Verification GmbH", "ISO 14065 GHG verification", "EU,GB,CBAM")


def accredit(reg: Registries, who: str, valid_from: int, valid_until: int, name: str = BODY[0]):
    fn = reg.trust.functions.accreditBody(
        reg.addr(who), name, BODY[1], BODY[2], valid_from, valid_until
    )
    return reg.tx(fn, "registrar")


def attest(reg: Registries, who: str, digest: bytes, verdict: int = 1, report: bytes = b""):
    fn = reg.trust.functions.attest(digest, report or random32(), verdict)
    return reg.tx(fn, who)


def not_accredited(reg: Registries, who: str) -> None:
    expect_revert(
        lambda: attest(reg, who, random32()), "TrustRegistryNotAccredited", body=reg.addr(who)
    )


def test_accreditation_is_stored_and_announced(reg: Registries) -> None:
    now = reg.now()
    receipt = accredit(reg, "heir", now - 10, now + 1_000)
    assert reg.events(reg.trust, "BodyAccredited", receipt) == [
        {
            "body": reg.addr("heir"),
            "name": BODY[0],
            "scope": BODY[1],
            "regions": BODY[2],
            "validFrom": now - 10,
            "validUntil": now + 1_000,
        }
    ]
    assert tuple(reg.call(reg.trust.functions.getBody(reg.addr("heir")))) == (
        *BODY,
        now - 10,
        now + 1_000,
        False,
    )
    is_accredited = reg.trust.functions.isAccredited
    assert reg.call(is_accredited(reg.addr("heir"), now - 10))
    assert not reg.call(is_accredited(reg.addr("heir"), now - 11))
    assert not reg.call(is_accredited(reg.addr("heir"), now + 1_000))
    assert not reg.call(is_accredited(reg.addr("stranger"), now))


def test_never_accredited_body_cannot_attest(reg: Registries) -> None:
    not_accredited(reg, "stranger")
    not_accredited(reg, "registrar")  # the registrar accredits; it does not attest


def test_expired_accreditation_cannot_attest(reg: Registries) -> None:
    now = reg.now()
    accredit(reg, "heir", now - 1_000, now - 1)
    not_accredited(reg, "heir")
    # Valid now, then the window runs out.
    accredit(reg, "heir", now - 1_000, now + 300)
    attest(reg, "heir", random32())
    reg.chain.advance_time(600)
    not_accredited(reg, "heir")


def test_not_yet_valid_accreditation_cannot_attest_until_it_starts(reg: Registries) -> None:
    now = reg.now()
    accredit(reg, "heir", now + 300, now + 10**6)
    not_accredited(reg, "heir")
    reg.chain.advance_time(600)
    attest(reg, "heir", random32())


def test_withdrawn_body_cannot_attest_until_re_accredited(reg: Registries) -> None:
    digest = random32()
    attest(reg, "body", digest)
    receipt = reg.tx(reg.trust.functions.withdrawAccreditation(reg.addr("body")), "registrar")
    assert reg.events(reg.trust, "AccreditationWithdrawn", receipt) == [{"body": reg.addr("body")}]
    assert reg.call(reg.trust.functions.getBody(reg.addr("body")))[5] is True
    not_accredited(reg, "body")
    # Withdrawal does not erase what was filed while accredited.
    assert reg.call(reg.trust.functions.attestationCount(digest)) == 1
    expect_revert(
        lambda: reg.tx(reg.trust.functions.withdrawAccreditation(reg.addr("body")), "registrar"),
        "TrustRegistryNotAccredited",
        body=reg.addr("body"),
    )
    now = reg.now()
    accredit(reg, "body", now - 10, now + 10**6, name="Example Verification AG")
    body = reg.call(reg.trust.functions.getBody(reg.addr("body")))
    assert body[0] == "Example Verification AG" and body[5] is False
    attest(reg, "body", digest)
    assert reg.call(reg.trust.functions.attestationCount(digest)) == 2


def test_body_refusals(reg: Registries) -> None:
    zero = "0x" + "00" * 20
    fn = reg.trust.functions.accreditBody(zero, *BODY, 0, 10)
    expect_revert(lambda: reg.tx(fn, "registrar"), "TrustRegistryZeroAddress")
    fn = reg.trust.functions.accreditBody(reg.addr("heir"), *BODY, 10, 10)
    expect_revert(
        lambda: reg.tx(fn, "registrar"), "TrustRegistryInvalidValidity", validFrom=10, validUntil=10
    )
    stranger = reg.addr("stranger")
    expect_revert(
        lambda: reg.call(reg.trust.functions.getBody(stranger)),
        "TrustRegistryUnknownBody",
        body=stranger,
    )
    expect_revert(
        lambda: reg.tx(reg.trust.functions.withdrawAccreditation(stranger), "registrar"),
        "TrustRegistryUnknownBody",
        body=stranger,
    )


@pytest.mark.parametrize("verdict", [0, 4, 255])
def test_verdict_out_of_bounds_reverts(reg: Registries, verdict: int) -> None:
    expect_revert(
        lambda: attest(reg, "body", random32(), verdict),
        "TrustRegistryInvalidVerdict",
        verdict=verdict,
    )


def test_attestations_are_numbered_and_readable(reg: Registries) -> None:
    digest = random32()
    reports = [random32() for _ in range(3)]
    for index, verdict in enumerate((1, 2, 3)):
        receipt = attest(reg, "body", digest, verdict, reports[index])
        block = reg.chain.w3.eth.get_block(receipt["blockNumber"])
        assert reg.events(reg.trust, "AttestationFiled", receipt) == [
            {
                "digest": digest,
                "body": reg.addr("body"),
                "reportDigest": reports[index],
                "verdict": verdict,
                "index": index,
            }
        ]
        assert tuple(reg.call(reg.trust.functions.getAttestation(digest, index))) == (
            reg.addr("body"),
            reports[index],
            verdict,
            receipt["blockNumber"],
            block["timestamp"],
        )
    assert reg.call(reg.trust.functions.attestationCount(digest)) == 3
    assert reg.call(reg.trust.functions.attestationCount(random32())) == 0
    expect_revert(
        lambda: reg.call(reg.trust.functions.getAttestation(digest, 3)),
        "TrustRegistryUnknownAttestation",
        digest=digest,
        index=3,
    )


def test_zero_digests_cannot_be_attested(reg: Registries) -> None:
    for digest, report in ((ZERO32, random32()), (random32(), ZERO32)):
        fn = reg.trust.functions.attest(digest, report, 1)
        expect_revert(lambda f=fn: reg.tx(f, "body"), "TrustRegistryZeroDigest")
