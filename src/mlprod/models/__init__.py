"""The model registry: sealed versions, aliases with history, gates, lineage.

Public names are re-exported from :mod:`mlprod`.
"""
