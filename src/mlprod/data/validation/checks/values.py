"""Checks of each value on its own: comparisons, ranges, membership, finiteness."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlprod.data.validation.checks.base import BuiltinCheck
from mlprod.data.validation.checks.settings import check_bounds
from mlprod.data.validation.kernels import numeric_view, strip_nulls, violations
from mlprod.errors import ConfigurationError

__all__ = [
    "datetime_between",
    "eq",
    "finite",
    "ge",
    "gt",
    "in_range",
    "isin",
    "le",
    "lt",
    "ne",
    "notin",
]


@dataclass(frozen=True, repr=False)
class _Compare(BuiltinCheck):
    value: Any
    op: ClassVar[str] = ""

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        return strip_nulls(violations(values, self.op, self.value), null)


@dataclass(frozen=True, repr=False)
class gt(_Compare):  # noqa: N801
    """Values greater than ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.gt(0)(pd.Series([0, 1])).tolist()
    [False, True]
    """

    kind: ClassVar[str] = "gt"
    op: ClassVar[str] = ">"


@dataclass(frozen=True, repr=False)
class ge(_Compare):  # noqa: N801
    """Values greater than or equal to ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.ge(0)(pd.Series([-1, 0])).tolist()
    [False, True]
    """

    kind: ClassVar[str] = "ge"
    op: ClassVar[str] = ">="


@dataclass(frozen=True, repr=False)
class lt(_Compare):  # noqa: N801
    """Values less than ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.lt(1)(pd.Series([0, 1])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "lt"
    op: ClassVar[str] = "<"


@dataclass(frozen=True, repr=False)
class le(_Compare):  # noqa: N801
    """Values less than or equal to ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.le(1)(pd.Series([1, 2])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "le"
    op: ClassVar[str] = "<="


@dataclass(frozen=True, repr=False)
class eq(_Compare):  # noqa: N801
    """Values equal to ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.eq("EUR")(pd.Series(["EUR", "USD"])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "eq"
    op: ClassVar[str] = "=="


@dataclass(frozen=True, repr=False)
class ne(_Compare):  # noqa: N801
    """Values different from ``value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.ne(0)(pd.Series([0, 1])).tolist()
    [False, True]
    """

    kind: ClassVar[str] = "ne"
    op: ClassVar[str] = "!="


@dataclass(frozen=True, repr=False)
class in_range(BuiltinCheck):  # noqa: N801
    """Values between ``min_value`` and ``max_value`` (inclusive unless told otherwise).

    Either bound may be ``None`` (open). Works on numbers and, with
    timestamps or ISO strings as bounds, on datetimes.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.in_range(0, 120)(pd.Series([0, 120, 121])).tolist()
    [True, True, False]
    >>> mp.checks.in_range(0, 1, include_max=False)(pd.Series([1.0])).tolist()
    [False]
    """

    min_value: Any = None
    max_value: Any = None
    _: KW_ONLY
    include_min: bool = True
    include_max: bool = True
    kind: ClassVar[str] = "in_range"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_value is None and self.max_value is None:
            raise ConfigurationError(
                "in_range needs min_value, max_value or both.", parameter="min_value"
            )
        check_bounds(
            self.kind,
            self.min_value,
            self.max_value,
            include_min=self.include_min,
            include_max=self.include_max,
        )

    @property
    def name(self) -> str:
        """``in_range(0, 120)``, or ``in_range(0, 1, include_max=False)`` for an open end."""
        flags = "".join(
            f", {flag}=False" for flag in ("include_min", "include_max") if not getattr(self, flag)
        )
        return f"in_range({self.min_value!r}, {self.max_value!r}{flags})"

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        num = numeric_view(values)
        if num is not None and len(num):
            # One min and one max decide the clean case for both bounds at once.
            lo, hi = num.min(), num.max()
            low_ok = self.min_value is None or (
                lo >= self.min_value if self.include_min else lo > self.min_value
            )
            high_ok = self.max_value is None or (
                hi <= self.max_value if self.include_max else hi < self.max_value
            )
            if low_ok and high_ok:
                return None
        bad: np.ndarray | None = None
        if self.min_value is not None:
            bad = violations(values, ">=" if self.include_min else ">", self.min_value)
        if self.max_value is not None:
            upper = violations(values, "<=" if self.include_max else "<", self.max_value)
            if upper is not None:
                bad = upper if bad is None else bad | upper
        return strip_nulls(bad, null)


@dataclass(frozen=True, repr=False)
class datetime_between(in_range):  # noqa: N801
    """Timestamps between ``min_value`` and ``max_value`` (ISO strings or datetimes).

    The same rule as :func:`in_range`, spelled for dates so a schema reads
    as what it means; bounds on a time-zone-aware column need a time zone.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> check = mp.checks.datetime_between("2020-01-01", "2030-01-01")
    >>> check(pd.Series(pd.to_datetime(["2019-12-31", "2024-06-01"]))).tolist()
    [False, True]
    """

    kind: ClassVar[str] = "datetime_between"

    @property
    def name(self) -> str:
        """``datetime_between('2020-01-01', '2030-01-01')``."""
        lo = None if self.min_value is None else str(self.min_value)
        hi = None if self.max_value is None else str(self.max_value)
        return f"datetime_between({lo!r}, {hi!r})"

    def __post_init__(self) -> None:
        for attr in ("min_value", "max_value"):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, pd.Timestamp(value))
        super().__post_init__()


@dataclass(frozen=True, repr=False)
class isin(BuiltinCheck):  # noqa: N801
    """Values among ``values``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.isin(["red", "green"])(pd.Series(["red", "blue"])).tolist()
    [True, False]
    """

    values: tuple[Hashable, ...]
    kind: ClassVar[str] = "isin"

    def _allowed_categories(self, dtype: Any) -> np.ndarray:
        # Categories are few and a column's dtype repeats call after call: decide once per dtype.
        # Keyed by the category values: comparing dtype objects walks an Index, slower.
        categories = dtype.categories
        if len(categories) > 1000:
            return np.asarray(categories.isin(list(self.values)), dtype=bool)
        cache: dict[Any, np.ndarray] = self.__dict__.setdefault("_category_cache", {})
        key = tuple(categories.tolist())
        try:
            return cache[key]
        except KeyError:
            allowed = np.asarray(categories.isin(list(self.values)), dtype=bool)
            if len(cache) < 64:
                cache[key] = allowed
            return allowed

    def _member(self, values: Any) -> np.ndarray:
        codes = getattr(values, "codes", None)
        if isinstance(codes, np.ndarray):
            allowed = self._allowed_categories(values.dtype)
            return np.where(codes >= 0, allowed[np.maximum(codes, 0)], False)
        pa_array = getattr(values, "_pa_array", None)
        if pa_array is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            try:
                value_set = pa.array(list(self.values), type=pa_array.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                value_set = None
            if value_set is not None:
                found = pc.is_in(pa_array, value_set=value_set)
                return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False))
        if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
            try:
                return np.isin(values, np.asarray(self.values))
            except TypeError:
                pass
        return np.asarray(pd.Series(values, copy=False).isin(list(self.values)), dtype=bool)

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        codes = getattr(values, "codes", None)
        if isinstance(codes, np.ndarray) and self._allowed_categories(values.dtype).all():
            return None  # every category is allowed, so every value is
        return strip_nulls(~self._member(values), null)


@dataclass(frozen=True, repr=False)
class notin(isin):  # noqa: N801
    """Values not among ``values``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.notin(["N/A", ""])(pd.Series(["x", "N/A"])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "notin"

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        return strip_nulls(self._member(values), null)


@dataclass(frozen=True, repr=False)
class finite(BuiltinCheck):  # noqa: N801
    """Numbers that are not ±infinity (NaN is a missing value, governed by ``nullable``).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.finite()(pd.Series([1.0, float("inf")])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "finite"

    @property
    def name(self) -> str:
        """``finite()``."""
        return "finite()"

    def __repr__(self) -> str:
        return "checks.finite()"

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        if isinstance(values, np.ndarray):
            if values.dtype.kind in "iub":
                return None
            num = values.astype("float64", copy=False)
        else:
            num = np.asarray(values.to_numpy(dtype="float64", na_value=np.nan))
        with np.errstate(invalid="ignore", over="ignore"):
            if len(num) == 0 or np.isfinite(num.sum()):
                return None
        return strip_nulls(np.isinf(num), null)
