"""Built-in, vectorised checks: ``mp.checks.in_range(0, 120)``, ``mp.checks.str_matches(...)``.

Every check here is a frozen value: it compares equal to a check built with
the same arguments, has a readable ``repr``, serialises with ``to_dict()``
and round-trips through :meth:`mlprod.Schema.to_json`. Called on a
``pandas.Series`` (or, for frame-level checks, a ``DataFrame``) it returns a
boolean mask, ``True`` where the value is valid — the
:class:`~mlprod.protocols.Check` protocol, which any function of your own
satisfies too.

Missing values always pass a check: whether a column may hold them is the
column's ``nullable`` option, reported once as ``nullable``.

Inside :meth:`~mlprod.Schema.validate` the checks skip the Series and work
on the column's array: whether anything fails is decided first with a
reduction (``min``/``max``, an Arrow ``all``), and the mask of *where* is
computed only when something does.

Examples
--------
>>> import pandas as pd, mlprod as mp
>>> mp.checks.in_range(0, 120)(pd.Series([3, 150])).tolist()
[True, False]
>>> mp.checks.str_matches(r"[A-Z]{2}\\d+")
checks.str_matches('[A-Z]{2}\\\\d+')
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import KW_ONLY, MISSING, dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlprod.data.validation_kernels import (
    DISTINCT_MIN_ROWS,
    OPS,
    VIOLATION,
    arrow_failures,
    arrow_strings,
    few_distinct,
    null_mask,
    numeric_view,
    object_text_failures,
    strip_nulls,
    to_bool_array,
    violations,
)
from mlprod.errors import ConfigurationError

__all__ = [
    "BuiltinCheck",
    "compare_columns",
    "custom",
    "datetime_between",
    "eq",
    "finite",
    "from_dict",
    "ge",
    "gt",
    "in_range",
    "isin",
    "le",
    "lt",
    "monotonic",
    "ne",
    "no_duplicates",
    "notin",
    "str_contains",
    "str_endswith",
    "str_length",
    "str_matches",
    "str_startswith",
    "unique",
]

_REGISTRY: dict[str, type[BuiltinCheck]] = {}


def _plain(value: Any) -> Any:
    """Normalise a parameter so equal checks compare equal and serialise the same."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _dt.datetime | np.datetime64) and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        items = [_plain(v) for v in value]
        if isinstance(value, set | frozenset):
            items = sorted(items, key=repr)
        return tuple(items)
    return value


# ------------------------------------------------------------------------------ base class


@dataclass(frozen=True, repr=False)
class BuiltinCheck:
    """Common behaviour of the built-in checks: name, ``repr``, ``to_dict``, Series call.

    Subclasses are frozen dataclasses whose fields are the check's parameters;
    ``kind`` is the name that identifies them in a serialised schema.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.checks.ge(0).to_dict()
    {'check': 'ge', 'value': 0}
    """

    kind: ClassVar[str] = ""
    #: ``"column"`` checks get one column; ``"frame"`` checks the whole frame.
    scope: ClassVar[str] = "column"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _plain(getattr(self, f.name)))

    def _params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def name(self) -> str:
        """How failures name this check: ``in_range(0, 120)``."""
        args = ", ".join(repr(v) for v in self._params().values() if v is not None)
        return f"{self.kind}({args})"

    def __repr__(self) -> str:
        args = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is MISSING and f.default_factory is MISSING:
                args.append(repr(value))
            elif value != f.default:
                args.append(f"{f.name}={value!r}")
        return f"checks.{self.kind}({', '.join(args)})"

    def to_dict(self) -> dict[str, Any]:
        """The check as plain data: ``{"check": kind, **parameters}`` (defaults left out)."""
        out: dict[str, Any] = {"check": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is MISSING or value != f.default:
                out[f.name] = value
        return out

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        """Mask of failing cells of a column array, or ``None`` when all pass.

        ``null`` is the column's missing-value mask (``None`` if it has none);
        missing cells never fail.
        """
        raise TypeError(f"{type(self).__name__} is a frame-level check")

    def __call__(self, data: Any, /) -> Any:
        """Apply the check to a Series (or DataFrame); return the validity mask."""
        if not isinstance(data, pd.Series):
            raise TypeError(f"{self.name} checks a pandas Series, got {type(data).__name__}")
        values = data.array
        bad = self.failures(values, null_mask(values))
        ok = np.ones(len(data), dtype=bool) if bad is None else ~bad
        return pd.Series(ok, index=data.index, name=data.name)


# ------------------------------------------------------------------------- value checks


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


# -------------------------------------------------------------------------- text checks


@dataclass(frozen=True, repr=False)
class _TextCheck(BuiltinCheck):
    """A check on text; a value that is not text fails it."""

    def _arrow(self, strings: Any) -> Any:
        raise TypeError

    def _python(self, series: pd.Series) -> pd.Series:
        raise TypeError

    def failures(self, values: Any, null: np.ndarray | None) -> np.ndarray | None:
        strings = arrow_strings(values)
        if strings is not None:
            import pyarrow as pa

            try:
                if len(strings) >= DISTINCT_MIN_ROWS and few_distinct(strings):
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

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_value is None and self.max_value is None:
            raise ConfigurationError(
                "str_length needs min_value, max_value or both.", parameter="min_value"
            )

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

    def _arrow(self, strings: Any) -> Any:
        import pyarrow.compute as pc

        return pc.ends_with(strings, self.suffix)

    def _python(self, series: pd.Series) -> pd.Series:
        return series.str.endswith(self.suffix)


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


# ---------------------------------------------------------------------------- user checks


class custom:  # noqa: N801
    """Give your own check function a name (and say whether it checks a frame).

    Any callable returning a boolean mask (``True`` = valid) or one bool is a
    check already; wrapping it gives failures a readable name. A custom
    check cannot be serialised: :meth:`~mlprod.Schema.to_json` says so by name.

    Parameters
    ----------
    fn:
        The function: ``Series -> mask`` for a column, ``DataFrame -> mask``
        for a frame.
    name:
        How failures name it (default: the function's ``__name__``).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> even = mp.checks.custom(lambda s: s % 2 == 0, name="even")
    >>> even.name, even(pd.Series([2, 3])).tolist()
    ('even', [True, False])
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[Any], Any], *, name: str | None = None) -> None:
        if not callable(fn):
            raise ConfigurationError(
                f"custom() needs a callable, got {type(fn).__name__}.", parameter="fn"
            )
        self.fn = fn
        self.name = name or getattr(fn, "__name__", None) or repr(fn)

    def __call__(self, data: Any, /) -> Any:
        """Run the wrapped function."""
        return self.fn(data)

    def __repr__(self) -> str:
        return f"checks.custom({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, custom) and (self.fn, self.name) == (other.fn, other.name)

    def __hash__(self) -> int:
        return hash((custom, self.name))


def check_name(check: Any) -> str:
    """The name failures give ``check``: its ``name``, else ``__name__``, else ``repr``."""
    name = getattr(check, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(check, "__name__", None) or repr(check)


def from_dict(spec: dict[str, Any]) -> BuiltinCheck:
    """Rebuild a built-in check from :meth:`BuiltinCheck.to_dict` output.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.checks.from_dict({"check": "in_range", "min_value": 0, "max_value": 9})
    checks.in_range(min_value=0, max_value=9)
    """
    params = dict(spec)
    kind = params.pop("check", None)
    try:
        cls = _REGISTRY[str(kind)]
    except KeyError:
        raise ConfigurationError(
            f"Unknown check {kind!r}. Built-in checks: {', '.join(sorted(_REGISTRY))}.",
            parameter="check",
            value=kind,
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigurationError(
            f"Bad parameters for check {kind!r}: {exc}.", parameter=str(kind), value=params
        ) from None


def builtin_kinds() -> Iterable[str]:
    """The serialised names of every built-in check."""
    return sorted(_REGISTRY)
