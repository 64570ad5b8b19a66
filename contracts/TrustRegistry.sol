// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

/// @title TrustRegistry
/// @notice Who may be trusted, for what, and when (docs/CONTRACTS.md §4): producers' Ed25519
/// signing keys with their validity windows and the record types each key may sign; collection
/// terminals' keys (Ed25519 or SM2) with their windows and the metering points and record types
/// each may sign for; the accredited verification bodies (ISO 14065 style whitelist), and the
/// attestations those bodies file about record digests.
/// @dev Not upgradeable on purpose. One role per duty: KEY_ADMIN_ROLE manages key material
/// (register, rotate, revoke producer keys; register, revoke terminal keys); REGISTRAR_ROLE
/// decides who is authoritative for what (accredits bodies, grants and withdraws the record
/// types a key may sign and the metering points a terminal key may sign for); attestations need
/// no role, only a current accreditation. The default admin grants roles and hands itself over
/// in two steps with a delay.
contract TrustRegistry is AccessControlDefaultAdminRules {
    /// @notice Role allowed to register, rotate and revoke producer keys.
    bytes32 public constant KEY_ADMIN_ROLE = keccak256("KEY_ADMIN_ROLE");
    /// @notice Role allowed to accredit verification bodies and withdraw accreditations, and to
    /// grant and withdraw the record types a producer key may sign.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice The interface version: 2 adds record types per key and the recorded time of a
    /// key's revocation; 3 adds terminal keys and the metering points they may sign for
    /// (docs/CONTRACTS.md §6).
    uint16 public constant INTERFACE_VERSION = 3;
    /// @notice At most this many record types are ever granted to one key (bounds the copy a
    /// rotation makes).
    uint256 public constant MAX_RECORD_TYPES = 32;
    /// @notice A record type name is 1 to 64 bytes (the record's `type` string, UTF-8).
    uint256 public constant MAX_RECORD_TYPE_BYTES = 64;
    /// @notice Terminal key scheme: Ed25519 (RFC 8032), a 32-byte public key.
    uint8 public constant SCHEME_ED25519 = 1;
    /// @notice Terminal key scheme: SM2 with SM3 (GB/T 32918, GB/T 32905), a 65-byte
    /// uncompressed public key 0x04 || x || y and a distinguishing identifier.
    uint8 public constant SCHEME_SM2_SM3 = 2;
    /// @notice An SM2 distinguishing identifier is 1 to 8191 bytes (its bit length is a 16-bit
    /// value in Z_A, GB/T 32918.2 §5.5).
    uint256 public constant MAX_DISTINGUISHING_ID_BYTES = 8191;
    /// @notice At most this many metering points are ever granted to one terminal key.
    uint256 public constant MAX_METERING_POINTS = 256;
    /// @notice A metering point is its identifier's canonical spelling, 1 to 1024 bytes (256
    /// characters of UTF-8).
    uint256 public constant MAX_METERING_POINT_BYTES = 1024;

    /// @notice A producer's Ed25519 public key; valid for validFrom <= t < validUntil and, if
    /// revoked, t < revokedAt. revokedAt 0 means "not revoked".
    struct ProducerKey {
        bytes32 publicKey;
        bytes32 producerId;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
    }

    /// @notice A collection terminal's public key, as returned by {getTerminalKey}; valid for
    /// validFrom <= t < validUntil and, if revoked, t < revokedAt (0: not revoked).
    /// @param scheme SCHEME_ED25519 or SCHEME_SM2_SM3.
    /// @param publicKey The key in its scheme's canonical encoding (32 or 65 bytes).
    /// @param distinguishingId The SM2 signer's distinguishing identifier; empty for Ed25519.
    /// @param terminalId sha256 of the UTF-8 bytes of the terminal's identifier.
    struct TerminalKey {
        uint8 scheme;
        bytes publicKey;
        bytes distinguishingId;
        bytes32 terminalId;
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

    /// @notice When a key's revocation was recorded, as returned by {getKeyRevocation}.
    /// @param effectiveAt First second the key is no longer valid (may be back-dated); 0 when
    /// the key is not revoked.
    /// @param recordedAt Timestamp of the block in which the key was first revoked: from then
    /// on the chain says so, whatever `effectiveAt` claims.
    /// @param recordedBlock That block's number.
    struct KeyRevocation {
        uint64 effectiveAt;
        uint64 recordedAt;
        uint64 recordedBlock;
    }

    /// @notice A record type granted to a key, as returned by {getRecordTypeGrant}: the key may
    /// sign records of that type anchored at `t` when grantedAt <= t and (withdrawnAt == 0 or
    /// t < withdrawnAt). Both zero when the type was never granted.
    struct RecordTypeGrant {
        uint64 grantedAt;
        uint64 withdrawnAt;
    }

    /// @notice A metering point granted to a terminal key, as returned by
    /// {getMeteringPointGrant}: the terminal may sign readings of that metering point anchored at
    /// `t` when grantedAt <= t and (withdrawnAt == 0 or t < withdrawnAt). Both zero when never
    /// granted.
    struct MeteringPointGrant {
        uint64 grantedAt;
        uint64 withdrawnAt;
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
    /// @notice A record type name must be 1 to MAX_RECORD_TYPE_BYTES bytes.
    error TrustRegistryInvalidRecordType(string recordType);
    /// @notice The record type was granted to this key before (withdrawn or not): a grant is
    /// made once; to grant it again, register a new key.
    error TrustRegistryRecordTypeAlreadyGranted(bytes32 keyId, string recordType);
    /// @notice The record type is not currently granted to this key.
    error TrustRegistryRecordTypeNotGranted(bytes32 keyId, string recordType);
    /// @notice The key already holds MAX_RECORD_TYPES grants.
    error TrustRegistryTooManyRecordTypes(bytes32 keyId);
    /// @notice The terminal key scheme is neither SCHEME_ED25519 nor SCHEME_SM2_SM3.
    error TrustRegistryUnknownScheme(uint8 scheme);
    /// @notice The public key is not in its scheme's canonical encoding (32 non-zero bytes for
    /// Ed25519; 65 bytes starting 0x04 for SM2).
    error TrustRegistryInvalidPublicKey(uint8 scheme, uint256 length);
    /// @notice An SM2 key needs a distinguishing identifier of 1 to MAX_DISTINGUISHING_ID_BYTES
    /// bytes; an Ed25519 key has none.
    error TrustRegistryInvalidDistinguishingId(uint8 scheme, uint256 length);
    /// @notice A metering point must be 1 to MAX_METERING_POINT_BYTES bytes.
    error TrustRegistryInvalidMeteringPoint(string meteringPoint);
    /// @notice The metering point was granted to this key before (withdrawn or not).
    error TrustRegistryMeteringPointAlreadyGranted(bytes32 keyId, string meteringPoint);
    /// @notice The metering point is not currently granted to this key.
    error TrustRegistryMeteringPointNotGranted(bytes32 keyId, string meteringPoint);
    /// @notice The key already holds MAX_METERING_POINTS grants.
    error TrustRegistryTooManyMeteringPoints(bytes32 keyId);

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
    /// @notice Key `keyId` may sign records of type `recordType` from `grantedAt` on.
    event RecordTypeGranted(bytes32 indexed keyId, string recordType, uint64 grantedAt);
    /// @notice Key `keyId` may no longer sign records of type `recordType` from `withdrawnAt` on.
    event RecordTypeWithdrawn(bytes32 indexed keyId, string recordType, uint64 withdrawnAt);
    /// @notice Terminal key `keyId` of the terminal `terminalId` was registered.
    event TerminalKeyRegistered(
        bytes32 indexed keyId,
        bytes32 indexed terminalId,
        uint8 scheme,
        bytes publicKey,
        bytes distinguishingId,
        uint64 validFrom,
        uint64 validUntil
    );
    /// @notice Terminal key `keyId` is revoked from `effectiveAt` on.
    event TerminalKeyRevoked(bytes32 indexed keyId, uint64 effectiveAt);
    /// @notice Terminal key `keyId` may sign readings of `meteringPoint` from `grantedAt` on.
    event MeteringPointGranted(bytes32 indexed keyId, string meteringPoint, uint64 grantedAt);
    /// @notice Terminal key `keyId` may no longer sign readings of `meteringPoint` from
    /// `withdrawnAt` on.
    event MeteringPointWithdrawn(bytes32 indexed keyId, string meteringPoint, uint64 withdrawnAt);
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

    // Storage differs from the returned ProducerKey: the recorded revocation time shares the
    // slot of the three window fields, and its block has a slot of its own.
    struct StoredKey {
        bytes32 publicKey;
        bytes32 producerId;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
        uint64 revocationRecordedAt;
        uint64 revocationRecordedBlock;
    }

    // A terminal key in storage: the window and both revocation times share one slot, the
    // scheme and the revocation block another.
    struct StoredTerminalKey {
        bytes32 terminalId;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
        uint64 revocationRecordedAt;
        uint64 revocationRecordedBlock;
        uint8 scheme;
        bytes publicKey;
        bytes distinguishingId;
    }

    // Version 1's variables keep their slots; version 2's come after them, then version 3's.
    mapping(bytes32 keyId => StoredKey) private _keys;
    mapping(address body => Body) private _bodies;
    mapping(bytes32 digest => Attestation[]) private _attestations;
    // Grants by key and keccak256 of the type name; the names in grant order, for reading back.
    mapping(bytes32 keyId => mapping(bytes32 typeHash => RecordTypeGrant)) private _grants;
    mapping(bytes32 keyId => string[]) private _typeNames;
    // Terminal keys, and their metering points as the record types above.
    mapping(bytes32 keyId => StoredTerminalKey) private _terminalKeys;
    mapping(bytes32 keyId => mapping(bytes32 pointHash => MeteringPointGrant)) private _points;
    mapping(bytes32 keyId => string[]) private _pointNames;

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
    /// after `validFrom`, it ends up empty. The record types the old key holds now (granted,
    /// not withdrawn) are granted to the new key from this block on, each with its
    /// RecordTypeGranted event: a rotation changes the key, not what its producer may publish.
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
        StoredKey storage old = _existingKey(oldKeyId);
        if (old.revokedAt != 0) revert TrustRegistryKeyRevoked(oldKeyId);
        bytes32 producerId = old.producerId;
        _storeNewKey(newKeyId, newPublicKey, producerId, validFrom, validUntil);
        if (validFrom < old.validUntil) old.validUntil = validFrom;
        emit KeyRotated(oldKeyId, newKeyId, producerId, validFrom, validUntil);
        string[] storage names = _typeNames[oldKeyId];
        for (uint256 i = 0; i < names.length; i++) {
            string memory name = names[i];
            if (_grants[oldKeyId][keccak256(bytes(name))].withdrawnAt == 0) {
                _grant(newKeyId, name);
            }
        }
    }

    /// @notice Revokes key `keyId` from `effectiveAt` on. Only KEY_ADMIN_ROLE.
    /// @dev effectiveAt may lie in the past (a compromise found late is back-dated) but not in
    /// the future. A revoked key may be revoked again only to move the cut-off earlier; anything
    /// else reverts with TrustRegistryKeyRevoked.
    /// @param keyId The key.
    /// @param effectiveAt First second the key is no longer valid; 0 means block.timestamp.
    function revokeKey(bytes32 keyId, uint64 effectiveAt) external onlyRole(KEY_ADMIN_ROLE) {
        StoredKey storage key = _existingKey(keyId);
        uint64 now_ = uint64(block.timestamp);
        if (effectiveAt == 0) effectiveAt = now_;
        else if (effectiveAt > now_) revert TrustRegistryRevocationInFuture(effectiveAt, now_);
        if (key.revokedAt != 0 && effectiveAt >= key.revokedAt) {
            revert TrustRegistryKeyRevoked(keyId);
        }
        if (key.revokedAt == 0) {
            // The first revocation dates when the chain learnt it; moving the cut-off
            // earlier later on does not change that.
            key.revocationRecordedAt = now_;
            key.revocationRecordedBlock = uint64(block.number);
        }
        key.revokedAt = effectiveAt;
        emit KeyRevoked(keyId, effectiveAt);
    }

    /// @notice Reads key `keyId`. Reverts with TrustRegistryUnknownKey if it was never registered.
    function getKey(bytes32 keyId) external view returns (ProducerKey memory) {
        StoredKey storage key = _existingKey(keyId);
        return ProducerKey({
            publicKey: key.publicKey,
            producerId: key.producerId,
            validFrom: key.validFrom,
            validUntil: key.validUntil,
            revokedAt: key.revokedAt
        });
    }

    /// @notice Reads when key `keyId` was revoked: the effective time and the block that first
    /// recorded the revocation; all zero when it is not revoked. Reverts with
    /// TrustRegistryUnknownKey if it was never registered.
    function getKeyRevocation(bytes32 keyId) external view returns (KeyRevocation memory) {
        StoredKey storage key = _existingKey(keyId);
        return KeyRevocation({
            effectiveAt: key.revokedAt,
            recordedAt: key.revocationRecordedAt,
            recordedBlock: key.revocationRecordedBlock
        });
    }

    /// @notice Whether key `keyId` was valid at `timestamp`: validFrom <= timestamp < validUntil
    /// and not revoked at or before `timestamp`. False for an unknown key.
    function isKeyValidAt(bytes32 keyId, uint64 timestamp) external view returns (bool) {
        StoredKey storage key = _keys[keyId];
        return key.validFrom <= timestamp && timestamp < key.validUntil
            && (key.revokedAt == 0 || timestamp < key.revokedAt);
    }

    // ---------------------------------------------------------------- record types

    /// @notice Allows key `keyId` (a producer key or a terminal key) to sign records of type
    /// `recordType` from this block on. Only REGISTRAR_ROLE.
    /// @dev Checks in order: the role; the key exists (TrustRegistryUnknownKey) and is not
    /// revoked (TrustRegistryKeyRevoked); the name is 1 to 64 bytes
    /// (TrustRegistryInvalidRecordType); it was never granted to this key
    /// (TrustRegistryRecordTypeAlreadyGranted); the key holds fewer than MAX_RECORD_TYPES
    /// grants (TrustRegistryTooManyRecordTypes).
    /// @param keyId The key.
    /// @param recordType The record `type` string, for instance "factor-set".
    function grantRecordType(bytes32 keyId, string calldata recordType)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (_revokedAtOfAnyKey(keyId) != 0) revert TrustRegistryKeyRevoked(keyId);
        _grant(keyId, recordType);
    }

    /// @notice Stops key `keyId` signing records of type `recordType` from this block on.
    /// Only REGISTRAR_ROLE. Records of that type anchored before stay authorised.
    /// @dev Reverts with TrustRegistryUnknownKey for an unknown key (producer or terminal) and
    /// with TrustRegistryRecordTypeNotGranted unless the type is granted and not withdrawn.
    function withdrawRecordType(bytes32 keyId, string calldata recordType)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        _revokedAtOfAnyKey(keyId);
        RecordTypeGrant storage grant = _grants[keyId][keccak256(bytes(recordType))];
        if (grant.grantedAt == 0 || grant.withdrawnAt != 0) {
            revert TrustRegistryRecordTypeNotGranted(keyId, recordType);
        }
        uint64 now_ = uint64(block.timestamp);
        grant.withdrawnAt = now_;
        emit RecordTypeWithdrawn(keyId, recordType, now_);
    }

    /// @notice Reads the grant of `recordType` to key `keyId`; both fields zero when never
    /// granted.
    function getRecordTypeGrant(bytes32 keyId, string calldata recordType)
        external
        view
        returns (RecordTypeGrant memory)
    {
        return _grants[keyId][keccak256(bytes(recordType))];
    }

    /// @notice Whether key `keyId` may sign records of type `recordType` anchored at
    /// `timestamp`: granted at or before it and not withdrawn by then. Says nothing about the
    /// key's own window (see {isKeyValidAt}). False for an unknown key or type.
    function isTypeGrantedAt(bytes32 keyId, string calldata recordType, uint64 timestamp)
        external
        view
        returns (bool)
    {
        RecordTypeGrant storage grant = _grants[keyId][keccak256(bytes(recordType))];
        return grant.grantedAt != 0 && grant.grantedAt <= timestamp
            && (grant.withdrawnAt == 0 || timestamp < grant.withdrawnAt);
    }

    /// @notice Every record type ever granted to key `keyId` (withdrawn ones included), in
    /// grant order; read each one's times with {getRecordTypeGrant}.
    function recordTypesOf(bytes32 keyId) external view returns (string[] memory) {
        return _typeNames[keyId];
    }

    // ---------------------------------------------------------------- terminal keys

    /// @notice Registers the key `keyId` of a collection terminal. Only KEY_ADMIN_ROLE.
    /// @dev Checks in order: the role; terminalId non-zero (TrustRegistryZeroDigest); the
    /// scheme (TrustRegistryUnknownScheme); the key's encoding (TrustRegistryInvalidPublicKey);
    /// the distinguishing identifier (TrustRegistryInvalidDistinguishingId); keyId equals
    /// sha256(publicKey) (TrustRegistryKeyIdMismatch); the window (TrustRegistryInvalidValidity);
    /// the id is neither a producer key nor a terminal key yet (TrustRegistryKeyExists).
    /// @param keyId Must equal sha256(publicKey).
    /// @param scheme SCHEME_ED25519 or SCHEME_SM2_SM3.
    /// @param publicKey 32 non-zero bytes (Ed25519) or 65 bytes 0x04 || x || y (SM2). Whether
    /// an SM2 point lies on the curve is not checked here: a verifier refuses a key that does not.
    /// @param distinguishingId The SM2 distinguishing identifier the terminal signs under (1 to
    /// MAX_DISTINGUISHING_ID_BYTES bytes); empty for Ed25519.
    /// @param terminalId sha256 of the UTF-8 bytes of the terminal's identifier, non-zero.
    /// @param validFrom First second the key is valid.
    /// @param validUntil First second the key is no longer valid; after validFrom.
    function registerTerminalKey(
        bytes32 keyId,
        uint8 scheme,
        bytes calldata publicKey,
        bytes calldata distinguishingId,
        bytes32 terminalId,
        uint64 validFrom,
        uint64 validUntil
    ) external onlyRole(KEY_ADMIN_ROLE) {
        if (terminalId == bytes32(0)) revert TrustRegistryZeroDigest();
        _checkTerminalKey(scheme, publicKey, distinguishingId);
        bytes32 expected = sha256(publicKey);
        if (keyId != expected) revert TrustRegistryKeyIdMismatch(expected, keyId);
        if (validFrom >= validUntil) revert TrustRegistryInvalidValidity(validFrom, validUntil);
        StoredTerminalKey storage key = _terminalKeys[keyId];
        if (key.scheme != 0 || _keys[keyId].publicKey != bytes32(0)) {
            revert TrustRegistryKeyExists(keyId);
        }
        key.terminalId = terminalId;
        key.validFrom = validFrom;
        key.validUntil = validUntil;
        key.scheme = scheme;
        key.publicKey = publicKey;
        key.distinguishingId = distinguishingId;
        emit TerminalKeyRegistered(
            keyId, terminalId, scheme, publicKey, distinguishingId, validFrom, validUntil
        );
    }

    /// @notice Revokes terminal key `keyId` from `effectiveAt` on. Only KEY_ADMIN_ROLE.
    /// @dev As {revokeKey}: effectiveAt may be back-dated but not post-dated; a revoked key may
    /// be revoked again only to move the cut-off earlier.
    /// @param keyId The terminal key.
    /// @param effectiveAt First second the key is no longer valid; 0 means block.timestamp.
    function revokeTerminalKey(bytes32 keyId, uint64 effectiveAt)
        external
        onlyRole(KEY_ADMIN_ROLE)
    {
        StoredTerminalKey storage key = _existingTerminalKey(keyId);
        uint64 now_ = uint64(block.timestamp);
        if (effectiveAt == 0) effectiveAt = now_;
        else if (effectiveAt > now_) revert TrustRegistryRevocationInFuture(effectiveAt, now_);
        if (key.revokedAt != 0 && effectiveAt >= key.revokedAt) {
            revert TrustRegistryKeyRevoked(keyId);
        }
        if (key.revokedAt == 0) {
            key.revocationRecordedAt = now_;
            key.revocationRecordedBlock = uint64(block.number);
        }
        key.revokedAt = effectiveAt;
        emit TerminalKeyRevoked(keyId, effectiveAt);
    }

    /// @notice Reads terminal key `keyId`. Reverts with TrustRegistryUnknownKey if it was never
    /// registered as a terminal key.
    function getTerminalKey(bytes32 keyId) external view returns (TerminalKey memory) {
        StoredTerminalKey storage key = _existingTerminalKey(keyId);
        return TerminalKey({
            scheme: key.scheme,
            publicKey: key.publicKey,
            distinguishingId: key.distinguishingId,
            terminalId: key.terminalId,
            validFrom: key.validFrom,
            validUntil: key.validUntil,
            revokedAt: key.revokedAt
        });
    }

    /// @notice Reads when terminal key `keyId` was revoked, as {getKeyRevocation} for producer
    /// keys. Reverts with TrustRegistryUnknownKey if it was never registered as a terminal key.
    function getTerminalKeyRevocation(bytes32 keyId) external view returns (KeyRevocation memory) {
        StoredTerminalKey storage key = _existingTerminalKey(keyId);
        return KeyRevocation({
            effectiveAt: key.revokedAt,
            recordedAt: key.revocationRecordedAt,
            recordedBlock: key.revocationRecordedBlock
        });
    }

    /// @notice Whether terminal key `keyId` was valid at `timestamp` (the formula of
    /// {isKeyValidAt}). False for an unknown key.
    function isTerminalKeyValidAt(bytes32 keyId, uint64 timestamp) external view returns (bool) {
        StoredTerminalKey storage key = _terminalKeys[keyId];
        return key.validFrom <= timestamp && timestamp < key.validUntil
            && (key.revokedAt == 0 || timestamp < key.revokedAt);
    }

    // ---------------------------------------------------------------- metering points

    /// @notice Allows terminal key `keyId` to sign readings of `meteringPoint` from this block
    /// on. Only REGISTRAR_ROLE.
    /// @dev Checks in order: the role; the terminal key exists (TrustRegistryUnknownKey) and is
    /// not revoked (TrustRegistryKeyRevoked); the name is 1 to MAX_METERING_POINT_BYTES bytes
    /// (TrustRegistryInvalidMeteringPoint); it was never granted to this key
    /// (TrustRegistryMeteringPointAlreadyGranted); fewer than MAX_METERING_POINTS grants
    /// (TrustRegistryTooManyMeteringPoints).
    /// @param keyId The terminal key.
    /// @param meteringPoint The metering point's identifier in its canonical spelling.
    function grantMeteringPoint(bytes32 keyId, string calldata meteringPoint)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (_existingTerminalKey(keyId).revokedAt != 0) revert TrustRegistryKeyRevoked(keyId);
        uint256 length = bytes(meteringPoint).length;
        if (length == 0 || length > MAX_METERING_POINT_BYTES) {
            revert TrustRegistryInvalidMeteringPoint(meteringPoint);
        }
        MeteringPointGrant storage grant = _points[keyId][keccak256(bytes(meteringPoint))];
        if (grant.grantedAt != 0) {
            revert TrustRegistryMeteringPointAlreadyGranted(keyId, meteringPoint);
        }
        string[] storage names = _pointNames[keyId];
        if (names.length >= MAX_METERING_POINTS) revert TrustRegistryTooManyMeteringPoints(keyId);
        uint64 now_ = uint64(block.timestamp);
        grant.grantedAt = now_;
        names.push(meteringPoint);
        emit MeteringPointGranted(keyId, meteringPoint, now_);
    }

    /// @notice Stops terminal key `keyId` signing readings of `meteringPoint` from this block
    /// on. Only REGISTRAR_ROLE. Readings anchored before stay authorised.
    /// @dev Reverts with TrustRegistryUnknownKey for an unknown terminal key and with
    /// TrustRegistryMeteringPointNotGranted unless the point is granted and not withdrawn.
    function withdrawMeteringPoint(bytes32 keyId, string calldata meteringPoint)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        _existingTerminalKey(keyId);
        MeteringPointGrant storage grant = _points[keyId][keccak256(bytes(meteringPoint))];
        if (grant.grantedAt == 0 || grant.withdrawnAt != 0) {
            revert TrustRegistryMeteringPointNotGranted(keyId, meteringPoint);
        }
        uint64 now_ = uint64(block.timestamp);
        grant.withdrawnAt = now_;
        emit MeteringPointWithdrawn(keyId, meteringPoint, now_);
    }

    /// @notice Reads the grant of `meteringPoint` to terminal key `keyId`; both fields zero when
    /// never granted.
    function getMeteringPointGrant(bytes32 keyId, string calldata meteringPoint)
        external
        view
        returns (MeteringPointGrant memory)
    {
        return _points[keyId][keccak256(bytes(meteringPoint))];
    }

    /// @notice Whether terminal key `keyId` may sign readings of `meteringPoint` anchored at
    /// `timestamp`: granted at or before it and not withdrawn by then. Says nothing about the
    /// key's own window (see {isTerminalKeyValidAt}). False for an unknown key or point.
    function isMeteringPointGrantedAt(
        bytes32 keyId,
        string calldata meteringPoint,
        uint64 timestamp
    ) external view returns (bool) {
        MeteringPointGrant storage grant = _points[keyId][keccak256(bytes(meteringPoint))];
        return grant.grantedAt != 0 && grant.grantedAt <= timestamp
            && (grant.withdrawnAt == 0 || timestamp < grant.withdrawnAt);
    }

    /// @notice Every metering point ever granted to terminal key `keyId` (withdrawn ones
    /// included), in grant order; read each one's times with {getMeteringPointGrant}.
    function meteringPointsOf(bytes32 keyId) external view returns (string[] memory) {
        return _pointNames[keyId];
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
        StoredKey storage key = _keys[keyId];
        if (key.publicKey != bytes32(0) || _terminalKeys[keyId].scheme != 0) {
            revert TrustRegistryKeyExists(keyId);
        }
        key.publicKey = publicKey;
        key.producerId = producerId;
        key.validFrom = validFrom;
        key.validUntil = validUntil;
    }

    function _grant(bytes32 keyId, string memory recordType) private {
        uint256 length = bytes(recordType).length;
        if (length == 0 || length > MAX_RECORD_TYPE_BYTES) {
            revert TrustRegistryInvalidRecordType(recordType);
        }
        RecordTypeGrant storage grant = _grants[keyId][keccak256(bytes(recordType))];
        if (grant.grantedAt != 0) revert TrustRegistryRecordTypeAlreadyGranted(keyId, recordType);
        string[] storage names = _typeNames[keyId];
        if (names.length >= MAX_RECORD_TYPES) revert TrustRegistryTooManyRecordTypes(keyId);
        uint64 now_ = uint64(block.timestamp);
        grant.grantedAt = now_;
        names.push(recordType);
        emit RecordTypeGranted(keyId, recordType, now_);
    }

    function _existingKey(bytes32 keyId) private view returns (StoredKey storage key) {
        key = _keys[keyId];
        if (key.publicKey == bytes32(0)) revert TrustRegistryUnknownKey(keyId);
    }

    function _existingTerminalKey(bytes32 keyId)
        private
        view
        returns (StoredTerminalKey storage key)
    {
        key = _terminalKeys[keyId];
        // A registered terminal key always has a scheme (1 or 2).
        if (key.scheme == 0) revert TrustRegistryUnknownKey(keyId);
    }

    // The revocation time of a producer key or a terminal key; reverts for an unknown id.
    function _revokedAtOfAnyKey(bytes32 keyId) private view returns (uint64) {
        StoredKey storage producerKey = _keys[keyId];
        if (producerKey.publicKey != bytes32(0)) return producerKey.revokedAt;
        return _existingTerminalKey(keyId).revokedAt;
    }

    function _checkTerminalKey(
        uint8 scheme,
        bytes calldata publicKey,
        bytes calldata distinguishingId
    ) private pure {
        uint256 idLength = distinguishingId.length;
        if (scheme == SCHEME_ED25519) {
            // An all-zero Ed25519 key encodes a small-order point: never a real key.
            if (publicKey.length != 32 || bytes32(publicKey) == bytes32(0)) {
                revert TrustRegistryInvalidPublicKey(scheme, publicKey.length);
            }
            if (idLength != 0) revert TrustRegistryInvalidDistinguishingId(scheme, idLength);
        } else if (scheme == SCHEME_SM2_SM3) {
            if (publicKey.length != 65 || publicKey[0] != 0x04) {
                revert TrustRegistryInvalidPublicKey(scheme, publicKey.length);
            }
            if (idLength == 0 || idLength > MAX_DISTINGUISHING_ID_BYTES) {
                revert TrustRegistryInvalidDistinguishingId(scheme, idLength);
            }
        } else {
            revert TrustRegistryUnknownScheme(scheme);
        }
    }

    function _existingBody(address body) private view returns (Body storage stored) {
        stored = _bodies[body];
        // validFrom < validUntil is enforced, so a stored body always has validUntil > 0.
        if (stored.validUntil == 0) revert TrustRegistryUnknownBody(body);
    }
}
