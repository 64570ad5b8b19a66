"""Exchange with the buyers' systems, as pure functions over ``ledger.core``.

- :mod:`~ledger.exchange.footprint`: a PACT v3 ``ProductFootprint`` from an anchored carbon
  record or conversion, and the ``carbonledger-proof`` data model extension (docs/PACT.md);
- :mod:`~ledger.exchange.filters`: the ListFootprints filters and their matching;
- :mod:`~ledger.exchange.cloudevents`: the CloudEvents the PACT events endpoint takes and
  sends (structured JSON mode).

No I/O: the ledger service reads the store and calls these.
"""
