"""Trustless chain reads for the verifier: nothing an RPC node says is believed unless it
is proven against a block header whose hash the verifier recomputed itself.

- ``rpc``: a JSON-RPC client that sends many calls in one HTTP request (batch), with a
  timeout and one-sentence errors naming the endpoint.
- ``header``: a block header from ``eth_getBlockByNumber``, its RLP for the fork the chain
  is on, and its recomputed hash.
- ``state``: account and storage proofs (``eth_getProof``, EIP-1186) folded locally to the
  header's state root (Merkle-Patricia trie).
- ``layout``: where a contract keeps a value, from the compiler's storage layout.
- ``registry``: the AnchorRegistry's batch records proven at their anchor blocks, with the
  block hashes compared across every endpoint given.

docs/VERIFY.md §9 "What you trust" says what an auditor still trusts after these checks.
"""
