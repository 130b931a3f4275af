"""Reports on models: fairness and interpretability.

Public names are re-exported from :mod:`mlprod`.
"""
