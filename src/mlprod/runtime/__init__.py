"""The runtime guard: fallbacks, deadlines, circuit breaker, bulkhead, statistics.

May import: ``mlprod.data`` and ``mlprod.audit`` (through their ``__init__``) and the
ground; never ``models``, ``reports`` or ``testing``. Public names are re-exported
from :mod:`mlprod`.
"""
