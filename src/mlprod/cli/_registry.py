"""``mlprod`` subcommands for this area (filled in by its issue)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add this area's subcommands to the ``mlprod`` parser."""
