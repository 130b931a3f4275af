"""The model registry: sealed versions, aliases with history, gates, lineage.

May import: ``mlprod.data`` and ``mlprod.audit`` (through their ``__init__``) and the
ground; never ``reports``, ``runtime`` or ``testing``. Public names are re-exported
from :mod:`mlprod`.
"""
