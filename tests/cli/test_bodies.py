"""``carbonledger bodies accredit|withdraw|list`` against a deployment on anvil: the
accreditation is the TrustRegistry's (``getBody``, ``isAccredited``), the store mirrors
it, and ``list --region`` is the whitelist of a region."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_keys import Deployed, deployed, run

__all__ = ["deployed"]

BODY = "0x00000000000000000000000000000000000B0d1E"


@pytest.mark.anvil
def test_accredit_list_withdraw(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "bodies", "accredit", *deployed.args, "--json", "--address", BODY,
        "--name", "Example Verification Body (fictional)", "--accreditation-body", "CNAS",
        "--scope", "product carbon footprints", "--regions", "EU,GB",
        "--valid-from", "2025-01-01T00:00:00Z", "--valid-until", "2031-01-01T00:00:00Z",
    )  # fmt: skip
    assert code == 0, err
    (row,) = json.loads(out)["bodies"]
    assert row["regions"] == ["EU", "GB"] and row["withdrawn"] is False
    on_chain = deployed.chain.call(deployed.registry.functions.getBody(BODY))
    assert on_chain[0] == "Example Verification Body (fictional)"
    assert on_chain[1] == "ISO 14065:2020 / CNAS: product carbon footprints"
    assert on_chain[2] == "EU,GB"

    def listed(*extra: str) -> list[str]:
        code, out, err = run(capsys, "bodies", "list", *deployed.args, "--json", *extra)
        assert code == 0, err
        return [b["address"] for b in json.loads(out)["bodies"]]

    assert listed("--region", "EU") == [BODY] and listed("--region", "SEA") == []
    code, out, err = run(capsys, "bodies", "withdraw", *deployed.args, "--json",
                         "--address", BODY)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["bodies"][0]["withdrawn"] is True
    assert not deployed.chain.call(
        deployed.registry.functions.isAccredited(BODY, deployed.chain.latest_timestamp())
    )
    assert listed("--region", "EU") == [] and listed() == [BODY]
    # Withdrawing again is refused by the contract: exit 1 with its reason.
    code, _, err = run(capsys, "bodies", "withdraw", *deployed.args, "--address", BODY)
    assert code == 1 and "NotAccredited" in err


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "bodies", "accredit", "--address", "0x12", "--name", "x",
                       "--accreditation-body", "CNAS", "--scope", "s", "--regions", "EU",
                       "--valid-from", "2025-01-01T00:00:00Z",
                       "--valid-until", "2031-01-01T00:00:00Z")  # fmt: skip
    assert code == 2 and "EVM address" in err
