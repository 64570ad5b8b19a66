"""AnchorRegistry: strict batch sequence, zero values, the running log hash, reads, events,
revocation (docs/FORMAT.md §4, docs/CONTRACTS.md), on py-evm and anvil."""

from __future__ import annotations

import pytest

from tests.contracts.support import (
    ZERO32,
    Registries,
    expect_revert,
    log_hash,
    random32,
)

CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def anchor_fn(reg: Registries, seq: int, root: bytes, count: int = 3, manifest: bytes = b""):
    return reg.anchor.functions.anchorBatch(seq, root, count, manifest or random32(), CID)


def test_fresh_registry_expects_batch_one_and_an_empty_log(reg: Registries) -> None:
    assert reg.call(reg.anchor.functions.nextSeq()) == 1
    assert reg.call(reg.anchor.functions.logHead()) == ZERO32
    for seq in (0, 1):
        expect_revert(
            lambda s=seq: reg.call(reg.anchor.functions.getBatch(s)),
            "AnchorRegistryUnknownBatch",
            seq=seq,
        )


def test_log_hash_matches_an_independent_computation_over_several_batches(
    reg: Registries,
) -> None:
    head = ZERO32
    for seq, count in enumerate((1, 7, 2**32 - 1, 3, 1000), start=1):
        root, manifest = random32(), random32()
        receipt = reg.tx(
            reg.anchor.functions.anchorBatch(seq, root, count, manifest, CID), "anchorer"
        )
        head = log_hash(head, seq, root, count, manifest)

        block = reg.chain.w3.eth.get_block(receipt["blockNumber"])
        batch = reg.call(reg.anchor.functions.getBatch(seq))
        assert batch == (root, count, manifest, receipt["blockNumber"], block["timestamp"], head)
        assert reg.call(reg.anchor.functions.logHead()) == head
        assert reg.call(reg.anchor.functions.nextSeq()) == seq + 1
        [event] = reg.events(reg.anchor, "BatchAnchored", receipt)
        assert event == {
            "seq": seq,
            "root": root,
            "leafCount": count,
            "manifestDigest": manifest,
            "manifestCid": CID,
            "logHash": head,
        }


@pytest.mark.parametrize(
    ("anchored", "seq", "expected"),
    [
        pytest.param(0, 0, 1, id="zero_seq"),
        pytest.param(0, 2, 1, id="gap_on_fresh_registry"),
        pytest.param(2, 4, 3, id="gap_after_two"),
        pytest.param(2, 2, 3, id="repeat_last"),
        pytest.param(2, 1, 3, id="overwrite_first"),
        pytest.param(1, 2**64 - 1, 2, id="max_seq"),
    ],
)
def test_out_of_sequence_batches_revert(
    reg: Registries, anchored: int, seq: int, expected: int
) -> None:
    roots = [random32() for _ in range(anchored)]
    for n, root in enumerate(roots, start=1):
        reg.tx(anchor_fn(reg, n, root), "anchorer")
    head_before = reg.call(reg.anchor.functions.logHead())

    expect_revert(
        lambda: reg.tx(anchor_fn(reg, seq, random32()), "anchorer"),
        "AnchorRegistryOutOfSequence",
        expected=expected,
        given=seq,
    )
    # Nothing moved: earlier batches keep their roots, the head and next seq are unchanged.
    for n, root in enumerate(roots, start=1):
        assert reg.call(reg.anchor.functions.getBatch(n))[0] == root
    assert reg.call(reg.anchor.functions.logHead()) == head_before
    assert reg.call(reg.anchor.functions.nextSeq()) == expected


@pytest.mark.parametrize(
    ("root", "count", "manifest", "error"),
    [
        pytest.param(ZERO32, 1, b"\x01" * 32, "AnchorRegistryZeroRoot", id="zero_root"),
        pytest.param(b"\x01" * 32, 0, b"\x01" * 32, "AnchorRegistryZeroLeafCount", id="no_leaves"),
        pytest.param(b"\x01" * 32, 1, ZERO32, "AnchorRegistryZeroManifestDigest", id="no_manifest"),
    ],
)
def test_zero_values_revert(
    reg: Registries, root: bytes, count: int, manifest: bytes, error: str
) -> None:
    fn = reg.anchor.functions.anchorBatch(1, root, count, manifest, CID)
    expect_revert(lambda: reg.tx(fn, "anchorer"), error)
    assert reg.call(reg.anchor.functions.nextSeq()) == 1


def test_anchor_gas_stays_low(reg: Registries) -> None:
    # Four fresh storage slots per batch (docs/CONTRACTS.md: the packed layout) plus the event;
    # the first batch also pays for the first write of the batch counter.
    first = reg.tx(anchor_fn(reg, 1, random32()), "anchorer")
    second = reg.tx(anchor_fn(reg, 2, random32()), "anchorer")
    print(f"anchorBatch gas: first {first['gasUsed']}, next {second['gasUsed']}")
    assert first["gasUsed"] < 150_000, first["gasUsed"]
    assert second["gasUsed"] < 130_000, second["gasUsed"]


def test_revocation_is_recorded_once_with_its_reason(reg: Registries) -> None:
    digest, why = random32(), random32()
    assert reg.call(reg.anchor.functions.getRevocation(digest)) == (0, ZERO32, 0, 0)

    receipt = reg.tx(reg.anchor.functions.revoke(digest, 7, why), "revoker")
    block = reg.chain.w3.eth.get_block(receipt["blockNumber"])
    assert reg.call(reg.anchor.functions.getRevocation(digest)) == (
        7,
        why,
        receipt["blockNumber"],
        block["timestamp"],
    )
    assert reg.events(reg.anchor, "DigestRevoked", receipt) == [
        {"digest": digest, "reasonCode": 7, "reasonDigest": why, "revoker": reg.addr("revoker")}
    ]
    expect_revert(
        lambda: reg.tx(reg.anchor.functions.revoke(digest, 9, random32()), "revoker"),
        "AnchorRegistryAlreadyRevoked",
        digest=digest,
    )
    assert reg.call(reg.anchor.functions.getRevocation(digest))[0] == 7


def test_revocation_zero_values_revert(reg: Registries) -> None:
    expect_revert(
        lambda: reg.tx(reg.anchor.functions.revoke(ZERO32, 1, ZERO32), "revoker"),
        "AnchorRegistryZeroDigest",
    )
    expect_revert(
        lambda: reg.tx(reg.anchor.functions.revoke(random32(), 0, ZERO32), "revoker"),
        "AnchorRegistryZeroReasonCode",
    )
