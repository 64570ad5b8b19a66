"""The default admin of both registries changes hands in two steps with a delay
(OpenZeppelin AccessControlDefaultAdminRules, docs/CONTRACTS.md §2): scheduled by the admin,
accepted by the heir only after the delay, announced by events; the old admin keeps nothing."""

from __future__ import annotations

import pytest

from tests.contracts.support import (
    ADMIN_DELAY_S,
    DEFAULT_ADMIN_ROLE,
    Registries,
    expect_revert,
    role_id,
)

CONTRACTS = ("anchor", "trust")


def _contract(reg: Registries, which: str):
    return reg.anchor if which == "anchor" else reg.trust


def _begin(reg: Registries, contract) -> int:
    receipt = reg.tx(contract.functions.beginDefaultAdminTransfer(reg.addr("heir")), "admin")
    began_at = reg.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    schedule = began_at + ADMIN_DELAY_S
    assert reg.events(contract, "DefaultAdminTransferScheduled", receipt) == [
        {"newAdmin": reg.addr("heir"), "acceptSchedule": schedule}
    ]
    assert tuple(reg.call(contract.functions.pendingDefaultAdmin())) == (reg.addr("heir"), schedule)
    return schedule


@pytest.mark.parametrize("which", CONTRACTS)
def test_hand_over_waits_for_the_delay_then_moves_the_role(reg: Registries, which: str) -> None:
    contract = _contract(reg, which)
    assert reg.call(contract.functions.defaultAdminDelay()) == ADMIN_DELAY_S
    schedule = _begin(reg, contract)
    accept = contract.functions.acceptDefaultAdminTransfer()

    expect_revert(
        lambda: reg.tx(accept, "heir"), "AccessControlEnforcedDefaultAdminDelay", schedule=schedule
    )
    expect_revert(
        lambda: reg.tx(accept, "stranger"),
        "AccessControlInvalidDefaultAdmin",
        defaultAdmin=reg.addr("stranger"),
    )
    # The admin role cannot be granted directly, bypassing the delay.
    grant_admin = contract.functions.grantRole(DEFAULT_ADMIN_ROLE, reg.addr("heir"))
    expect_revert(lambda: reg.tx(grant_admin, "admin"), "AccessControlEnforcedDefaultAdminRules")

    # OpenZeppelin accepts strictly after the schedule.
    reg.chain.advance_time(ADMIN_DELAY_S + 1)
    receipt = reg.tx(accept, "heir")
    assert reg.events(contract, "RoleRevoked", receipt) == [
        {"role": DEFAULT_ADMIN_ROLE, "account": reg.addr("admin"), "sender": reg.addr("heir")}
    ]
    assert reg.events(contract, "RoleGranted", receipt) == [
        {"role": DEFAULT_ADMIN_ROLE, "account": reg.addr("heir"), "sender": reg.addr("heir")}
    ]
    assert reg.call(contract.functions.defaultAdmin()) == reg.addr("heir")
    assert not reg.call(contract.functions.hasRole(DEFAULT_ADMIN_ROLE, reg.addr("admin")))

    duty = role_id("ANCHORER_ROLE" if which == "anchor" else "REGISTRAR_ROLE")
    grant = contract.functions.grantRole(duty, reg.addr("stranger"))
    expect_revert(
        lambda: reg.tx(grant, "admin"),
        "AccessControlUnauthorizedAccount",
        account=reg.addr("admin"),
        neededRole=DEFAULT_ADMIN_ROLE,
    )
    reg.tx(grant, "heir")
    assert reg.call(contract.functions.hasRole(duty, reg.addr("stranger")))


@pytest.mark.parametrize("which", CONTRACTS)
def test_cancelled_hand_over_cannot_be_accepted(reg: Registries, which: str) -> None:
    contract = _contract(reg, which)
    _begin(reg, contract)
    receipt = reg.tx(contract.functions.cancelDefaultAdminTransfer(), "admin")
    assert reg.events(contract, "DefaultAdminTransferCanceled", receipt) == [{}]
    reg.chain.advance_time(ADMIN_DELAY_S + 1)
    expect_revert(
        lambda: reg.tx(contract.functions.acceptDefaultAdminTransfer(), "heir"),
        "AccessControlInvalidDefaultAdmin",
        defaultAdmin=reg.addr("heir"),
    )
    assert reg.call(contract.functions.defaultAdmin()) == reg.addr("admin")
