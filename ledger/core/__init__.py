"""Consensus-critical, pure code: canonical form, records, commitments, Merkle
trees, signatures, the calculation spec and the bundle format.

No I/O, no database, no web framework, no chain. Changing anything here
changes every proof ever issued: it moves only with new test vectors.
"""
