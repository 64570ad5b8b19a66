// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AnchorRegistry
/// @notice The append-only log of carbonledger Merkle batches (docs/FORMAT.md §4,
/// docs/CONTRACTS.md §3). Every batch root is written once, in strict sequence from 1, and folded
/// into a running log hash so that one value pins the whole history. Each record digest also has
/// a status held here: revoked (once, with a reason code) and superseded (once, by the digest of
/// an anchored successor). The registry names, for ever, the TrustRegistry whose producer keys
/// and accredited bodies its records rely on, so an auditor who pins this one address has pinned
/// both.
/// @dev Not upgradeable on purpose: a registry that can be upgraded can rewrite history. The
/// default admin only grants and revokes the ANCHORER and REVOKER roles; it hands itself over in
/// two steps with a delay (OpenZeppelin AccessControlDefaultAdminRules).
contract AnchorRegistry is AccessControlDefaultAdminRules {
    /// @notice Role allowed to anchor batches and to record supersessions (the anchorer
    /// service's account): a supersession is what an anchored record's own `supersedes` link
    /// says, so the account that anchors the record publishes the link.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    /// @notice Role allowed to revoke record digests.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    /// @notice A batch as returned by {getBatch}.
    /// @param root Merkle root (OpenZeppelin StandardMerkleTree, leaf encoding ["bytes32"]).
    /// @param leafCount Number of record digests in the batch.
    /// @param manifestDigest SHA-256 of the JCS bytes of the batch manifest.
    /// @param blockNumber Block in which the batch was anchored.
    /// @param timestamp Timestamp of that block (seconds since the Unix epoch).
    /// @param logHash Running log hash after this batch.
    struct Batch {
        bytes32 root;
        uint32 leafCount;
        bytes32 manifestDigest;
        uint64 blockNumber;
        uint64 timestamp;
        bytes32 logHash;
    }

    /// @notice A revocation as returned by {getRevocation}; reasonCode 0 means "not revoked".
    struct Revocation {
        uint16 reasonCode;
        bytes32 reasonDigest;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice A supersession as returned by {getSupersession}; successor 0 means "not
    /// superseded".
    /// @param successor Digest of the anchored record that supersedes this one.
    /// @param successorSeq Batch in which the successor was proven anchored.
    /// @param blockNumber Block in which the supersession was recorded.
    /// @param timestamp Timestamp of that block.
    struct Supersession {
        bytes32 successor;
        uint64 successorSeq;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice Everything this registry holds about one record digest, as returned by
    /// {getStatus}: its revocation and its supersession (zero fields where there is none).
    struct RecordStatus {
        Revocation revocation;
        Supersession supersession;
    }

    /// @notice The interface version: 2 adds supersessions and {getStatus} (docs/CONTRACTS.md).
    uint16 public constant INTERFACE_VERSION = 2;

    // Storage layouts differ from the returned structs: the three small fields share one slot,
    // so an anchor writes 4 fresh slots instead of 5 (anchorBatch gas is benchmarked).
    struct StoredBatch {
        bytes32 root;
        bytes32 manifestDigest;
        bytes32 logHash;
        uint32 leafCount;
        uint64 blockNumber;
        uint64 timestamp;
    }

    struct StoredRevocation {
        bytes32 reasonDigest;
        uint16 reasonCode;
        uint64 blockNumber;
        uint64 timestamp;
    }

    struct StoredSupersession {
        bytes32 successor;
        uint64 successorSeq;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice `seq` is not the next batch number.
    error AnchorRegistryOutOfSequence(uint64 expected, uint64 given);
    /// @notice A batch root of zero was given.
    error AnchorRegistryZeroRoot();
    /// @notice A batch with no leaves was given.
    error AnchorRegistryZeroLeafCount();
    /// @notice A manifest digest of zero was given.
    error AnchorRegistryZeroManifestDigest();
    /// @notice No batch with this number has been anchored.
    error AnchorRegistryUnknownBatch(uint64 seq);
    /// @notice A record digest of zero was given.
    error AnchorRegistryZeroDigest();
    /// @notice A revocation reason code of zero was given (0 means "not revoked").
    error AnchorRegistryZeroReasonCode();
    /// @notice The digest has already been revoked.
    error AnchorRegistryAlreadyRevoked(bytes32 digest);
    /// @notice The TrustRegistry given at deployment holds no code.
    error AnchorRegistryTrustRegistryNotAContract(address trustRegistry);
    /// @notice A record cannot supersede itself.
    error AnchorRegistrySelfSupersession(bytes32 digest);
    /// @notice The proof does not show `successor` to be a member of batch `seq`.
    error AnchorRegistrySuccessorNotAnchored(bytes32 successor, uint64 seq);
    /// @notice The digest is already superseded, by `successor`.
    error AnchorRegistryAlreadySuperseded(bytes32 digest, bytes32 successor);

    /// @notice This registry was linked to `trustRegistry` at deployment (once, never changed).
    event TrustRegistryLinked(address indexed trustRegistry);

    /// @notice Batch `seq` with Merkle root `root` was anchored; `logHash` is the new log head.
    event BatchAnchored(
        uint64 indexed seq,
        bytes32 indexed root,
        uint32 leafCount,
        bytes32 manifestDigest,
        string manifestCid,
        bytes32 logHash
    );

    /// @notice Record digest `digest` was revoked by `revoker`.
    event DigestRevoked(
        bytes32 indexed digest, uint16 indexed reasonCode, bytes32 reasonDigest, address revoker
    );

    /// @notice Record digest `digest` was superseded by `successor`, anchored in batch
    /// `successorSeq`.
    event DigestSuperseded(bytes32 indexed digest, bytes32 indexed successor, uint64 successorSeq);

    // Set once in the constructor. Plain storage rather than an immutable, so the runtime code
    // is the same in every deployment and its hash can be compared with a local build.
    address private _trustRegistry;
    // Number of batches anchored so far; the next batch is _batchCount + 1.
    uint64 private _batchCount;
    mapping(uint64 seq => StoredBatch) private _batches;
    mapping(bytes32 digest => StoredRevocation) private _revocations;
    mapping(bytes32 digest => StoredSupersession) private _supersessions;

    /// @notice Deploys the registry with `initialAdmin` as its only default admin.
    /// @param initialAdminDelay Seconds a scheduled admin hand-over must wait before acceptance.
    /// @param initialAdmin The default admin; it holds no other role until it grants itself one.
    /// @param trustRegistry_ The TrustRegistry of producer keys and accredited bodies; must hold
    /// code. Fixed for the life of this registry.
    constructor(uint48 initialAdminDelay, address initialAdmin, address trustRegistry_)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
    {
        if (trustRegistry_.code.length == 0) {
            revert AnchorRegistryTrustRegistryNotAContract(trustRegistry_);
        }
        _trustRegistry = trustRegistry_;
        emit TrustRegistryLinked(trustRegistry_);
    }

    /// @notice The TrustRegistry this registry was linked to at deployment.
    function trustRegistry() external view returns (address) {
        return _trustRegistry;
    }

    /// @notice Anchors batch `seq`. Only ANCHORER_ROLE.
    /// @dev Reverts with AnchorRegistryOutOfSequence unless `seq == nextSeq()`: no gaps, no
    /// repeats, no overwrites. The log hash becomes
    /// keccak256(abi.encode(logHead(), seq, root, leafCount, manifestDigest)).
    /// @param seq Batch number, exactly {nextSeq}.
    /// @param root Merkle root of the batch, non-zero.
    /// @param leafCount Number of record digests in the batch, non-zero.
    /// @param manifestDigest SHA-256 of the batch manifest, non-zero.
    /// @param manifestCid CIDv1 of the manifest bytes; recorded in the event only, not stored.
    function anchorBatch(
        uint64 seq,
        bytes32 root,
        uint32 leafCount,
        bytes32 manifestDigest,
        string calldata manifestCid
    ) external onlyRole(ANCHORER_ROLE) {
        uint64 count = _batchCount;
        uint64 expected = count + 1;
        if (seq != expected) revert AnchorRegistryOutOfSequence(expected, seq);
        if (root == bytes32(0)) revert AnchorRegistryZeroRoot();
        if (leafCount == 0) revert AnchorRegistryZeroLeafCount();
        if (manifestDigest == bytes32(0)) revert AnchorRegistryZeroManifestDigest();

        // The previous head is read from the previous batch rather than kept in its own slot:
        // one cold read instead of a read and a rewrite. logHash_0 = 0 (docs/CONTRACTS.md §3).
        bytes32 previous = count == 0 ? bytes32(0) : _batches[count].logHash;
        bytes32 logHash = keccak256(abi.encode(previous, seq, root, leafCount, manifestDigest));

        _batches[seq] = StoredBatch({
            root: root,
            manifestDigest: manifestDigest,
            logHash: logHash,
            leafCount: leafCount,
            blockNumber: uint64(block.number),
            timestamp: uint64(block.timestamp)
        });
        _batchCount = seq;
        emit BatchAnchored(seq, root, leafCount, manifestDigest, manifestCid, logHash);
    }

    /// @notice The number the next anchored batch must carry (1 on a fresh registry).
    function nextSeq() external view returns (uint64) {
        return _batchCount + 1;
    }

    /// @notice The current running log hash: that of the last batch, or zero before the first.
    function logHead() external view returns (bytes32) {
        uint64 count = _batchCount;
        return count == 0 ? bytes32(0) : _batches[count].logHash;
    }

    /// @notice Reads batch `seq`. Reverts with AnchorRegistryUnknownBatch if it was never anchored.
    function getBatch(uint64 seq) external view returns (Batch memory) {
        StoredBatch storage stored = _storedBatch(seq);
        return Batch({
            root: stored.root,
            leafCount: stored.leafCount,
            manifestDigest: stored.manifestDigest,
            blockNumber: stored.blockNumber,
            timestamp: stored.timestamp,
            logHash: stored.logHash
        });
    }

    /// @notice Whether `proof` shows record digest `recordDigest` is a member of batch `seq`.
    /// @dev The leaf is derived here as keccak256(bytes.concat(keccak256(abi.encode(recordDigest))))
    /// (StandardMerkleTree leaf for ["bytes32"]), so an inner node can never be presented as a
    /// leaf: a caller cannot supply a pre-hashed leaf. Reverts with AnchorRegistryUnknownBatch if
    /// batch `seq` was never anchored.
    /// @param seq Batch number.
    /// @param proof Sibling hashes from the leaf up to the root (sorted-pair hashing).
    /// @param recordDigest The record digest (docs/FORMAT.md §2.2), not its leaf hash.
    function verifyInclusion(uint64 seq, bytes32[] calldata proof, bytes32 recordDigest)
        external
        view
        returns (bool)
    {
        return _isMember(seq, proof, recordDigest);
    }

    /// @notice Revokes record digest `digest`, once. Only REVOKER_ROLE.
    /// @param digest The record digest, non-zero; it need not have been anchored yet.
    /// @param reasonCode Application-defined reason, non-zero (0 means "not revoked").
    /// @param reasonDigest Digest of a document giving the reason; may be zero.
    function revoke(bytes32 digest, uint16 reasonCode, bytes32 reasonDigest)
        external
        onlyRole(REVOKER_ROLE)
    {
        if (digest == bytes32(0)) revert AnchorRegistryZeroDigest();
        if (reasonCode == 0) revert AnchorRegistryZeroReasonCode();
        StoredRevocation storage stored = _revocations[digest];
        if (stored.reasonCode != 0) revert AnchorRegistryAlreadyRevoked(digest);

        stored.reasonDigest = reasonDigest;
        stored.reasonCode = reasonCode;
        stored.blockNumber = uint64(block.number);
        stored.timestamp = uint64(block.timestamp);
        emit DigestRevoked(digest, reasonCode, reasonDigest, msg.sender);
    }

    /// @notice Reads the revocation of `digest`; all fields are zero if it was never revoked.
    function getRevocation(bytes32 digest) public view returns (Revocation memory) {
        StoredRevocation storage stored = _revocations[digest];
        return Revocation({
            reasonCode: stored.reasonCode,
            reasonDigest: stored.reasonDigest,
            blockNumber: stored.blockNumber,
            timestamp: stored.timestamp
        });
    }

    /// @notice Records that `digest` is superseded by `successor`, once. Only ANCHORER_ROLE.
    /// @dev The successor must be proven a member of an anchored batch here, on-chain, so the
    /// status never names a record that was not anchored. The superseded digest itself need not
    /// be anchored (a correction may be anchored in the same batch as its predecessor, or a
    /// predecessor may be revoked). Checks in order: the role; both digests non-zero
    /// (AnchorRegistryZeroDigest); digest != successor (AnchorRegistrySelfSupersession); batch
    /// `successorSeq` anchored (AnchorRegistryUnknownBatch); the proof
    /// (AnchorRegistrySuccessorNotAnchored); not superseded before
    /// (AnchorRegistryAlreadySuperseded, naming the recorded successor).
    /// @param digest The superseded record digest.
    /// @param successor The digest of the record that supersedes it.
    /// @param successorSeq The batch holding `successor`.
    /// @param successorProof The Merkle proof of `successor` in batch `successorSeq`, as for
    /// {verifyInclusion}.
    function markSuperseded(
        bytes32 digest,
        bytes32 successor,
        uint64 successorSeq,
        bytes32[] calldata successorProof
    ) external onlyRole(ANCHORER_ROLE) {
        if (digest == bytes32(0) || successor == bytes32(0)) revert AnchorRegistryZeroDigest();
        if (digest == successor) revert AnchorRegistrySelfSupersession(digest);
        if (!_isMember(successorSeq, successorProof, successor)) {
            revert AnchorRegistrySuccessorNotAnchored(successor, successorSeq);
        }
        StoredSupersession storage stored = _supersessions[digest];
        if (stored.successor != bytes32(0)) {
            revert AnchorRegistryAlreadySuperseded(digest, stored.successor);
        }
        stored.successor = successor;
        stored.successorSeq = successorSeq;
        stored.blockNumber = uint64(block.number);
        stored.timestamp = uint64(block.timestamp);
        emit DigestSuperseded(digest, successor, successorSeq);
    }

    /// @notice Reads the supersession of `digest`; all fields are zero if it was never
    /// superseded.
    function getSupersession(bytes32 digest) public view returns (Supersession memory) {
        StoredSupersession storage stored = _supersessions[digest];
        return Supersession({
            successor: stored.successor,
            successorSeq: stored.successorSeq,
            blockNumber: stored.blockNumber,
            timestamp: stored.timestamp
        });
    }

    /// @notice The status of `digest` in one read: its revocation and its supersession.
    function getStatus(bytes32 digest) external view returns (RecordStatus memory) {
        return RecordStatus({
            revocation: getRevocation(digest),
            supersession: getSupersession(digest)
        });
    }

    function _isMember(uint64 seq, bytes32[] calldata proof, bytes32 recordDigest)
        private
        view
        returns (bool)
    {
        bytes32 root = _storedBatch(seq).root;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(recordDigest))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function _storedBatch(uint64 seq) private view returns (StoredBatch storage stored) {
        stored = _batches[seq];
        // Roots are never zero once anchored, so a zero root means "never anchored" (seq 0 too).
        if (stored.root == bytes32(0)) revert AnchorRegistryUnknownBatch(seq);
    }
}
