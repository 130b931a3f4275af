"""Shared ground: canonical JSON and hashing, lazy imports, rendering, environment, logging.

May import: ``mlprod.errors`` and ``mlprod.protocols`` only; every layer may import
from here.
"""
