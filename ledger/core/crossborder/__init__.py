"""The cross-border workflow's pure core (docs/CALC.md §11, docs/RECORDS.md §3.3.1, §3.8).

- :mod:`~ledger.core.crossborder.rulebook`: what a region rule of schema version 2 says
  for a record: the baseline of its CN code, whether the good is levied, the
  free-allocation share of a year, the declaration deadline (the mandatory factors
  belong to the substitution itself, ``ledger.core.calc.substitution``);
- :mod:`~ledger.core.crossborder.tariff`: the predicted tariff burden (§11.3);
- :mod:`~ledger.core.crossborder.bands`: the risk level and its band edges (§11.4);
- :mod:`~ledger.core.crossborder.assessment`: the pre-assessment of a carbon record
  for a region and the `risk-assessment` record's recomputation (§11.1, §11.5).

Everything here is pure calc/1 arithmetic over validated records: the service produces
assessments with it and the verifier recomputes them with it.
"""
