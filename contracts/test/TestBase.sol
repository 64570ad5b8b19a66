// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @dev The subset of the cheatcodes Hardhat's Solidity test runner (EDR) provides at the
/// well-known cheatcode address that these tests use. Declared here instead of importing
/// forge-std, which is not a dependency of this project (the runner needs no library).
interface Vm {
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function assume(bool condition) external;
}

/// @dev Shared helpers: revert assertions by exact revert data (selector and arguments), so a
/// test fails if a call reverts for any other reason than the one named.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant ADMIN = address(0xA11CE);
    address internal constant STRANGER = address(0x5757);

    function _expectRevert(address caller, address target, bytes memory callData, bytes memory want)
        internal
    {
        vm.prank(caller);
        (bool ok, bytes memory got) = target.call(callData);
        require(!ok, "call should have reverted");
        require(keccak256(got) == keccak256(want), "wrong revert data");
    }

    function _expectOk(address caller, address target, bytes memory callData)
        internal
        returns (bytes memory ret)
    {
        vm.prank(caller);
        bool ok;
        (ok, ret) = target.call(callData);
        require(ok, "call should have succeeded");
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSignature(
            "AccessControlUnauthorizedAccount(address,bytes32)", account, role
        );
    }

    function _isCheatOrPrecompile(address a) internal pure returns (bool) {
        return uint160(a) < 0x100 || a == address(vm);
    }
}
