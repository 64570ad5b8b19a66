// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

/// @title TrustRegistry
/// @notice Who may be trusted, and when (DESIGN §3.3, §4): producers' Ed25519 signing keys with
/// their validity windows, the accredited verification bodies (ISO 14065 style whitelist), and the
/// attestations those bodies file about record digests.
/// @dev Not upgradeable on purpose. One role per duty: KEY_ADMIN_ROLE manages producer keys,
/// REGISTRAR_ROLE manages accreditations; attestations need no role, only a current
/// accreditation. The default admin grants roles and hands itself over in two steps with a delay.
contract TrustRegistry is AccessControlDefaultAdminRules {
    /// @notice Role allowed to register, rotate and revoke producer keys.
    bytes32 public constant KEY_ADMIN_ROLE = keccak256("KEY_ADMIN_ROLE");
    /// @notice Role allowed to accredit verification bodies and withdraw accreditations.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice A producer's Ed25519 public key; valid for validFrom <= t < validUntil and, if
    /// revoked, t < revokedAt. revokedAt 0 means "not revoked".
    struct ProducerKey {
        bytes32 publicKey;
        bytes32 producerId;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
    }

    /// @notice An accredited verification body. `regions` is a comma-separated list of ISO codes
    /// or regime ids.
    struct Body {
        string name;
        string scope;
        string regions;
        uint64 validFrom;
        uint64 validUntil;
        bool withdrawn;
    }

    /// @notice An attestation filed by an accredited body about a record digest. verdict:
    /// 1 conforms, 2 conforms with findings, 3 does not conform.
    struct Attestation {
        address body;
        bytes32 reportDigest;
        uint8 verdict;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice The key id is not sha256(publicKey).
    error TrustRegistryKeyIdMismatch(bytes32 expected, bytes32 given);
    /// @notice A key with this id is already registered.
    error TrustRegistryKeyExists(bytes32 keyId);
    /// @notice No key with this id is registered.
    error TrustRegistryUnknownKey(bytes32 keyId);
    /// @notice The key is revoked (and a later revocation cannot replace an earlier one).
    error TrustRegistryKeyRevoked(bytes32 keyId);
    /// @notice The validity window is empty: validFrom must be before validUntil.
    error TrustRegistryInvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @notice A revocation cannot take effect after the current block's timestamp.
    error TrustRegistryRevocationInFuture(uint64 effectiveAt, uint64 now_);
    /// @notice No body with this address was ever accredited.
    error TrustRegistryUnknownBody(address body);
    /// @notice The body is not accredited now.
    error TrustRegistryNotAccredited(address body);
    /// @notice Verdicts are 1, 2 or 3.
    error TrustRegistryInvalidVerdict(uint8 verdict);
    /// @notice A digest, public key or producer id of zero was given.
    error TrustRegistryZeroDigest();
    /// @notice The zero address was given.
    error TrustRegistryZeroAddress();
    /// @notice There is no attestation with this index for this digest.
    error TrustRegistryUnknownAttestation(bytes32 digest, uint256 index);

    /// @notice Key `keyId` of producer `producerId` was registered.
    event KeyRegistered(
        bytes32 indexed keyId,
        bytes32 indexed producerId,
        bytes32 publicKey,
        uint64 validFrom,
        uint64 validUntil
    );
    /// @notice Key `newKeyId` replaced `oldKeyId` for the same producer; the old key's window now
    /// ends no later than the new key's `validFrom`.
    event KeyRotated(
        bytes32 indexed oldKeyId,
        bytes32 indexed newKeyId,
        bytes32 indexed producerId,
        uint64 validFrom,
        uint64 validUntil
    );
    /// @notice Key `keyId` is revoked from `effectiveAt` on.
    event KeyRevoked(bytes32 indexed keyId, uint64 effectiveAt);
    /// @notice Body `body` was accredited, or its accreditation was updated.
    event BodyAccredited(
        address indexed body,
        string name,
        string scope,
        string regions,
        uint64 validFrom,
        uint64 validUntil
    );
    /// @notice Body `body`'s accreditation was withdrawn.
    event AccreditationWithdrawn(address indexed body);
    /// @notice Body `body` filed attestation number `index` about `digest`.
    event AttestationFiled(
        bytes32 indexed digest,
        address indexed body,
        bytes32 reportDigest,
        uint8 verdict,
        uint256 index
    );

    mapping(bytes32 keyId => ProducerKey) private _keys;
    mapping(address body => Body) private _bodies;
    mapping(bytes32 digest => Attestation[]) private _attestations;

    /// @notice Deploys the registry with `initialAdmin` as its only default admin.
    /// @param initialAdminDelay Seconds a scheduled admin hand-over must wait before acceptance.
    /// @param initialAdmin The default admin; it holds no other role until it grants itself one.
    constructor(uint48 initialAdminDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
    {}

    // ---------------------------------------------------------------- producer keys

    /// @notice Registers producer key `keyId`. Only KEY_ADMIN_ROLE.
    /// @param keyId Must equal sha256(publicKey), checked here with the sha256 precompile.
    /// @param publicKey Ed25519 public key (32 bytes), non-zero.
    /// @param producerId sha256 of the UTF-8 bytes of the record's `producer` string, non-zero.
    /// @param validFrom First second the key is valid.
    /// @param validUntil First second the key is no longer valid; after validFrom.
    function registerKey(
        bytes32 keyId,
        bytes32 publicKey,
        bytes32 producerId,
        uint64 validFrom,
        uint64 validUntil
    ) external onlyRole(KEY_ADMIN_ROLE) {
        if (producerId == bytes32(0)) revert TrustRegistryZeroDigest();
        _storeNewKey(keyId, publicKey, producerId, validFrom, validUntil);
        emit KeyRegistered(keyId, producerId, publicKey, validFrom, validUntil);
    }

    /// @notice Replaces key `oldKeyId` by a new key of the same producer. Only KEY_ADMIN_ROLE.
    /// @dev The old key must exist and not be revoked; its validUntil becomes
    /// min(old validUntil, validFrom), so the windows never overlap. If the old window started
    /// after `validFrom`, it ends up empty.
    /// @param oldKeyId The key being replaced.
    /// @param newKeyId Must equal sha256(newPublicKey) and be unused.
    /// @param newPublicKey Ed25519 public key of the new key, non-zero.
    /// @param validFrom First second the new key is valid.
    /// @param validUntil First second the new key is no longer valid; after validFrom.
    function rotateKey(
        bytes32 oldKeyId,
        bytes32 newKeyId,
        bytes32 newPublicKey,
        uint64 validFrom,
        uint64 validUntil
    ) external onlyRole(KEY_ADMIN_ROLE) {
        ProducerKey storage old = _existingKey(oldKeyId);
        if (old.revokedAt != 0) revert TrustRegistryKeyRevoked(oldKeyId);
        bytes32 producerId = old.producerId;
        _storeNewKey(newKeyId, newPublicKey, producerId, validFrom, validUntil);
        if (validFrom < old.validUntil) old.validUntil = validFrom;
        emit KeyRotated(oldKeyId, newKeyId, producerId, validFrom, validUntil);
    }

    /// @notice Revokes key `keyId` from `effectiveAt` on. Only KEY_ADMIN_ROLE.
    /// @dev effectiveAt may lie in the past (a compromise found late is back-dated) but not in
    /// the future. A revoked key may be revoked again only to move the cut-off earlier; anything
    /// else reverts with TrustRegistryKeyRevoked.
    /// @param keyId The key.
    /// @param effectiveAt First second the key is no longer valid; 0 means block.timestamp.
    function revokeKey(bytes32 keyId, uint64 effectiveAt) external onlyRole(KEY_ADMIN_ROLE) {
        ProducerKey storage key = _existingKey(keyId);
        uint64 now_ = uint64(block.timestamp);
        if (effectiveAt == 0) effectiveAt = now_;
        else if (effectiveAt > now_) revert TrustRegistryRevocationInFuture(effectiveAt, now_);
        if (key.revokedAt != 0 && effectiveAt >= key.revokedAt) {
            revert TrustRegistryKeyRevoked(keyId);
        }
        key.revokedAt = effectiveAt;
        emit KeyRevoked(keyId, effectiveAt);
    }

    /// @notice Reads key `keyId`. Reverts with TrustRegistryUnknownKey if it was never registered.
    function getKey(bytes32 keyId) external view returns (ProducerKey memory) {
        return _existingKey(keyId);
    }

    /// @notice Whether key `keyId` was valid at `timestamp`: validFrom <= timestamp < validUntil
    /// and not revoked at or before `timestamp`. False for an unknown key.
    function isKeyValidAt(bytes32 keyId, uint64 timestamp) external view returns (bool) {
        ProducerKey storage key = _keys[keyId];
        return key.validFrom <= timestamp && timestamp < key.validUntil
            && (key.revokedAt == 0 || timestamp < key.revokedAt);
    }

    // ---------------------------------------------------------------- verification bodies

    /// @notice Accredits verification body `body`, or updates (and reinstates) an existing
    /// accreditation. Only REGISTRAR_ROLE.
    /// @param body The body's account, non-zero; it files attestations from this address.
    /// @param name The body's name.
    /// @param scope The accreditation scope (for instance the ISO 14065 programme).
    /// @param regions Comma-separated ISO codes or regime ids the accreditation covers.
    /// @param validFrom First second of the accreditation.
    /// @param validUntil First second after the accreditation; after validFrom.
    function accreditBody(
        address body,
        string calldata name,
        string calldata scope,
        string calldata regions,
        uint64 validFrom,
        uint64 validUntil
    ) external onlyRole(REGISTRAR_ROLE) {
        if (body == address(0)) revert TrustRegistryZeroAddress();
        if (validFrom >= validUntil) revert TrustRegistryInvalidValidity(validFrom, validUntil);
        _bodies[body] = Body({
            name: name,
            scope: scope,
            regions: regions,
            validFrom: validFrom,
            validUntil: validUntil,
            withdrawn: false
        });
        emit BodyAccredited(body, name, scope, regions, validFrom, validUntil);
    }

    /// @notice Withdraws the accreditation of `body` for every time, until it is accredited
    /// again. Only REGISTRAR_ROLE. Attestations already filed stay on record.
    /// @dev Reverts with TrustRegistryUnknownBody for a body never accredited and with
    /// TrustRegistryNotAccredited if it is already withdrawn.
    function withdrawAccreditation(address body) external onlyRole(REGISTRAR_ROLE) {
        Body storage stored = _existingBody(body);
        if (stored.withdrawn) revert TrustRegistryNotAccredited(body);
        stored.withdrawn = true;
        emit AccreditationWithdrawn(body);
    }

    /// @notice Reads body `body`. Reverts with TrustRegistryUnknownBody if never accredited.
    function getBody(address body) external view returns (Body memory) {
        return _existingBody(body);
    }

    /// @notice Whether `body` is accredited at `timestamp`: not withdrawn and
    /// validFrom <= timestamp < validUntil. False for an unknown body.
    function isAccredited(address body, uint64 timestamp) public view returns (bool) {
        Body storage stored = _bodies[body];
        return !stored.withdrawn && stored.validFrom <= timestamp && timestamp < stored.validUntil;
    }

    // ---------------------------------------------------------------- attestations

    /// @notice Files an attestation about record digest `digest` from the calling body, which
    /// must be accredited at the current block's timestamp.
    /// @param digest The record digest attested, non-zero.
    /// @param reportDigest Digest of the verification report, non-zero.
    /// @param verdict 1 conforms, 2 conforms with findings, 3 does not conform.
    function attest(bytes32 digest, bytes32 reportDigest, uint8 verdict) external {
        if (!isAccredited(msg.sender, uint64(block.timestamp))) {
            revert TrustRegistryNotAccredited(msg.sender);
        }
        if (verdict == 0 || verdict > 3) revert TrustRegistryInvalidVerdict(verdict);
        if (digest == bytes32(0) || reportDigest == bytes32(0)) revert TrustRegistryZeroDigest();

        Attestation[] storage list = _attestations[digest];
        uint256 index = list.length;
        list.push(
            Attestation({
                body: msg.sender,
                reportDigest: reportDigest,
                verdict: verdict,
                blockNumber: uint64(block.number),
                timestamp: uint64(block.timestamp)
            })
        );
        emit AttestationFiled(digest, msg.sender, reportDigest, verdict, index);
    }

    /// @notice Number of attestations filed about `digest`.
    function attestationCount(bytes32 digest) external view returns (uint256) {
        return _attestations[digest].length;
    }

    /// @notice Reads attestation `index` about `digest` (numbered from 0 in filing order).
    /// @dev Reverts with TrustRegistryUnknownAttestation if `index >= attestationCount(digest)`.
    function getAttestation(bytes32 digest, uint256 index)
        external
        view
        returns (Attestation memory)
    {
        Attestation[] storage list = _attestations[digest];
        if (index >= list.length) revert TrustRegistryUnknownAttestation(digest, index);
        return list[index];
    }

    // ---------------------------------------------------------------- internals

    function _storeNewKey(
        bytes32 keyId,
        bytes32 publicKey,
        bytes32 producerId,
        uint64 validFrom,
        uint64 validUntil
    ) private {
        // An all-zero Ed25519 key encodes a small-order point: never a real producer key.
        if (publicKey == bytes32(0)) revert TrustRegistryZeroDigest();
        bytes32 expected = sha256(abi.encodePacked(publicKey));
        if (keyId != expected) revert TrustRegistryKeyIdMismatch(expected, keyId);
        if (validFrom >= validUntil) revert TrustRegistryInvalidValidity(validFrom, validUntil);
        ProducerKey storage key = _keys[keyId];
        if (key.publicKey != bytes32(0)) revert TrustRegistryKeyExists(keyId);
        key.publicKey = publicKey;
        key.producerId = producerId;
        key.validFrom = validFrom;
        key.validUntil = validUntil;
    }

    function _existingKey(bytes32 keyId) private view returns (ProducerKey storage key) {
        key = _keys[keyId];
        if (key.publicKey == bytes32(0)) revert TrustRegistryUnknownKey(keyId);
    }

    function _existingBody(address body) private view returns (Body storage stored) {
        stored = _bodies[body];
        // validFrom < validUntil is enforced, so a stored body always has validUntil > 0.
        if (stored.validUntil == 0) revert TrustRegistryUnknownBody(body);
    }
}
