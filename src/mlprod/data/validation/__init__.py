"""Data validation: a :class:`Schema` declares, an engine runs it.

Declaration: ``schema`` (``Schema``, ``Column``), ``checks/`` (built-in checks
by kind), ``dtypes``. Execution and the rest depend on the declaration, never
the reverse: ``plan`` (a schema compiled) with ``kernels``, ``results`` (chunk
results merged), ``sources`` (chunks, files, Dask), ``report``
(``ValidationReport``), ``serialize`` (JSON/YAML), ``strategies``
(hypothesis), ``infer`` (a schema from a frame), ``engine`` (joins them).

May import: the ground only. Other packages import from here, not from the
modules inside.
"""

from mlprod.data.validation import checks, dtypes
from mlprod.data.validation.engine import PandasEngine
from mlprod.data.validation.infer import infer_schema
from mlprod.data.validation.report import CheckFailures, ValidationReport
from mlprod.data.validation.schema import Column, Schema, use_engine

use_engine(PandasEngine())

__all__ = [
    "CheckFailures",
    "Column",
    "Schema",
    "ValidationReport",
    "checks",
    "dtypes",
    "infer_schema",
]
