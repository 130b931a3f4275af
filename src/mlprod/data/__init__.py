"""Data tools: validation, drift, fingerprints and versioned snapshots.

Nothing here knows that models exist. Public names are re-exported from
:mod:`mlprod`.
"""
