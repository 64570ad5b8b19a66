// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AnchorRegistry} from "../AnchorRegistry.sol";
import {TrustRegistry} from "../TrustRegistry.sol";
import {TestBase} from "./TestBase.sol";

contract AnchorRegistryTest is TestBase {
    AnchorRegistry internal reg;
    address internal constant ANCHORER = address(0xA2C);
    address internal constant REVOKER = address(0x2E7);

    function setUp() public {
        reg = new AnchorRegistry(3 days, ADMIN, address(new TrustRegistry(3 days, ADMIN)));
        // Role ids are read before pranking: a prank applies to the very next call.
        bytes32 anchorer = reg.ANCHORER_ROLE();
        bytes32 revoker = reg.REVOKER_ROLE();
        vm.prank(ADMIN);
        reg.grantRole(anchorer, ANCHORER);
        vm.prank(ADMIN);
        reg.grantRole(revoker, REVOKER);
    }

    function _anchor(uint64 seq, bytes32 root, uint32 count, bytes32 manifest) internal {
        vm.prank(ANCHORER);
        reg.anchorBatch(seq, root, count, manifest, "bafkreiexample");
    }

    function _leaf(bytes32 digest) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(digest))));
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function testFreshRegistry() public {
        require(reg.nextSeq() == 1, "nextSeq");
        require(reg.logHead() == bytes32(0), "logHead");
        require(reg.defaultAdmin() == ADMIN, "admin");
        bytes memory call0 = abi.encodeCall(reg.getBatch, (0));
        _expectRevert(STRANGER, address(reg), call0, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryUnknownBatch.selector, uint64(0)));
        bytes memory call1 = abi.encodeCall(reg.getBatch, (1));
        _expectRevert(STRANGER, address(reg), call1, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryUnknownBatch.selector, uint64(1)));
    }

    function testFuzzLogHashChainsEveryBatch(bytes32[4] memory roots, uint32[4] memory counts)
        public
    {
        bytes32 head;
        for (uint64 i = 0; i < 4; i++) {
            vm.assume(roots[i] != bytes32(0) && counts[i] != 0);
            bytes32 manifest = keccak256(abi.encode("manifest", i));
            vm.warp(1_700_000_000 + i * 60);
            vm.roll(100 + i);
            _anchor(i + 1, roots[i], counts[i], manifest);
            head = keccak256(abi.encode(head, i + 1, roots[i], counts[i], manifest));
            AnchorRegistry.Batch memory b = reg.getBatch(i + 1);
            require(b.root == roots[i] && b.leafCount == counts[i], "batch fields");
            require(b.manifestDigest == manifest && b.logHash == head, "batch hashes");
            require(b.timestamp == 1_700_000_000 + i * 60 && b.blockNumber == 100 + i, "batch time");
            require(reg.logHead() == head && reg.nextSeq() == i + 2, "head");
        }
    }

    function testFuzzOnlyTheNextSeqIsAccepted(uint64 seq) public {
        bytes32 m = keccak256("m");
        vm.assume(seq != 1);
        bytes memory call = abi.encodeCall(reg.anchorBatch, (seq, bytes32(uint256(1)), 1, m, ""));
        _expectRevert(ANCHORER, address(reg), call, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryOutOfSequence.selector, uint64(1), seq));
        _anchor(1, bytes32(uint256(1)), 1, m);
        // A repeat of seq 1 (an overwrite attempt) and any gap are both out of sequence.
        vm.assume(seq != 2);
        call = abi.encodeCall(reg.anchorBatch, (seq, bytes32(uint256(2)), 1, m, ""));
        _expectRevert(ANCHORER, address(reg), call, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryOutOfSequence.selector, uint64(2), seq));
        call = abi.encodeCall(reg.anchorBatch, (1, bytes32(uint256(2)), 1, m, ""));
        _expectRevert(ANCHORER, address(reg), call, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryOutOfSequence.selector, uint64(2), uint64(1)));
        require(reg.getBatch(1).root == bytes32(uint256(1)), "batch 1 unchanged");
    }

    function testZeroFieldsRevert() public {
        bytes32 m = keccak256("m");
        address r = address(reg);
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.anchorBatch, (1, bytes32(0), 1, m, "")),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroRoot.selector));
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.anchorBatch, (1, m, 0, m, "")),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroLeafCount.selector));
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.anchorBatch, (1, m, 1, bytes32(0), "")),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroManifestDigest.selector));
    }

    function testFuzzOnlyAnchorerAnchors(address caller) public {
        vm.assume(caller != ANCHORER && !_isCheatOrPrecompile(caller));
        bytes32 m = keccak256("m");
        bytes memory call = abi.encodeCall(reg.anchorBatch, (1, m, 1, m, ""));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.ANCHORER_ROLE()));
    }

    function testFuzzInclusion(bytes32 a, bytes32 b, bytes32 c) public {
        vm.assume(a != b && b != c && a != c);
        // Three leaves, shaped as OpenZeppelin's MerkleProof reads any sorted-pair tree.
        bytes32 ab = _pair(_leaf(a), _leaf(b));
        bytes32 root = _pair(ab, _leaf(c));
        _anchor(1, root, 3, keccak256("m"));
        _anchor(2, _pair(_leaf(a), _leaf(b)), 2, keccak256("m2"));

        bytes32[] memory proofA = new bytes32[](2);
        proofA[0] = _leaf(b);
        proofA[1] = _leaf(c);
        bytes32[] memory proofC = new bytes32[](1);
        proofC[0] = ab;
        require(reg.verifyInclusion(1, proofA, a), "a in batch 1");
        require(reg.verifyInclusion(1, proofC, c), "c in batch 1");

        require(!reg.verifyInclusion(1, proofA, b), "proof_for_other_record");
        require(!reg.verifyInclusion(2, proofA, a), "proof_against_other_batch");
        // An inner node handed in as if it were a record digest: the contract hashes it as a
        // leaf, so the one-element proof that leads from `ab` to the root no longer does.
        require(!reg.verifyInclusion(1, proofC, ab), "leaf_presented_as_node");
        bytes32[] memory truncated = new bytes32[](1);
        truncated[0] = proofA[0];
        require(!reg.verifyInclusion(1, truncated, a), "truncated_proof");
        proofA[1] = proofA[1] ^ bytes32(uint256(1));
        require(!reg.verifyInclusion(1, proofA, a), "tampered_path_element");
    }

    function testFuzzInclusionUnknownBatchReverts(uint64 seq) public {
        vm.assume(seq != 1);
        _anchor(1, keccak256("r"), 1, keccak256("m"));
        bytes memory call = abi.encodeCall(reg.verifyInclusion, (seq, new bytes32[](0), keccak256("d")));
        _expectRevert(STRANGER, address(reg), call, abi.encodeWithSelector(
            AnchorRegistry.AnchorRegistryUnknownBatch.selector, seq));
    }

    function testFuzzRevokeOnce(bytes32 digest, uint16 code, bytes32 why) public {
        vm.assume(digest != bytes32(0) && code != 0);
        vm.warp(1_800_000_000);
        require(reg.getRevocation(digest).reasonCode == 0, "not yet revoked");
        vm.prank(REVOKER);
        reg.revoke(digest, code, why);
        AnchorRegistry.Revocation memory rv = reg.getRevocation(digest);
        require(rv.reasonCode == code && rv.reasonDigest == why, "revocation fields");
        require(rv.timestamp == 1_800_000_000 && rv.blockNumber == block.number, "revocation time");
        _expectRevert(REVOKER, address(reg), abi.encodeCall(reg.revoke, (digest, code, why)),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryAlreadyRevoked.selector, digest));
    }

    function testRevokeZeroValues() public {
        address r = address(reg);
        _expectRevert(REVOKER, r, abi.encodeCall(reg.revoke, (bytes32(0), 1, bytes32(0))),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroDigest.selector));
        _expectRevert(REVOKER, r, abi.encodeCall(reg.revoke, (keccak256("d"), 0, bytes32(0))),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroReasonCode.selector));
    }

    function testFuzzOnlyRevokerRevokes(address caller) public {
        vm.assume(caller != REVOKER && !_isCheatOrPrecompile(caller));
        bytes memory call = abi.encodeCall(reg.revoke, (keccak256("d"), 1, bytes32(0)));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.REVOKER_ROLE()));
    }

    function testFuzzSupersessionNeedsTheSuccessorAnchored(bytes32 old, bytes32 a, bytes32 b)
        public
    {
        vm.assume(old != bytes32(0) && a != bytes32(0) && b != bytes32(0));
        vm.assume(a != b && old != a && old != b);
        _anchor(1, _pair(_leaf(a), _leaf(b)), 2, keccak256("m"));
        bytes32[] memory proofA = new bytes32[](1);
        proofA[0] = _leaf(b);
        // b's place presented with a's proof: not a member of batch 1.
        _expectRevert(ANCHORER, address(reg),
            abi.encodeCall(reg.markSuperseded, (old, b, 1, proofA)),
            abi.encodeWithSelector(
                AnchorRegistry.AnchorRegistrySuccessorNotAnchored.selector, b, uint64(1)));
        vm.warp(1_800_000_000);
        vm.prank(ANCHORER);
        reg.markSuperseded(old, a, 1, proofA);
        AnchorRegistry.Supersession memory sv = reg.getSupersession(old);
        require(sv.successor == a && sv.successorSeq == 1, "supersession fields");
        require(sv.timestamp == 1_800_000_000 && sv.blockNumber == block.number, "time");
        AnchorRegistry.RecordStatus memory st = reg.getStatus(old);
        require(st.supersession.successor == a && st.revocation.reasonCode == 0, "status");
        // Once only: a second successor is refused, naming the first.
        _expectRevert(ANCHORER, address(reg),
            abi.encodeCall(reg.markSuperseded, (old, a, 1, proofA)),
            abi.encodeWithSelector(
                AnchorRegistry.AnchorRegistryAlreadySuperseded.selector, old, a));
    }

    function testSupersessionRefusesSelfZeroAndUnknownBatch() public {
        bytes32 d = keccak256("d");
        _anchor(1, _leaf(d), 1, keccak256("m"));
        bytes32[] memory none = new bytes32[](0);
        address r = address(reg);
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.markSuperseded, (d, d, 1, none)),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistrySelfSupersession.selector, d));
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.markSuperseded, (bytes32(0), d, 1, none)),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroDigest.selector));
        _expectRevert(ANCHORER, r, abi.encodeCall(reg.markSuperseded, (d, bytes32(0), 1, none)),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryZeroDigest.selector));
        _expectRevert(ANCHORER, r,
            abi.encodeCall(reg.markSuperseded, (keccak256("x"), d, 2, none)),
            abi.encodeWithSelector(AnchorRegistry.AnchorRegistryUnknownBatch.selector, uint64(2)));
    }

    function testFuzzOnlyAnchorerSupersedes(address caller) public {
        vm.assume(caller != ANCHORER && !_isCheatOrPrecompile(caller));
        bytes memory call = abi.encodeCall(
            reg.markSuperseded, (keccak256("a"), keccak256("b"), 1, new bytes32[](0)));
        _expectRevert(caller, address(reg), call, _unauthorized(caller, reg.ANCHORER_ROLE()));
    }

    function testStatusCombinesRevocationAndSupersession() public {
        bytes32 d = keccak256("d");
        bytes32 next = keccak256("next");
        _anchor(1, _leaf(next), 1, keccak256("m"));
        vm.prank(REVOKER);
        reg.revoke(d, 4, keccak256("why"));
        vm.prank(ANCHORER);
        reg.markSuperseded(d, next, 1, new bytes32[](0));
        AnchorRegistry.RecordStatus memory st = reg.getStatus(d);
        require(st.revocation.reasonCode == 4 && st.revocation.reasonDigest == keccak256("why"),
            "revocation");
        require(st.supersession.successor == next, "supersession");
        require(reg.INTERFACE_VERSION() == 2, "version");
    }

    function testAdminHoldsNoDutyRole() public {
        bytes32 m = keccak256("m");
        _expectRevert(ADMIN, address(reg), abi.encodeCall(reg.anchorBatch, (1, m, 1, m, "")),
            _unauthorized(ADMIN, reg.ANCHORER_ROLE()));
        _expectRevert(ANCHORER, address(reg),
            abi.encodeCall(reg.grantRole, (reg.ANCHORER_ROLE(), STRANGER)),
            _unauthorized(ANCHORER, reg.DEFAULT_ADMIN_ROLE()));
    }

    function testAdminHandOverWaitsForTheDelay() public {
        address next = address(0xB0B);
        vm.warp(1_700_000_000);
        vm.prank(ADMIN);
        reg.beginDefaultAdminTransfer(next);
        (, uint48 schedule) = reg.pendingDefaultAdmin();
        require(schedule == 1_700_000_000 + 3 days, "schedule");
        vm.warp(schedule - 1);
        _expectRevert(next, address(reg), abi.encodeCall(reg.acceptDefaultAdminTransfer, ()),
            abi.encodeWithSignature("AccessControlEnforcedDefaultAdminDelay(uint48)", schedule));
        vm.warp(schedule + 1);
        vm.prank(next);
        reg.acceptDefaultAdminTransfer();
        require(reg.defaultAdmin() == next, "new admin");
        require(!reg.hasRole(reg.DEFAULT_ADMIN_ROLE(), ADMIN), "old admin gone");
    }
}
