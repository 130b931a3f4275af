"""Run a :class:`~mlprod.Schema` on data: one frame, a stream of chunks, files, or Dask.

A schema compiles once into a :class:`Plan` (cached on the schema): column
lookups, dtype verdicts and the checks to run are settled up front, so
validating a one-row serving request costs a few microseconds per column.
Each check first answers *whether* anything fails with a cheap reduction,
and computes *where* only when something does.

Chunks, files and Dask partitions run through the same plan
(:mod:`mlprod.data.validation.sources`), and their results merge into one
report (:mod:`mlprod.data.validation.results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlprod.data.validation import dtypes
from mlprod.data.validation.checks import BuiltinCheck, check_name, monotonic, no_duplicates, unique
from mlprod.data.validation.kernels import null_mask
from mlprod.data.validation.report import ValidationReport
from mlprod.data.validation.results import ChunkResult, Deferred, Sink, check_cap, merge, take
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    from mlprod.data.validation.schema import Column, Schema

__all__ = ["Plan", "coerce_frame"]

# Sub-positions of a column's failures in the canonical order.
_IN_FRAME, _DTYPE, _ORDERED, _CATEGORIES, _NULLABLE, _UNIQUE, _CHECKS = 0, 1, 2, 3, 4, 5, 10


def _column_array(frame: pd.DataFrame, position: int) -> Any:
    getter = getattr(frame, "_get_column_array", None)
    if getter is not None:
        return getter(position)
    return frame.iloc[:, position].array


def _bool_mask(result: Any, rows: int) -> np.ndarray | None:
    """A user check's result as a failure mask; ``None`` if it passed."""
    if isinstance(result, bool | np.bool_):
        return None if result else np.ones(0, dtype=bool)
    if isinstance(result, pd.Series | pd.Index) or hasattr(result, "to_numpy"):
        ok = np.asarray(result.to_numpy(dtype=bool, na_value=False), dtype=bool)
    else:
        ok = np.asarray(result, dtype=bool)
    if ok.shape != (rows,):
        raise ValueError(f"returned a mask of shape {ok.shape} for {rows} rows")
    return ~ok


class _ColumnPlan:
    __slots__ = (
        "builtin",
        "categories",
        "checks",
        "coerce",
        "dtype",
        "name",
        "nullable",
        "ordered",
        "required",
        "slot",
        "unique",
    )

    def __init__(self, slot: int, name: str, column: Column, schema_coerce: bool) -> None:
        self.slot = slot
        self.name = name
        self.dtype = column.dtype
        self.nullable = column.nullable
        self.unique = column.unique
        self.required = column.required
        self.coerce = (column.coerce or schema_coerce) and column.dtype is not None
        self.categories = column.categories
        self.ordered = column.ordered
        self.checks = [(c, check_name(c), _CHECKS + i) for i, c in enumerate(column.checks)]
        self.builtin = [isinstance(c, BuiltinCheck) for c in column.checks]


class Plan:
    """A schema compiled for execution; build it with ``schema._plan`` (cached).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> from mlprod.data.validation.plan import Plan
    >>> plan = Plan(mp.Schema({"x": mp.Column("int64")}))
    >>> plan.validate(pd.DataFrame({"x": [1]})).ok
    True
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.columns = [
            _ColumnPlan(i, name, col, schema.coerce)
            for i, (name, col) in enumerate(schema.columns.items())
        ]
        self.names = [c.name for c in self.columns]
        n = len(self.columns)
        self.slot_extra, self.slot_order, self.slot_frame = n, n + 1, n + 2
        self.frame_checks = [(c, check_name(c), i + 1) for i, c in enumerate(schema.checks)]
        self.unique = schema.unique
        self._binding: tuple[pd.Index, list[int], list[str], bool, bool] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Ship only the schema to Dask workers; each compiles its own plan.
        return (Plan, (self.schema,))

    # ------------------------------------------------------------ binding

    def _bind(self, cols: pd.Index) -> tuple[pd.Index, list[int], list[str], bool, bool]:
        binding = self._binding
        if binding is not None and (binding[0] is cols or binding[0].equals(cols)):
            return binding
        # The labels' own type, not the dtype: an object Index may mix text and numbers.
        if cols.is_unique and cols.inferred_type == "string":
            positions = [int(p) for p in cols.get_indexer(pd.Index(self.names))]
        else:
            # Schemas name columns by text; frames may use numbers or repeat a name.
            first: dict[str, int] = {}
            for i, c in enumerate(cols):
                first.setdefault(str(c), i)
            positions = [first.get(name, -1) for name in self.names]
        known = set(self.names)
        extras = [str(c) for c in cols if str(c) not in known]
        present = [p for p in positions if p >= 0]
        in_order = present == sorted(present)
        binding = (cols, positions, extras, in_order, bool(cols.is_unique))
        self._binding = binding
        return binding

    # ------------------------------------------------------------ one chunk

    def run(
        self, frame: pd.DataFrame, *, cap: int | None, chunk: int = 0, deferred: bool = False
    ) -> ChunkResult:
        """Validate one frame; with ``deferred`` leave cross-row checks to :func:`merge`."""
        cols, positions, extras, in_order, names_unique = self._bind(frame.columns)
        rows = len(frame)
        sink = Sink(cap, chunk, frame.index, rows)
        for plan, pos in zip(self.columns, positions):
            if pos < 0:
                if plan.required:
                    sink.whole(
                        (plan.slot, _IN_FRAME),
                        plan.name,
                        "column_in_frame",
                        "required column is missing",
                        None,
                    )
                continue
            self._run_column(plan, _column_array(frame, pos), frame, sink, deferred)
        if not names_unique:
            dupes = sorted({str(c) for c in cols[cols.duplicated()]})
            sink.whole(
                (self.slot_extra, -1),
                None,
                "column_names_unique",
                f"duplicate column names {dupes}; only the first of each was checked",
                None,
            )
        if self.schema.strict and extras:
            for i, name in enumerate(extras):
                sink.whole(
                    (self.slot_extra, i),
                    name,
                    "column_in_schema",
                    "column is not in the schema (strict=True)",
                    None,
                )
        if self.schema.ordered and not in_order:
            seen = [str(c) for c in cols if c in set(self.names)]
            sink.whole(
                (self.slot_order, 0),
                None,
                "column_order",
                f"columns come as {seen}, expected the schema order",
                None,
            )
        if self.unique:
            self._run_unique_rows(frame, sink, deferred)
        for check, name, sub in self.frame_checks:
            self._run_frame_check(check, name, sub, frame, sink, deferred)
        return sink.result

    def _run_column(
        self, plan: _ColumnPlan, values: Any, frame: pd.DataFrame, sink: Sink, deferred: bool
    ) -> None:
        slot, name = plan.slot, plan.name
        failed_coerce: np.ndarray | None = None
        if (
            plan.dtype is not None
            and not dtypes.matches(plan.dtype, values.dtype)
            and not dtypes.column_matches(plan.dtype, values)
        ):
            actual = dtypes.describe_column(values)
            if not plan.coerce:
                sink.whole(
                    (slot, _DTYPE),
                    name,
                    "dtype",
                    f"dtype {actual}, expected {plan.dtype}; its value checks were skipped. "
                    "Pass coerce=True to convert, or fix the source.",
                    actual,
                )
                return
            original = values
            converted, failed_coerce = dtypes.coerce_series(
                pd.Series(values, copy=False), plan.dtype, categories=plan.categories
            )
            numpy_backed = isinstance(converted.dtype, np.dtype)
            values = converted.to_numpy() if numpy_backed else converted.array
            if failed_coerce.any():
                sink.cells(
                    (slot, _DTYPE),
                    name,
                    "coerce",
                    f"value could not be converted from {actual} to {plan.dtype}",
                    failed_coerce,
                    original,
                )
            else:
                failed_coerce = None
        if plan.ordered and not getattr(values.dtype, "ordered", False):
            sink.whole(
                (slot, _ORDERED),
                name,
                "ordered",
                "categories are not ordered; the schema says ordered=True",
                None,
            )
        if plan.categories is not None:
            self._run_categories(plan, values, sink)
        null = null_mask(values)
        if null is not None and not plan.nullable:
            bad = null if failed_coerce is None else null & ~failed_coerce
            if bad.any():
                sink.cells(
                    (slot, _NULLABLE),
                    name,
                    "nullable",
                    "missing value in a column that is not nullable",
                    bad,
                    values,
                )
        if plan.unique:
            self._run_unique(plan, (slot, _UNIQUE), "unique", values, null, sink, deferred)
        series: pd.Series | None = None
        for (check, cname, sub), builtin in zip(plan.checks, plan.builtin):
            order = (slot, sub)
            if builtin:
                if deferred and isinstance(check, unique):
                    self._run_unique(plan, order, cname, values, null, sink, deferred)
                    continue
                if deferred and isinstance(check, monotonic):
                    self._defer_monotonic(plan, order, cname, check, values, null, sink)
                try:
                    bad = check.failures(values, null)
                except Exception as exc:
                    sink.whole(
                        order, name, cname, f"check raised {type(exc).__name__}: {exc}", None
                    )
                    continue
                if bad is not None:
                    sink.cells(order, name, cname, "value fails the check", bad, values)
                continue
            if series is None:
                series = pd.Series(values, index=frame.index, name=name, copy=False)
            self._run_user_check(check, cname, order, name, series, null, values, sink)

    def _run_categories(self, plan: _ColumnPlan, values: Any, sink: Sink) -> None:
        codes = getattr(values, "codes", None)
        if not isinstance(codes, np.ndarray):
            return
        allowed = np.asarray(values.categories.isin(list(plan.categories or ())), dtype=bool)
        if allowed.all():
            return
        bad = (codes >= 0) & ~allowed[np.maximum(codes, 0)]
        if bad.any():
            sink.cells(
                (plan.slot, _CATEGORIES),
                plan.name,
                "categories",
                "value is not one of the allowed categories",
                bad,
                values,
            )

    def _run_unique(
        self,
        plan: _ColumnPlan,
        order: tuple[int, int],
        cname: str,
        values: Any,
        null: np.ndarray | None,
        sink: Sink,
        deferred: bool,
    ) -> None:
        reason = "value occurs more than once"
        if not deferred:
            bad = unique().failures(values, null)
            if bad is not None:
                sink.cells(order, plan.name, cname, reason, bad, values)
            return
        keep = np.arange(len(values)) if null is None else np.flatnonzero(~null)
        kept = take(values, keep)
        hashes = pd.util.hash_pandas_object(pd.Series(kept, copy=False), index=False).to_numpy()
        sink.result.deferred.append(
            Deferred(
                order,
                plan.name,
                cname,
                reason,
                sink.chunk,
                "unique",
                hashes,
                keep,
                sink.index[keep],
                kept,
            )
        )

    def _defer_monotonic(
        self,
        plan: _ColumnPlan,
        order: tuple[int, int],
        cname: str,
        check: monotonic,
        values: Any,
        null: np.ndarray | None,
        sink: Sink,
    ) -> None:
        present = np.arange(len(values)) if null is None else np.flatnonzero(~null)
        if not len(present):
            return
        first, last = int(present[0]), int(present[-1])
        sink.result.deferred.append(
            Deferred(
                order,
                plan.name,
                cname,
                "value fails the check",
                sink.chunk,
                "monotonic",
                first=(first, sink.index[first], values[first]),
                last=values[last],
                rule=check,
            )
        )

    def _run_user_check(
        self,
        check: Any,
        cname: str,
        order: tuple[int, int],
        column: str | None,
        data: Any,
        null: np.ndarray | None,
        values: Any,
        sink: Sink,
    ) -> None:
        try:
            bad = _bool_mask(check(data), len(data))
        except Exception as exc:
            sink.whole(order, column, cname, f"check raised {type(exc).__name__}: {exc}", None)
            return
        if bad is None:
            return
        if not len(bad):
            sink.whole(order, column, cname, "check returned False", None)
            return
        if null is not None:
            bad &= ~null
        if bad.any():
            sink.cells(order, column, cname, "value fails the check", bad, values)

    def _row_values(self, frame: pd.DataFrame, columns: Sequence[str]) -> list[Any]:
        return [frame[c].array for c in columns]

    def _run_unique_rows(self, frame: pd.DataFrame, sink: Sink, deferred: bool) -> None:
        columns = list(self.unique or ())
        order = (self.slot_frame, 0)
        cname = f"unique({', '.join(columns)})"
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            sink.whole(order, ", ".join(columns), cname, f"columns {missing} are missing", None)
            return
        self._frame_duplicates(frame, columns, order, cname, sink, deferred)

    def _frame_duplicates(
        self,
        frame: pd.DataFrame,
        columns: list[str],
        order: tuple[int, int],
        cname: str,
        sink: Sink,
        deferred: bool,
    ) -> None:
        label = ", ".join(columns)
        reason = "combination of values occurs more than once"
        if not deferred:
            bad = np.asarray(frame.duplicated(subset=columns, keep=False), dtype=bool)
            if bad.any():
                sink.cells(order, label, cname, reason, bad, self._row_values(frame, columns))
            return
        hashes = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
        everything = np.arange(len(frame))
        sink.result.deferred.append(
            Deferred(
                order,
                label,
                cname,
                reason,
                sink.chunk,
                "unique",
                hashes,
                everything,
                frame.index,
                self._row_values(frame, columns),
            )
        )

    def _run_frame_check(
        self,
        check: Any,
        cname: str,
        sub: int,
        frame: pd.DataFrame,
        sink: Sink,
        deferred: bool,
    ) -> None:
        order = (self.slot_frame, sub)
        if isinstance(check, no_duplicates):
            columns = list(check.columns)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                sink.whole(order, ", ".join(columns), cname, f"columns {missing} are missing", None)
                return
            self._frame_duplicates(frame, columns, order, cname, sink, deferred)
            return
        if isinstance(check, BuiltinCheck):
            columns = list(getattr(check, "columns", ()))
            label = ", ".join(columns) or None
            try:
                bad = check.frame_failures(frame)  # type: ignore[attr-defined]
            except Exception as exc:
                sink.whole(order, label, cname, f"check raised {type(exc).__name__}: {exc}", None)
                return
            if bad is not None:
                sink.cells(
                    order,
                    label,
                    cname,
                    "row fails the check",
                    bad,
                    self._row_values(frame, columns),
                )
            return
        self._run_user_check(
            check, cname, order, None, frame, None, np.full(len(frame), None), sink
        )

    # ------------------------------------------------------------ entry points

    def validate(self, data: Any, *, max_failures: int | None = None) -> ValidationReport:
        """Validate one pandas DataFrame; see :meth:`mlprod.Schema.validate`.

        Streams of chunks and Dask frames go through
        :mod:`mlprod.data.validation.sources`, which runs this plan on each part.
        """
        cap = check_cap(max_failures)
        if isinstance(data, pd.DataFrame):
            result = self.run(data, cap=cap)
            if not result.blocks:
                return ValidationReport(len(data), (), cap, self.schema.name)
            return merge([result], cap=cap, name=self.schema.name)
        raise ConfigurationError(
            f"validate() needs a pandas DataFrame, an iterator of DataFrames or a Dask "
            f"DataFrame, got {type(data).__name__}. Wrap a dict or array with "
            "pd.DataFrame(...) first; for files use schema.validate_files([...]).",
            parameter="data",
            value=type(data).__name__,
        )


def coerce_frame(schema: Schema, data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``data`` with every typed column converted; see ``Schema.coerce_frame``."""
    if not isinstance(data, pd.DataFrame):
        raise ConfigurationError(
            f"coerce_frame() needs a pandas DataFrame, got {type(data).__name__}.",
            parameter="data",
        )
    out = data.copy()
    for name, column in schema.columns.items():
        if column.dtype is None or name not in out.columns:
            continue
        if dtypes.column_matches(column.dtype, out[name]):
            continue
        converted, _ = dtypes.coerce_series(
            out[name], column.dtype, categories=column.categories, ordered=column.ordered
        )
        out[name] = converted
    return out
