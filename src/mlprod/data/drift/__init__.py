"""Drift and data-quality monitoring: mergeable profiles, honest per-column tests, a monitor.

Public names are re-exported from :mod:`mlprod`: ``profile``, ``profile_files``,
``Profile``, ``drift``, ``DriftReport``, ``DriftMonitor``.
"""
