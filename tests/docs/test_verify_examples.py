"""The worked examples of docs/VERIFY.md, recomputed from the document's own text: the
numbers are read out of the markdown (a regular expression over the sentence that states
them), recomputed here with the libraries an independent implementer would use (eth-utils
keccak and pyrlp for a contract address, the verifier's own time mapping checked against
Python's calendar arithmetic), and compared with what the text says they are. An edit
that breaks an example, or a sentence that stops stating one, fails here.
"""

from __future__ import annotations

import calendar
import re
from pathlib import Path

import rlp
from eth_utils import keccak, to_checksum_address

from ledger.core.types import fields
from verifier.authority import chain_seconds

VERIFY = (Path(__file__).resolve().parents[2] / "docs" / "VERIFY.md").read_text("utf-8")
TEXT = " ".join(VERIFY.split())  # sentences wrap across lines


def _create_address(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def test_the_example_registry_addresses_follow_from_the_deployer_and_its_nonces() -> None:
    m = re.search(
        r"anvil's first account `(0x[0-9a-fA-F]{40})` at its nonce (\d+), "
        r"so at `(0x[0-9a-fA-F]{40})`.*?the AnchorRegistry, deployed after it, "
        r"is at nonce (\d+), `(0x[0-9a-fA-F]{40})`",
        TEXT,
    )
    assert m, "VERIFY.md §4 no longer states how the example addresses are derived"
    sender, trust_nonce, trust, anchor_nonce, anchor = m.groups()
    assert _create_address(sender, int(trust_nonce)) == trust
    assert _create_address(sender, int(anchor_nonce)) == anchor
    # ... and every example in the guide pins them that way round.
    assert f"--registry {anchor}" in TEXT
    assert f'"anchor_registry": "{anchor}"' in TEXT and f'"trust_registry": "{trust}"' in TEXT
    assert f'"anchor_registry": "{trust}"' not in TEXT


def test_the_issued_at_example_is_its_whole_second() -> None:
    m = re.search(r"`(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)Z)` is (\d+), inside a window", TEXT)
    assert m, "VERIFY.md §4 no longer states the issued_at example"
    stamp, fraction, seconds = m.groups()
    assert len(fraction) == 9  # the longest fraction RECORDS.md allows
    year, month, day, hour, minute, second = (int(x) for x in re.split(r"[-T:.]", stamp)[:6])
    whole = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    assert whole == int(seconds)
    assert chain_seconds(fields.timestamp(stamp, "issued_at")) == int(seconds)
