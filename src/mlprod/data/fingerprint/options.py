"""Checking a fingerprint's options before any work: flags must be real booleans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mlprod.errors import ConfigurationError

__all__ = ["check_options"]


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse an option that is not ``True``/``False`` (``ordered="no"`` is truthy, not false).

    Examples
    --------
    >>> check_options({"ordered": True})
    >>> check_options({"ordered": "no"})
    Traceback (most recent call last):
    ...
    mlprod.ConfigurationError: fingerprint(ordered='no'): ordered must be True or False, ...
    """
    for name, value in options.items():
        if not isinstance(value, bool | np.bool_):
            raise ConfigurationError(
                f"fingerprint({name}={value!r}): {name} must be True or False, "
                f"got a {type(value).__name__}. Pass {name}=True or {name}=False.",
                parameter=name,
                value=value,
            )
