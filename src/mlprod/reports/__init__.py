"""Reports on models: fairness and interpretability.

May import: ``mlprod.data``, ``mlprod.audit`` and the ground; never ``models``,
``runtime`` or ``testing``. Public names are re-exported from :mod:`mlprod`:
:func:`mlprod.fairness_report` and :class:`mlprod.FairnessReport` live in
:mod:`mlprod.reports.fairness`; :func:`mlprod.explain`, :func:`mlprod.explainer`
and :class:`mlprod.ExplanationReport` in the ``mlprod.reports.explain*`` modules.
"""
