"""The public namespace of built-in checks: ``mp.checks.in_range(0, 120)`` and the rest.

The checks live in :mod:`mlprod.data.validation.checks`; this module is the
stable place users import them from (``from mlprod.data.checks import ge``).

Examples
--------
>>> import pandas as pd, mlprod as mp
>>> mp.checks.in_range(0, 120)(pd.Series([3, 150])).tolist()
[True, False]
>>> from mlprod.data.checks import ge
>>> ge(0) == mp.checks.ge(0)
True
"""

from mlprod.data.validation.checks import *  # noqa: F403
from mlprod.data.validation.checks import __all__ as __all__
