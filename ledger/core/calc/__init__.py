"""calc/1, the calculation spec (docs/CALC.md), one module per concern.

- :mod:`~ledger.core.calc.arithmetic`: the decimal context, the one rounding, exact
  text and the comparison of stated against recomputed figures (§2, §8);
- :mod:`~ledger.core.calc.units`: the fixed tables of units and GWP values (§3, §4);
- :mod:`~ledger.core.calc.inputs`: what a computation reads from the records it is
  given (their types, factor-set entries as a line quotes them);
- :mod:`~ledger.core.calc.lines`: a carbon record's lines and totals (§5, §8);
- :mod:`~ledger.core.calc.substitution`: a factor substitution (§6, §7);
- :mod:`~ledger.core.calc.rating`: a credit grade (§9).

The service produces figures with these functions and the verifier recomputes them
with the same ones. The package itself imports nothing, so the record types can
read the unit tables without loading the computations.
"""
