"""Checks that read more than one cell: a column's other rows, or a row's other columns.

``unique`` and ``monotonic`` check a column across its rows;
``compare_columns`` and ``no_duplicates`` check a whole frame.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlprod.data.validation.checks.base import BuiltinCheck
from mlprod.data.validation.kernels import OPS, VIOLATION, strip_nulls, to_bool_array
from mlprod.errors import ConfigurationError

__all__ = ["compare_columns", "monotonic", "no_duplicates", "unique"]


# --------------------------------------------------------------------- checks across rows


@dataclass(frozen=True, repr=False)
class unique(BuiltinCheck):  # noqa: N801
    """Values that occur once in the column; every copy of a repeated value fails.

    Across chunks (:meth:`~mlprod.Schema.validate_files`, Dask) a value
    repeated in two chunks is found too.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.unique()(pd.Series([1, 2, 1])).tolist()
    [False, True, False]
    """

    kind: ClassVar[str] = "unique"

    @property
    def name(self) -> str:
        """``unique()``."""
        return "unique()"

    def __repr__(self) -> str:
        return "checks.unique()"

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        series = pd.Series(values, copy=False)
        bad = np.asarray(series.duplicated(keep=False), dtype=bool)
        return strip_nulls(bad, null)


@dataclass(frozen=True, repr=False)
class monotonic(BuiltinCheck):  # noqa: N801
    """Values that never go down (or up, with ``decreasing=True``) from the previous one.

    A value fails when it breaks the order against the previous non-missing
    value; ``strict=True`` also fails repeats.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.monotonic()(pd.Series([1, 2, 2, 1, 3])).tolist()
    [True, True, True, False, True]
    """

    _: KW_ONLY
    decreasing: bool = False
    strict: bool = False
    kind: ClassVar[str] = "monotonic"

    @property
    def name(self) -> str:
        """``monotonic(increasing)``, ``monotonic(strictly decreasing)``."""
        way = "decreasing" if self.decreasing else "increasing"
        return f"monotonic({'strictly ' if self.strict else ''}{way})"

    def breaks(self, previous: Any, current: Any) -> Any:
        """Whether ``current`` breaks the order after ``previous`` (vectorised)."""
        if self.decreasing:
            return current >= previous if self.strict else current > previous
        return current <= previous if self.strict else current < previous

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        if len(values) < 2:
            return None
        keep = None if null is None else np.flatnonzero(~null)
        arr = values if keep is None else values[keep]
        if len(arr) < 2:
            return None
        broken = np.concatenate([[False], to_bool_array(self.breaks(arr[:-1], arr[1:]))])
        if not broken.any():
            return None
        if keep is None:
            return broken
        bad = np.zeros(len(values), dtype=bool)
        bad[keep] = broken
        return bad


# ------------------------------------------------------------------------- frame checks


@dataclass(frozen=True, repr=False)
class compare_columns(BuiltinCheck):  # noqa: N801
    """Rows where ``left <op> right`` holds between two columns, e.g. ``start <= end``.

    Rows where either side is missing pass.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> df = pd.DataFrame({"start": [1, 5], "end": [2, 4]})
    >>> mp.checks.compare_columns("start", "<=", "end")(df).tolist()
    [True, False]
    """

    left: str
    op: str
    right: str
    kind: ClassVar[str] = "compare_columns"
    scope: ClassVar[str] = "frame"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in OPS:
            raise ConfigurationError(
                f"Unknown operator {self.op!r} in compare_columns: use one of {sorted(OPS)}.",
                parameter="op",
                value=self.op,
            )

    @property
    def name(self) -> str:
        """``compare_columns(start <= end)``."""
        return f"compare_columns({self.left} {self.op} {self.right})"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the check reads."""
        return (self.left, self.right)

    def frame_failures(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Mask of failing rows of ``frame``, or ``None`` when all pass."""
        left, right = frame[self.left].array, frame[self.right].array
        bad = to_bool_array(OPS[VIOLATION[self.op]](left, right))
        missing = np.asarray(pd.isna(left), dtype=bool) | np.asarray(pd.isna(right), dtype=bool)
        bad &= ~missing
        return bad if bad.any() else None

    def __call__(self, data: Any, /) -> Any:
        """Apply the check to a DataFrame; return the row validity mask."""
        bad = self.frame_failures(data)
        return pd.Series(np.ones(len(data), bool) if bad is None else ~bad, index=data.index)


@dataclass(frozen=True, repr=False)
class no_duplicates(BuiltinCheck):  # noqa: N801
    """Rows whose combination of ``columns`` occurs once; every copy of a repeat fails.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> df = pd.DataFrame({"user": [1, 1, 1], "day": [1, 2, 1]})
    >>> mp.checks.no_duplicates(["user", "day"])(df).tolist()
    [False, True, False]
    """

    columns: tuple[str, ...]
    kind: ClassVar[str] = "no_duplicates"
    scope: ClassVar[str] = "frame"

    @property
    def name(self) -> str:
        """``no_duplicates(user, day)``."""
        return f"no_duplicates({', '.join(self.columns)})"

    def frame_failures(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Mask of failing rows of ``frame``, or ``None`` when all pass."""
        bad = np.asarray(frame.duplicated(subset=list(self.columns), keep=False), dtype=bool)
        return bad if bad.any() else None

    def __call__(self, data: Any, /) -> Any:
        """Apply the check to a DataFrame; return the row validity mask."""
        bad = self.frame_failures(data)
        return pd.Series(np.ones(len(data), bool) if bad is None else ~bad, index=data.index)
