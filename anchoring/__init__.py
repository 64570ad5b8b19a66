"""Compiling and deploying the contracts, chain backends (memory, dev, rpc), and the anchorer."""
