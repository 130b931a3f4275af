"""The runtime guard: fallbacks, deadlines, circuit breaker, bulkhead, statistics.

Public names are re-exported from :mod:`mlprod`.
"""
