"""Checks of text: regular expressions, length, prefix and suffix.

Arrow strings are checked with Arrow compute (each distinct value once when
there are few); other text with pandas' string methods. A value that is
not text fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlprod.data.validation.checks.base import BuiltinCheck
from mlprod.data.validation.checks.settings import check_bounds, check_pattern, check_text_values
from mlprod.data.validation.kernels import (
    arrow_failures,
    arrow_strings,
    object_text_failures,
    strip_nulls,
)
from mlprod.data.validation.textpath import category_failures, use_distinct
from mlprod.errors import ConfigurationError

__all__ = [
    "str_contains",
    "str_endswith",
    "str_length",
    "str_matches",
    "str_startswith",
]


@dataclass(frozen=True, repr=False)
class _TextCheck(BuiltinCheck):
    """A check on text; a value that is not text fails it."""

    def _arrow(self, strings: Any) -> Any:
        raise TypeError

    def _python(self, series: pd.Series) -> pd.Series:
        raise TypeError

    #: Estimated cost of the Arrow kernel per row, in ns (see :mod:`..textpath`).
    row_cost_ns: ClassVar[float] = 3.0

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            return category_failures(self, values)
        strings = arrow_strings(values)
        if strings is not None:
            import pyarrow as pa

            try:
                if use_distinct(strings, self.row_cost_ns):
                    return strip_nulls(self._by_distinct(strings), null)
                return strip_nulls(arrow_failures(self._arrow(strings)), null)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass  # a regex RE2 cannot compile: Python's re handles it below
        return strip_nulls(object_text_failures(values, self._python), null)

    def _by_distinct(self, strings: Any) -> np.ndarray | None:
        """Check each distinct value once; locate the rows only if one fails."""
        import pyarrow.compute as pc

        distinct = pc.unique(strings)
        verdict = self._arrow(distinct)
        if pc.all(verdict).as_py() is not False:
            return None
        failing = distinct.filter(pc.invert(pc.fill_null(verdict, True)))
        found = pc.is_in(strings, value_set=failing)
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True, repr=False)
class str_matches(_TextCheck):  # noqa: N801
    """Text matching the regular expression ``pattern`` from its start (like ``re.match``).

    Anchor the end with ``$`` to match the whole value.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.str_matches(r"[A-Z]{2}\\d")(pd.Series(["AB1x", "a1"])).tolist()
    [True, False]
    """

    pattern: str
    kind: ClassVar[str] = "str_matches"
    row_cost_ns: ClassVar[float] = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_pattern(self.kind, self.pattern)

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        return pc.match_substring_regex(strings, f"^(?:{self.pattern})")

    def _python(self, series: pd.Series) -> pd.Series:
        return series.str.match(self.pattern).fillna(False)


@dataclass(frozen=True, repr=False)
class str_contains(_TextCheck):  # noqa: N801
    """Text containing a match of the regular expression ``pattern`` anywhere.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.str_contains("@")(pd.Series(["a@b", "ab"])).tolist()
    [True, False]
    """

    pattern: str
    kind: ClassVar[str] = "str_contains"
    row_cost_ns: ClassVar[float] = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_pattern(self.kind, self.pattern)

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        return pc.match_substring_regex(strings, self.pattern)

    def _python(self, series: pd.Series) -> pd.Series:
        return series.str.contains(self.pattern, regex=True).fillna(False)


@dataclass(frozen=True, repr=False)
class str_length(_TextCheck):  # noqa: N801
    """Text whose length (in characters) is between ``min_value`` and ``max_value``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.str_length(2, 3)(pd.Series(["a", "ab", "abcd"])).tolist()
    [False, True, False]
    """

    min_value: int | None = None
    max_value: int | None = None
    kind: ClassVar[str] = "str_length"
    row_cost_ns: ClassVar[float] = 6.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_value is None and self.max_value is None:
            raise ConfigurationError(
                "str_length needs min_value, max_value or both.", parameter="min_value"
            )
        check_bounds(self.kind, self.min_value, self.max_value, integral=True)

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        length = pc.utf8_length(strings)
        ok = None
        if self.min_value is not None:
            ok = pc.greater_equal(length, self.min_value)
        if self.max_value is not None:
            upper = pc.less_equal(length, self.max_value)
            ok = upper if ok is None else pc.and_(ok, upper)
        return ok

    def _python(self, series: pd.Series) -> pd.Series:
        length = series.str.len()
        lo = -np.inf if self.min_value is None else self.min_value
        hi = np.inf if self.max_value is None else self.max_value
        return length.between(lo, hi)


@dataclass(frozen=True, repr=False)
class str_startswith(_TextCheck):  # noqa: N801
    """Text starting with ``prefix``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.str_startswith("ID-")(pd.Series(["ID-1", "X-1"])).tolist()
    [True, False]
    """

    prefix: str
    kind: ClassVar[str] = "str_startswith"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_text_values(self.kind, "prefix", self.prefix)

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        return pc.starts_with(strings, self.prefix)

    def _python(self, series: pd.Series) -> pd.Series:
        return series.str.startswith(self.prefix)


@dataclass(frozen=True, repr=False)
class str_endswith(_TextCheck):  # noqa: N801
    """Text ending with ``suffix``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> mp.checks.str_endswith(".csv")(pd.Series(["a.csv", "a.txt"])).tolist()
    [True, False]
    """

    suffix: str
    kind: ClassVar[str] = "str_endswith"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_text_values(self.kind, "suffix", self.suffix)

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        return pc.ends_with(strings, self.suffix)

    def _python(self, series: pd.Series) -> pd.Series:
        return series.str.endswith(self.suffix)
