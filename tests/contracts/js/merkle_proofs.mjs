// Reference Merkle trees for the contract tests, built by OpenZeppelin's own
// library (@openzeppelin/merkle-tree StandardMerkleTree, leaf encoding ["bytes32"],
// docs/FORMAT.md §4), so the proofs the contract accepts are not our own output.
//
// stdin:  {"digests": ["0x<64 hex>", ...]}
// stdout: {"root": "0x..", "tree": ["0x..", ...],
//          "items": [{"digest": "0x..", "leaf": "0x..", "treeIndex": n, "proof": ["0x..", ...]}]}
// "tree" is the library's flat node array (index 0 is the root, children of i are
// 2i+1 and 2i+2), which lets a test present an inner node as if it were a digest.
import { readFileSync } from "node:fs";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

const input = JSON.parse(readFileSync(0, "utf8"));
if (!Array.isArray(input.digests) || input.digests.length === 0) {
  process.stderr.write("expected {\"digests\": [\"0x...\", ...]} with at least one digest\n");
  process.exit(2);
}
const tree = StandardMerkleTree.of(input.digests.map((d) => [d]), ["bytes32"]);
const dump = tree.dump();
const items = dump.values.map((entry, i) => ({
  digest: entry.value[0],
  leaf: tree.leafHash(entry.value),
  treeIndex: entry.treeIndex,
  proof: tree.getProof(i),
}));
process.stdout.write(JSON.stringify({ root: tree.root, tree: dump.tree, items }) + "\n");
