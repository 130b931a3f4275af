"""Refuse a check's settings when it is made, not when it first meets data.

``checks.in_range(5, 1)`` accepts no value at all, and ``checks.str_matches("(")``
cannot compile: both are mistakes in the schema, so they raise a
:class:`~mlprod.errors.ConfigurationError` saying which parameter is wrong and
how to fix it, at construction (and so also when a schema is read from JSON or YAML).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from mlprod.errors import ConfigurationError

__all__ = ["check_bounds", "check_flag", "check_pattern", "check_text_values"]


def check_flag(kind: str, name: str, value: Any) -> None:
    """A boolean setting must be ``True`` or ``False`` (``"no"`` is truthy)."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigurationError(
            f"{kind}({name}={value!r}): {name} must be True or False, "
            f"got a {type(value).__name__}.",
            parameter=name,
            value=value,
        )


def _is_nan(value: Any) -> bool:
    try:
        return bool(value != value) or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def check_bounds(
    kind: str,
    low: Any,
    high: Any,
    *,
    include_min: bool = True,
    include_max: bool = True,
    integral: bool = False,
) -> None:
    """Bounds must be comparable, not NaN, and leave some value between them.

    Examples
    --------
    >>> check_bounds("in_range", 0, 120)
    >>> check_bounds("in_range", 5, 1)
    Traceback (most recent call last):
    ...
    mlprod.ConfigurationError: in_range(5, 1): min_value 5 is greater than ...
    """
    check_flag(kind, "include_min", include_min)
    check_flag(kind, "include_max", include_max)
    for name, value in (("min_value", low), ("max_value", high)):
        if value is None:
            continue
        if isinstance(value, bool | np.bool_) or (
            integral and not isinstance(value, int | np.integer)
        ):
            want = "an integer" if integral else "a number, timestamp or string"
            raise ConfigurationError(
                f"{kind}: {name}={value!r} must be {want} or None.",
                parameter=name,
                value=value,
            )
        if integral and value < 0:
            raise ConfigurationError(
                f"{kind}: {name}={value!r} is negative; a length is at least 0.",
                parameter=name,
                value=value,
            )
        if _is_nan(value):
            raise ConfigurationError(
                f"{kind}: {name} is NaN, which compares false with every value, so the check "
                "could never pass. Give a number, or None for an open end.",
                parameter=name,
                value=value,
            )
    if low is None or high is None:
        return
    try:
        reversed_ = bool(low > high)
        empty = bool(low == high) and not (include_min and include_max)
    except TypeError:
        raise ConfigurationError(
            f"{kind}({low!r}, {high!r}): the bounds cannot be compared with each other "
            f"({type(low).__name__} vs {type(high).__name__}). Give two bounds of one kind.",
            parameter="max_value",
            value=high,
        ) from None
    if reversed_:
        raise ConfigurationError(
            f"{kind}({low!r}, {high!r}): min_value {low!r} is greater than max_value {high!r}, "
            f"so no value could pass. Swap them: {kind}({high!r}, {low!r}).",
            parameter="min_value",
            value=low,
        )
    if empty:
        raise ConfigurationError(
            f"{kind}({low!r}, {high!r}) with an open end holds no value: the bounds are equal. "
            "Make both ends inclusive, or use checks.eq.",
            parameter="max_value",
            value=high,
        )


def check_pattern(kind: str, pattern: Any) -> None:
    """A regular expression must be a string that compiles."""
    if not isinstance(pattern, str):
        raise ConfigurationError(
            f"{kind}: the pattern must be a string, got {type(pattern).__name__} {pattern!r}.",
            parameter="pattern",
            value=pattern,
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigurationError(
            f"{kind}({pattern!r}): not a valid regular expression ({exc}). "
            "Fix the pattern, or escape literal text with re.escape().",
            parameter="pattern",
            value=pattern,
        ) from None


def check_text_values(kind: str, name: str, value: Any) -> None:
    """A literal prefix or suffix must be a string."""
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{kind}: {name} must be a string, got {type(value).__name__} {value!r}.",
            parameter=name,
            value=value,
        )
