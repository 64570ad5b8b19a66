"""A seeded campaign of single-byte mutations of a real anchored bundle: every mutated
bundle must be rejected, as FAIL (exit 1) or unreadable (exit 2), never verified, never
"not recomputed" and never indeterminate. The library runs in-process on py-evm with chain
reads cached, so the campaign measures the verifier, not the RPC. It runs on the bundle
with full views and on its public (redacted) form, whose hidden field hashes are as much
evidence as the disclosures.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.verifier.conftest import pins_for, reader_for
from tests.verifier.support import Ledger
from verifier.checks import verify_bundle

SEED = 20260401


@pytest.mark.slow
@pytest.mark.parametrize(
    ("audience", "mutations"),
    [(None, 1200), ("public", 1000)],
    ids=["full_views", "public_redacted_views"],
)
@pytest.mark.slow
def test_every_single_byte_mutation_is_rejected(
    memory_ledger: Ledger, audience: str | None, mutations: int
) -> None:
    data = memory_ledger.bundle_bytes(audience=audience, closure_audience=audience)
    reader = reader_for(memory_ledger)
    pins = pins_for(memory_ledger)
    # The public form hides the example figures' inputs: nothing fails, nothing verifies.
    unmutated = 0 if audience is None else 4
    assert verify_bundle(data, reader=reader, pins=pins).exit_code == unmutated
    rng = random.Random(SEED)
    outcomes: Counter[int] = Counter()
    caught_by: Counter[int] = Counter()
    survivors = []
    for n in range(mutations):
        pos = rng.randrange(len(data))
        byte = rng.choice([b for b in range(256) if b != data[pos]])
        mutated = data[:pos] + bytes([byte]) + data[pos + 1 :]
        v = verify_bundle(mutated, reader=reader, pins=pins)
        outcomes[v.exit_code] += 1
        failed = v.failures()
        if failed:
            caught_by[failed[0].number] += 1
        if v.exit_code not in (1, 2):
            survivors.append((n, pos, data[pos], byte, v.verdict))
    print(
        f"seed {SEED}: {mutations} mutations ({audience or 'full'} views), "
        f"exit codes {dict(outcomes)}, "
        f"first failing check {dict(caught_by)}"
    )
    assert survivors == [], f"seed {SEED}: mutations not rejected: {survivors[:10]}"
    assert outcomes[1] > 0  # some mutations got past parsing and were caught by a check
