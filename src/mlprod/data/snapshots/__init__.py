"""Versioned, content-addressed snapshots of tables and what changed between them.

``store`` (``DatasetStore``: commit, load, aliases, log), ``version``
(``DatasetVersion``, the record of one commit), ``diff`` (``DatasetDiff``),
``backend`` (the directory or fsspec URL underneath, with atomic writes), ``objects``
(data named by the digest of its bytes), ``verify`` (``StoreVerification``),
``gc`` (``StoreGcReport``), ``dtypes`` (the exact dtypes a version loads back with).

May import: the ground and :mod:`mlprod.data.fingerprint` (through its
``__init__``). Other packages import from here, not from the modules inside.
"""

from mlprod.data.snapshots.diff import DatasetDiff
from mlprod.data.snapshots.gc import StoreGcReport
from mlprod.data.snapshots.store import DatasetStore
from mlprod.data.snapshots.verify import StoreProblem, StoreVerification
from mlprod.data.snapshots.version import DatasetVersion

__all__ = [
    "DatasetDiff",
    "DatasetStore",
    "DatasetVersion",
    "StoreGcReport",
    "StoreProblem",
    "StoreVerification",
]
