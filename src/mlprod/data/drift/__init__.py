"""Drift and data-quality monitoring: mergeable profiles, honest per-column tests, a monitor.

A :class:`Profile` summarises a reference frame in kilobytes per column and
merges exactly (counts, moments) or within a stated error (quantiles);
:func:`drift` compares new data with it column by column; a
:class:`DriftMonitor` does so window by window in a serving loop.

May import: the ground (``mlprod._internal``, ``mlprod.errors``,
``mlprod.protocols``), numpy, pandas, pyarrow and scipy; nothing else in
``mlprod.data``, and nothing above it. Public names are re-exported from
:mod:`mlprod`.
"""

from mlprod.data.drift.compare import drift
from mlprod.data.drift.monitor import DriftMonitor, WindowReport
from mlprod.data.drift.profiles import Profile, profile
from mlprod.data.drift.report import ColumnDrift, DriftReport
from mlprod.data.drift.sources import profile_files

__all__ = [
    "ColumnDrift",
    "DriftMonitor",
    "DriftReport",
    "Profile",
    "WindowReport",
    "drift",
    "profile",
    "profile_files",
]
