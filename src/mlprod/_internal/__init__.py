"""Shared ground: canonical JSON and hashing, lazy imports, rendering, environment, logging.

Nothing in here imports from the layers above; every layer may import from here.
"""
