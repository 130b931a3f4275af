"""Property-based behaviour tests for models and data (the ``testing`` extra).

``import mlprod.testing as mt`` gives both halves of testing ML code the way
hypothesis tests parsers:

* strategies of valid data: :func:`frames` (from a schema),
  :func:`rows_like` (around a real frame) and :func:`from_profile` (from a
  drift profile, without the data);
* behaviour checks of models: :func:`check_predictor` (one-row and empty
  inputs, column order, dtypes, determinism, threads, pickling,
  probabilities, NaN) and the properties :func:`invariance`,
  :func:`directional`, :func:`minimum_functionality` and
  :func:`consistency`, each shrinking a failure to its smallest input;
* pytest: ``assert_*`` helpers, the :func:`behaviour` decorator and the
  plugin :mod:`mlprod.testing.plugin` (``--mlprod-profile=ci|deep``);
* promotion: :func:`behaviour_gate` runs a suite on the version being
  promoted and stores its :class:`BehaviourReport` as gate evidence.

Examples
--------
>>> import pandas as pd, mlprod.testing as mt
>>> class Score:
...     def predict(self, X):
...         return X["income"].to_numpy() / 100.0
>>> X = pd.DataFrame({"income": [10.0, 50.0, 90.0]})
>>> mt.directional(Score(), X, "income", max_examples=20, database=False).ok
True
"""

from mlprod.testing._agreement import consistency, minimum_functionality
from mlprod.testing._assertions import (
    assert_consistency,
    assert_directional,
    assert_invariance,
    assert_minimum_functionality,
    assert_predictor,
    behaviour,
)
from mlprod.testing._gate import behaviour_gate
from mlprod.testing._predictor import check_predictor
from mlprod.testing._properties import directional, invariance
from mlprod.testing._report import BehaviourReport, CheckResult
from mlprod.testing._strategies import frames, from_profile, rows_like

__all__ = [
    "BehaviourReport",
    "CheckResult",
    "assert_consistency",
    "assert_directional",
    "assert_invariance",
    "assert_minimum_functionality",
    "assert_predictor",
    "behaviour",
    "behaviour_gate",
    "check_predictor",
    "consistency",
    "directional",
    "frames",
    "from_profile",
    "invariance",
    "minimum_functionality",
    "rows_like",
]

# The public path, so reprs, docs and pickles name mlprod.testing.<name>.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
