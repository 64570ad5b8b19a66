"""Every role x function cell of both registries, generated from one table (docs/CONTRACTS.md
§2: one role per duty): the holder of the duty succeeds and emits its event;
every other account (the admin, the holders of the other duties, a stranger) reverts with
the named error and its arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.support import (
    DEFAULT_ADMIN_ROLE,
    Registries,
    expect_revert,
    random32,
    role_id,
    sha256,
)

ADMIN = DEFAULT_ADMIN_ROLE
ANCHORER = role_id("ANCHORER_ROLE")
REVOKER = role_id("REVOKER_ROLE")
KEY_ADMIN = role_id("KEY_ADMIN_ROLE")
REGISTRAR = role_id("REGISTRAR_ROLE")
CALLERS = ("admin", "anchorer", "revoker", "key_admin", "registrar", "body", "stranger")


@dataclass(frozen=True)
class Duty:
    contract: str  # "anchor" or "trust"
    function: str
    holder: str  # the account allowed to call it
    role: bytes | None  # the role id checked, None when it is an accreditation check
    args: Callable[[Registries], tuple[Any, ...]]
    event: str


def _new_key(reg: Registries) -> tuple[Any, ...]:
    public = random32()
    return (sha256(public), public, sha256(b"producer"), 0, 2**40)


def _rotation(reg: Registries) -> tuple[Any, ...]:
    public = random32()
    return (reg.key_id, sha256(public), public, reg.now(), 2**40)


def _supersession(reg: Registries) -> tuple[Any, ...]:
    """A one-record batch anchored first, so the successor proof (empty) holds."""
    successor = random32()
    root = keccak(keccak(encode(["bytes32"], [successor])))
    reg.tx(reg.anchor.functions.anchorBatch(1, root, 1, random32(), "cid"), "anchorer")
    return (random32(), successor, 1, [])


def _terminal_key(reg: Registries) -> tuple[Any, ...]:
    public = random32()
    return (sha256(public), 1, public, b"", sha256(b"88.118.8/TM-PV-01"), 0, 2**40)


def _registered_terminal(reg: Registries) -> bytes:
    key = _terminal_key(reg)
    reg.tx(reg.trust.functions.registerTerminalKey(*key), "key_admin")
    return bytes(key[0])


def _granted_point(reg: Registries) -> tuple[Any, ...]:
    key_id = _registered_terminal(reg)
    reg.tx(reg.trust.functions.grantMeteringPoint(key_id, "88.118.8/MP-PV-01"), "registrar")
    return (key_id, "88.118.8/MP-PV-01")


def _granted_type(reg: Registries) -> tuple[Any, ...]:
    reg.tx(reg.trust.functions.grantRecordType(reg.key_id, "factor-set"), "registrar")
    return (reg.key_id, "factor-set")


DUTIES = (
    Duty("anchor", "anchorBatch", "anchorer", ANCHORER,
         lambda r: (1, random32(), 4, random32(), "bafkrei"), "BatchAnchored"),
    Duty("anchor", "revoke", "revoker", REVOKER,
         lambda r: (random32(), 1, random32()), "DigestRevoked"),
    Duty("anchor", "markSuperseded", "anchorer", ANCHORER, _supersession, "DigestSuperseded"),
    Duty("anchor", "grantRole", "admin", ADMIN,
         lambda r: (role_id("ANCHORER_ROLE"), r.addr("stranger")), "RoleGranted"),
    Duty("anchor", "revokeRole", "admin", ADMIN,
         lambda r: (role_id("ANCHORER_ROLE"), r.addr("anchorer")), "RoleRevoked"),
    Duty("anchor", "beginDefaultAdminTransfer", "admin", ADMIN,
         lambda r: (r.addr("heir"),), "DefaultAdminTransferScheduled"),
    Duty("anchor", "changeDefaultAdminDelay", "admin", ADMIN,
         lambda r: (7200,), "DefaultAdminDelayChangeScheduled"),
    Duty("trust", "registerKey", "key_admin", KEY_ADMIN, _new_key, "KeyRegistered"),
    Duty("trust", "rotateKey", "key_admin", KEY_ADMIN, _rotation, "KeyRotated"),
    Duty("trust", "revokeKey", "key_admin", KEY_ADMIN,
         lambda r: (r.key_id, 0), "KeyRevoked"),
    Duty("trust", "accreditBody", "registrar", REGISTRAR,
         lambda r: (r.addr("heir"), "B", "ISO 14065", "EU", 0, 2**40), "BodyAccredited"),
    Duty("trust", "withdrawAccreditation", "registrar", REGISTRAR,
         lambda r: (r.addr("body"),), "AccreditationWithdrawn"),
    Duty("trust", "grantRecordType", "registrar", REGISTRAR,
         lambda r: (r.key_id, "carbon-record"), "RecordTypeGranted"),
    Duty("trust", "withdrawRecordType", "registrar", REGISTRAR, _granted_type,
         "RecordTypeWithdrawn"),
    Duty("trust", "registerTerminalKey", "key_admin", KEY_ADMIN, _terminal_key,
         "TerminalKeyRegistered"),
    Duty("trust", "revokeTerminalKey", "key_admin", KEY_ADMIN,
         lambda r: (_registered_terminal(r), 0), "TerminalKeyRevoked"),
    Duty("trust", "grantMeteringPoint", "registrar", REGISTRAR,
         lambda r: (_registered_terminal(r), "88.118.8/MP-PV-01"), "MeteringPointGranted"),
    Duty("trust", "withdrawMeteringPoint", "registrar", REGISTRAR, _granted_point,
         "MeteringPointWithdrawn"),
    Duty("trust", "attest", "body", None,
         lambda r: (random32(), random32(), 1), "AttestationFiled"),
    Duty("trust", "grantRole", "admin", ADMIN,
         lambda r: (role_id("REGISTRAR_ROLE"), r.addr("stranger")), "RoleGranted"),
    Duty("trust", "revokeRole", "admin", ADMIN,
         lambda r: (role_id("KEY_ADMIN_ROLE"), r.addr("key_admin")), "RoleRevoked"),
    Duty("trust", "beginDefaultAdminTransfer", "admin", ADMIN,
         lambda r: (r.addr("heir"),), "DefaultAdminTransferScheduled"),
)  # fmt: skip

CELLS = [
    pytest.param(duty, caller, id=f"{duty.contract}.{duty.function}-{caller}")
    for duty in DUTIES
    for caller in CALLERS
]


def test_role_constants_are_the_hashes_of_their_names(reg: Registries) -> None:
    for contract, names in ((reg.anchor, ("ANCHORER_ROLE", "REVOKER_ROLE")),
                            (reg.trust, ("KEY_ADMIN_ROLE", "REGISTRAR_ROLE"))):  # fmt: skip
        for name in names:
            assert reg.call(getattr(contract.functions, name)()) == role_id(name)
        assert reg.call(contract.functions.DEFAULT_ADMIN_ROLE()) == DEFAULT_ADMIN_ROLE
        assert reg.call(contract.functions.defaultAdmin()) == reg.addr("admin")


@pytest.mark.parametrize(("duty", "caller"), CELLS)
def test_role_cell(reg: Registries, duty: Duty, caller: str) -> None:
    contract = reg.anchor if duty.contract == "anchor" else reg.trust
    fn = getattr(contract.functions, duty.function)(*duty.args(reg))
    if caller == duty.holder:
        receipt = reg.tx(fn, caller)
        assert receipt["status"] == 1
        assert len(reg.events(contract, duty.event, receipt)) == 1
    elif duty.role is None:
        expect_revert(
            lambda: reg.tx(fn, caller), "TrustRegistryNotAccredited", body=reg.addr(caller)
        )
    else:
        expect_revert(
            lambda: reg.tx(fn, caller),
            "AccessControlUnauthorizedAccount",
            account=reg.addr(caller),
            neededRole=duty.role,
        )
