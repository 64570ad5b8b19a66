"""carbonledger: the ledger core, its store and the ledger service."""
