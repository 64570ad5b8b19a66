"""AnchorRegistry names its TrustRegistry for ever, so pinning one address pins both."""

from __future__ import annotations

from typing import Any

import pytest

from anchoring.revert import ContractRevertError
from tests.contracts.support import ADMIN_DELAY_S, Registries


def test_anchor_registry_reports_the_trust_registry_it_was_deployed_with(reg: Registries) -> None:
    assert reg.chain.call(reg.anchor.functions.trustRegistry()) == reg.trust.address


def test_deployment_emits_the_link(reg: Registries, artifacts: dict[str, Any]) -> None:
    admin = reg.accounts["admin"]
    address, receipt = reg.chain.deploy(
        artifacts["AnchorRegistry"], ADMIN_DELAY_S, admin.address, reg.trust.address, sender=admin
    )
    contract = reg.chain.contract(artifacts["AnchorRegistry"], address)
    assert reg.events(contract, "TrustRegistryLinked", receipt) == [
        {"trustRegistry": reg.trust.address}
    ]


@pytest.mark.parametrize("target", ["stranger", "zero"])
def test_a_trust_registry_without_code_is_refused(
    reg: Registries, artifacts: dict[str, Any], target: str
) -> None:
    admin = reg.accounts["admin"]
    address = "0x" + "00" * 20 if target == "zero" else reg.accounts["stranger"].address
    with pytest.raises(ContractRevertError) as refused:
        reg.chain.deploy(
            artifacts["AnchorRegistry"], ADMIN_DELAY_S, admin.address, address, sender=admin
        )
    assert refused.value.error_name == "AnchorRegistryTrustRegistryNotAContract"
    assert refused.value.error_args["trustRegistry"].lower() == address.lower()
