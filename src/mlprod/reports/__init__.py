"""Reports on models: fairness and interpretability.

May import: ``mlprod.data``, ``mlprod.audit`` and the ground; never ``models``,
``runtime`` or ``testing``. Public names are re-exported from :mod:`mlprod`.
"""
