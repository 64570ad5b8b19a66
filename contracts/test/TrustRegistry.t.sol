// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TrustRegistry} from "../TrustRegistry.sol";
import {TestBase} from "./TestBase.sol";

contract TrustRegistryTest is TestBase {
    TrustRegistry internal reg;
    address internal constant KEY_ADMIN = address(0x4E7);
    address internal constant REGISTRAR = address(0x2E6);
    address internal constant BODY = address(0xB0D7);
    bytes32 internal constant PRODUCER = keccak256("producer");
    uint64 internal constant T0 = 1_700_000_000;

    function setUp() public {
        reg = new TrustRegistry(1 days, ADMIN);
        bytes32 keyAdmin = reg.KEY_ADMIN_ROLE();
        bytes32 registrar = reg.REGISTRAR_ROLE();
        vm.prank(ADMIN);
        reg.grantRole(keyAdmin, KEY_ADMIN);
        vm.prank(ADMIN);
        reg.grantRole(registrar, REGISTRAR);
        vm.warp(T0);
    }

    function _register(bytes32 pk, uint64 from, uint64 until) internal returns (bytes32 keyId) {
        keyId = sha256(abi.encodePacked(pk));
        vm.prank(KEY_ADMIN);
        reg.registerKey(keyId, pk, PRODUCER, from, until);
    }

    function _accredit(address body, uint64 from, uint64 until) internal {
        vm.prank(REGISTRAR);
        reg.accreditBody(body, "Body", "ISO 14065", "EU,GB", from, until);
    }

    function _expectedValid(TrustRegistry.ProducerKey memory k, uint64 t)
        internal
        pure
        returns (bool)
    {
        return k.validFrom <= t && t < k.validUntil && (k.revokedAt == 0 || t < k.revokedAt);
    }

    function testFuzzKeyValidityWindow(bytes32 pk, uint64 from, uint64 until, uint64 t) public {
        vm.assume(pk != bytes32(0) && from < until);
        bytes32 keyId = _register(pk, from, until);
        TrustRegistry.ProducerKey memory k = reg.getKey(keyId);
        require(k.publicKey == pk && k.producerId == PRODUCER && k.revokedAt == 0, "stored");
        require(reg.isKeyValidAt(keyId, t) == (from <= t && t < until), "window");
        require(reg.isKeyValidAt(keyId, from) && reg.isKeyValidAt(keyId, until - 1), "edges in");
        require(!reg.isKeyValidAt(keyId, until), "validUntil is exclusive");
    }

    function testFuzzRegisterRejectsWrongKeyId(bytes32 pk, bytes32 keyId) public {
        bytes32 expected = sha256(abi.encodePacked(pk));
        vm.assume(pk != bytes32(0) && keyId != expected);
        bytes memory call = abi.encodeCall(reg.registerKey, (keyId, pk, PRODUCER, 0, 1));
        _expectRevert(KEY_ADMIN, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryKeyIdMismatch.selector, expected, keyId));
    }

    function testFuzzRevocationCutsTheWindow(uint64 from, uint64 until, uint64 effectiveAt, uint64 t)
        public
    {
        vm.assume(from < until && effectiveAt <= T0);
        bytes32 keyId = _register(keccak256("pk"), from, until);
        vm.prank(KEY_ADMIN);
        reg.revokeKey(keyId, effectiveAt);
        TrustRegistry.ProducerKey memory k = reg.getKey(keyId);
        require(k.revokedAt == (effectiveAt == 0 ? T0 : effectiveAt), "revokedAt");
        require(reg.isKeyValidAt(keyId, t) == _expectedValid(k, t), "validity");
        // Moving the cut-off later (or repeating it) is refused; only earlier is allowed.
        bytes memory call = abi.encodeCall(reg.revokeKey, (keyId, k.revokedAt));
        _expectRevert(KEY_ADMIN, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryKeyRevoked.selector, keyId));
    }

    function testFuzzRevocationInTheFutureReverts(uint64 effectiveAt) public {
        vm.assume(effectiveAt > T0);
        bytes32 keyId = _register(keccak256("pk"), 0, type(uint64).max);
        bytes memory call = abi.encodeCall(reg.revokeKey, (keyId, effectiveAt));
        _expectRevert(KEY_ADMIN, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryRevocationInFuture.selector, effectiveAt, T0));
    }

    function testFuzzRotationClosesTheOldWindow(uint64 oldUntil, uint64 newFrom, uint64 newUntil)
        public
    {
        vm.assume(oldUntil > 10 && newFrom < newUntil);
        bytes32 oldId = _register(keccak256("old"), 10, oldUntil);
        bytes32 newPk = keccak256("new");
        bytes32 newId = sha256(abi.encodePacked(newPk));
        vm.prank(KEY_ADMIN);
        reg.rotateKey(oldId, newId, newPk, newFrom, newUntil);
        TrustRegistry.ProducerKey memory o = reg.getKey(oldId);
        TrustRegistry.ProducerKey memory n = reg.getKey(newId);
        require(o.validUntil == (newFrom < oldUntil ? newFrom : oldUntil), "old window closed");
        require(n.producerId == PRODUCER && n.validFrom == newFrom && n.validUntil == newUntil, "new");
        // The two windows never overlap.
        require(!(reg.isKeyValidAt(oldId, newFrom) && reg.isKeyValidAt(newId, newFrom)), "overlap");
    }

    function testRotatingARevokedKeyReverts() public {
        bytes32 oldId = _register(keccak256("old"), 0, T0 * 2);
        vm.prank(KEY_ADMIN);
        reg.revokeKey(oldId, 0);
        bytes32 newPk = keccak256("new");
        bytes memory call = abi.encodeCall(
            reg.rotateKey, (oldId, sha256(abi.encodePacked(newPk)), newPk, T0, T0 * 2));
        _expectRevert(KEY_ADMIN, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryKeyRevoked.selector, oldId));
    }

    function testFuzzOnlyKeyAdminManagesKeys(address caller) public {
        vm.assume(caller != KEY_ADMIN && !_isCheatOrPrecompile(caller));
        bytes32 pk = keccak256("pk");
        bytes memory call = abi.encodeCall(
            reg.registerKey, (sha256(abi.encodePacked(pk)), pk, PRODUCER, 0, 1));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.KEY_ADMIN_ROLE()));
    }

    function testFuzzRecordTypeGrantWindow(uint64 grantAt, uint64 withdrawAt, uint64 t) public {
        vm.assume(grantAt > 0 && withdrawAt > grantAt);
        bytes32 keyId = _register(keccak256("pk"), 0, type(uint64).max);
        vm.warp(grantAt);
        vm.prank(REGISTRAR);
        reg.grantRecordType(keyId, "factor-set");
        require(reg.isTypeGrantedAt(keyId, "factor-set", t) == (t >= grantAt), "granted");
        require(!reg.isTypeGrantedAt(keyId, "region-rule", t), "other type");
        vm.warp(withdrawAt);
        vm.prank(REGISTRAR);
        reg.withdrawRecordType(keyId, "factor-set");
        TrustRegistry.RecordTypeGrant memory g = reg.getRecordTypeGrant(keyId, "factor-set");
        require(g.grantedAt == grantAt && g.withdrawnAt == withdrawAt, "grant fields");
        require(reg.isTypeGrantedAt(keyId, "factor-set", t) == (grantAt <= t && t < withdrawAt),
            "window");
        require(reg.recordTypesOf(keyId).length == 1, "names");
    }

    function testRecordTypeRefusals() public {
        bytes32 keyId = _register(keccak256("pk"), 0, T0 * 2);
        address r = address(reg);
        _expectRevert(REGISTRAR, r, abi.encodeCall(reg.grantRecordType, (keyId, "")),
            abi.encodeWithSelector(TrustRegistry.TrustRegistryInvalidRecordType.selector, ""));
        _expectRevert(REGISTRAR, r, abi.encodeCall(reg.withdrawRecordType, (keyId, "x")),
            abi.encodeWithSelector(
                TrustRegistry.TrustRegistryRecordTypeNotGranted.selector, keyId, "x"));
        vm.prank(REGISTRAR);
        reg.grantRecordType(keyId, "x");
        _expectRevert(REGISTRAR, r, abi.encodeCall(reg.grantRecordType, (keyId, "x")),
            abi.encodeWithSelector(
                TrustRegistry.TrustRegistryRecordTypeAlreadyGranted.selector, keyId, "x"));
        bytes32 unknown = keccak256("unknown");
        _expectRevert(REGISTRAR, r, abi.encodeCall(reg.grantRecordType, (unknown, "x")),
            abi.encodeWithSelector(TrustRegistry.TrustRegistryUnknownKey.selector, unknown));
        vm.prank(KEY_ADMIN);
        reg.revokeKey(keyId, 0);
        _expectRevert(REGISTRAR, r, abi.encodeCall(reg.grantRecordType, (keyId, "y")),
            abi.encodeWithSelector(TrustRegistry.TrustRegistryKeyRevoked.selector, keyId));
    }

    function testFuzzOnlyRegistrarGrantsTypes(address caller) public {
        vm.assume(caller != REGISTRAR && !_isCheatOrPrecompile(caller));
        bytes32 keyId = _register(keccak256("pk"), 0, T0 * 2);
        bytes memory call = abi.encodeCall(reg.grantRecordType, (keyId, "factor-set"));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.REGISTRAR_ROLE()));
    }

    function testRotationCarriesCurrentTypes() public {
        bytes32 oldId = _register(keccak256("old"), 0, T0 * 2);
        vm.prank(REGISTRAR);
        reg.grantRecordType(oldId, "factor-set");
        vm.prank(REGISTRAR);
        reg.grantRecordType(oldId, "region-rule");
        vm.prank(REGISTRAR);
        reg.withdrawRecordType(oldId, "region-rule");
        bytes32 newPk = keccak256("new");
        bytes32 newId = sha256(abi.encodePacked(newPk));
        vm.warp(T0 + 100);
        vm.prank(KEY_ADMIN);
        reg.rotateKey(oldId, newId, newPk, T0 + 100, T0 * 2);
        require(reg.isTypeGrantedAt(newId, "factor-set", T0 + 100), "carried");
        require(!reg.isTypeGrantedAt(newId, "factor-set", T0 + 99), "from the rotation on");
        require(!reg.isTypeGrantedAt(newId, "region-rule", T0 + 100), "withdrawn not carried");
    }

    function testFuzzKeyRevocationRecordsItsBlockTime(uint64 backdate) public {
        vm.assume(backdate < T0);
        bytes32 keyId = _register(keccak256("pk"), 0, type(uint64).max);
        vm.roll(500);
        vm.prank(KEY_ADMIN);
        reg.revokeKey(keyId, T0 - backdate);
        TrustRegistry.KeyRevocation memory rv = reg.getKeyRevocation(keyId);
        require(rv.effectiveAt == T0 - backdate, "effective");
        require(rv.recordedAt == T0 && rv.recordedBlock == 500, "recorded");
    }

    function testFuzzOnlyAccreditedBodiesAttest(uint64 from, uint64 until, uint64 when) public {
        vm.assume(from < until && when > 0);
        _accredit(BODY, from, until);
        vm.warp(when);
        bytes memory call = abi.encodeCall(reg.attest, (keccak256("d"), keccak256("r"), 1));
        if (from <= when && when < until) {
            _expectOk(BODY, address(reg), call);
            require(reg.attestationCount(keccak256("d")) == 1, "filed");
        } else {
            _expectRevert(BODY, address(reg), call, abi.encodeWithSelector(
                TrustRegistry.TrustRegistryNotAccredited.selector, BODY));
        }
    }

    function testWithdrawnBodyCannotAttest() public {
        _accredit(BODY, 0, T0 * 2);
        vm.prank(REGISTRAR);
        reg.withdrawAccreditation(BODY);
        require(reg.getBody(BODY).withdrawn && !reg.isAccredited(BODY, T0), "withdrawn");
        bytes memory call = abi.encodeCall(reg.attest, (keccak256("d"), keccak256("r"), 1));
        _expectRevert(BODY, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryNotAccredited.selector, BODY));
        _accredit(BODY, 0, T0 * 2);
        _expectOk(BODY, address(reg), call);
    }

    function testFuzzVerdictBounds(uint8 verdict) public {
        _accredit(BODY, 0, T0 * 2);
        bytes32 d = keccak256("d");
        bytes memory call = abi.encodeCall(reg.attest, (d, keccak256("r"), verdict));
        if (verdict >= 1 && verdict <= 3) {
            _expectOk(BODY, address(reg), call);
            TrustRegistry.Attestation memory a = reg.getAttestation(d, 0);
            require(a.body == BODY && a.verdict == verdict && a.timestamp == T0, "attestation");
        } else {
            _expectRevert(BODY, address(reg), call, abi.encodeWithSelector(
                TrustRegistry.TrustRegistryInvalidVerdict.selector, verdict));
        }
    }

    function testFuzzOnlyRegistrarAccredits(address caller) public {
        vm.assume(caller != REGISTRAR && !_isCheatOrPrecompile(caller));
        bytes memory call = abi.encodeCall(reg.accreditBody, (BODY, "B", "S", "EU", 0, 1));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.REGISTRAR_ROLE()));
    }

    // ------------------------------------------------------------ terminal keys (version 3)

    bytes32 internal constant TERMINAL = keccak256("88.118.8/TM-GRID-01");

    function _sm2Key(bytes32 x, bytes32 y) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x04), x, y);
    }

    function _registerTerminal(bytes memory pk, uint64 from, uint64 until)
        internal
        returns (bytes32 keyId)
    {
        keyId = sha256(pk);
        vm.prank(KEY_ADMIN);
        reg.registerTerminalKey(keyId, 2, pk, "1234567812345678", TERMINAL, from, until);
    }

    function testFuzzTerminalKeyWindowAndRevocation(
        bytes32 x,
        uint64 from,
        uint64 until,
        uint64 effectiveAt,
        uint64 t
    ) public {
        vm.assume(from < until && effectiveAt <= T0);
        bytes memory pk = _sm2Key(x, keccak256(abi.encode(x)));
        bytes32 keyId = _registerTerminal(pk, from, until);
        TrustRegistry.TerminalKey memory k = reg.getTerminalKey(keyId);
        require(k.scheme == 2 && keccak256(k.publicKey) == keccak256(pk), "stored key");
        require(k.terminalId == TERMINAL && k.revokedAt == 0, "stored terminal");
        require(reg.isTerminalKeyValidAt(keyId, t) == (from <= t && t < until), "window");
        vm.prank(KEY_ADMIN);
        reg.revokeTerminalKey(keyId, effectiveAt);
        uint64 cut = effectiveAt == 0 ? T0 : effectiveAt;
        require(reg.getTerminalKey(keyId).revokedAt == cut, "revokedAt");
        require(reg.isTerminalKeyValidAt(keyId, t) == (from <= t && t < until && t < cut), "cut");
        require(reg.getTerminalKeyRevocation(keyId).recordedAt == T0, "recorded");
    }

    function testFuzzTerminalKeyIdIsTheSha256OfTheKey(bytes32 x, bytes32 keyId) public {
        bytes memory pk = _sm2Key(x, x);
        bytes32 expected = sha256(pk);
        vm.assume(keyId != expected);
        bytes memory call = abi.encodeCall(
            reg.registerTerminalKey, (keyId, 2, pk, bytes("id"), TERMINAL, 0, 1));
        _expectRevert(KEY_ADMIN, address(reg), call, abi.encodeWithSelector(
            TrustRegistry.TrustRegistryKeyIdMismatch.selector, expected, keyId));
    }

    function testFuzzMeteringPointGrantWindow(uint64 grantAt, uint64 withdrawAt, uint64 t) public {
        vm.assume(grantAt > 0 && withdrawAt > grantAt);
        bytes32 keyId = _registerTerminal(_sm2Key("x", "y"), 0, type(uint64).max);
        vm.warp(grantAt);
        vm.prank(REGISTRAR);
        reg.grantMeteringPoint(keyId, "88.118.8/MP-GRID-01");
        require(reg.isMeteringPointGrantedAt(keyId, "88.118.8/MP-GRID-01", t) == (t >= grantAt),
            "granted");
        require(!reg.isMeteringPointGrantedAt(keyId, "88.118.8/MP-GAS-01", t), "other point");
        vm.warp(withdrawAt);
        vm.prank(REGISTRAR);
        reg.withdrawMeteringPoint(keyId, "88.118.8/MP-GRID-01");
        require(reg.isMeteringPointGrantedAt(keyId, "88.118.8/MP-GRID-01", t)
            == (grantAt <= t && t < withdrawAt), "window");
    }

    function testATerminalKeyHoldsAtMostTheMaximumOfMeteringPoints() public {
        bytes32 keyId = _registerTerminal(_sm2Key("x", "y"), 0, type(uint64).max);
        for (uint256 i = 0; i < reg.MAX_METERING_POINTS(); i++) {
            vm.prank(REGISTRAR);
            reg.grantMeteringPoint(keyId, string(abi.encodePacked("1.2.156.", bytes32(i))));
        }
        require(reg.meteringPointsOf(keyId).length == 256, "all granted");
        _expectRevert(REGISTRAR, address(reg), abi.encodeCall(
            reg.grantMeteringPoint, (keyId, "one-too-many")), abi.encodeWithSelector(
            TrustRegistry.TrustRegistryTooManyMeteringPoints.selector, keyId));
    }

    function testFuzzOnlyKeyAdminRegistersTerminals(address caller) public {
        vm.assume(caller != KEY_ADMIN && !_isCheatOrPrecompile(caller));
        bytes memory pk = _sm2Key("x", "y");
        bytes memory call = abi.encodeCall(
            reg.registerTerminalKey, (sha256(pk), 2, pk, bytes("id"), TERMINAL, 0, 1));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.KEY_ADMIN_ROLE()));
    }

    function testFuzzOnlyRegistrarGrantsMeteringPoints(address caller) public {
        vm.assume(caller != REGISTRAR && !_isCheatOrPrecompile(caller));
        bytes32 keyId = _registerTerminal(_sm2Key("x", "y"), 0, T0 * 2);
        bytes memory call = abi.encodeCall(reg.grantMeteringPoint, (keyId, "88.118.8/MP-1"));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.REGISTRAR_ROLE()));
    }
}
