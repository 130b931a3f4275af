"""Data tools, one subpackage per concern: what a reader looks for, by folder.

* :mod:`~mlprod.data.validation` declares what a frame must hold (``Schema``,
  ``Column``, checks) and runs it on pandas, files and Dask.
* :mod:`~mlprod.data.fingerprint` hashes a table's logical content.
* :mod:`~mlprod.data.snapshots` keeps content-addressed versions and diffs them.
* :mod:`~mlprod.data.drift` (profiles and drift reports) sits beside them.

May import: the ground (``mlprod.protocols``, ``mlprod.errors``, ``mlprod._internal``)
only. Nothing here knows that models exist. A subpackage uses another only
through that one's ``__init__``. Public names are re-exported from :mod:`mlprod`;
:mod:`mlprod.data.checks` is the public namespace of built-in checks.
"""
