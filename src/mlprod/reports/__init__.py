"""Reports on models: fairness and interpretability.

Public names are re-exported from :mod:`mlprod`: :func:`mlprod.fairness_report`
and :class:`mlprod.FairnessReport` live in :mod:`mlprod.reports.fairness`.
"""
