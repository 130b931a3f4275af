"""Run a :class:`~mlprod.Schema` on data: one frame, a stream of chunks, files, or Dask.

A schema compiles once into a :class:`Plan` (cached on the schema): column
lookups, dtype verdicts and the checks to run are settled up front, so
validating a one-row serving request costs a few microseconds per column.
Each check first answers *whether* anything fails with a cheap reduction,
and computes *where* only when something does.

Chunked and Dask validation run the same per-chunk code and then merge:
counts add up, kept cells are re-ordered into schema order, and the checks
that look across rows (uniqueness, monotonic order) are completed across
chunk boundaries, so the report equals the whole-frame report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.data import dtypes
from mlprod.data.checks import (
    BuiltinCheck,
    check_name,
    monotonic,
    no_duplicates,
    null_mask,
    unique,
)
from mlprod.data.report import CheckFailures, ValidationReport
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    from mlprod.data.schema import Column, Schema

__all__ = ["ChunkResult", "Plan", "coerce_frame", "validate_chunks", "validate_files"]

# Sub-positions of a column's failures in the canonical order.
_IN_FRAME, _DTYPE, _CATEGORIES, _NULLABLE, _UNIQUE, _CHECKS = 0, 1, 2, 3, 4, 10


@dataclass(eq=False)
class _Block:
    """Failures of one check found in one chunk (kept cells already taken out)."""

    order: tuple[int, int]
    column: str | None
    check: str
    reason: str
    count: int
    chunk: int
    positions: np.ndarray | None  # None: the check failed as a whole
    labels: Any = None
    values: Any = None


@dataclass(eq=False)
class _Deferred:
    """What a chunk contributes to a check that needs all chunks (uniqueness, order)."""

    order: tuple[int, int]
    column: str | None
    check: str
    reason: str
    chunk: int
    kind: str  # "unique" or "monotonic"
    hashes: np.ndarray | None = None
    positions: np.ndarray | None = None
    labels: Any = None
    values: Any = None
    first: Any = None  # monotonic: (position, label, value) of the first non-missing cell
    last: Any = None  # monotonic: the last non-missing value
    rule: Any = None


@dataclass(eq=False)
class ChunkResult:
    """The picklable outcome of validating one chunk, merged by :func:`merge`."""

    rows: int
    blocks: list[_Block] = field(default_factory=list)
    deferred: list[_Deferred] = field(default_factory=list)


def _take(values: Any, keep: np.ndarray) -> Any:
    if isinstance(values, np.ndarray):
        return values[keep]
    return values.take(keep)


class _Sink:
    """Collects failures of one chunk, keeping at most ``cap`` cells per check."""

    __slots__ = ("cap", "chunk", "index", "result")

    def __init__(self, cap: int | None, chunk: int, index: pd.Index, rows: int) -> None:
        self.cap = cap
        self.chunk = chunk
        self.index = index
        self.result = ChunkResult(rows)

    def cells(
        self,
        order: tuple[int, int],
        column: str | None,
        check: str,
        reason: str,
        bad: np.ndarray,
        values: Any,
    ) -> None:
        positions = np.flatnonzero(bad)
        keep = positions if self.cap is None else positions[: self.cap]
        if isinstance(values, list):  # several columns: one tuple per row
            taken: Any = list(zip(*(_take(v, keep) for v in values)))
        else:
            taken = _take(values, keep)
        self.result.blocks.append(
            _Block(
                order,
                column,
                check,
                reason,
                len(positions),
                self.chunk,
                keep,
                self.index[keep],
                taken,
            )
        )

    def whole(
        self, order: tuple[int, int], column: str | None, check: str, reason: str, value: Any
    ) -> None:
        self.result.blocks.append(
            _Block(order, column, check, reason, 1, self.chunk, None, [None], [value])
        )


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
        self.checks = [(c, check_name(c), _CHECKS + i) for i, c in enumerate(column.checks)]
        self.builtin = [isinstance(c, BuiltinCheck) for c in column.checks]


class Plan:
    """A schema compiled for execution; build it with ``schema._plan`` (cached).

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> from mlprod.data.validate import Plan
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
        if cols.is_unique:
            positions = [int(p) for p in cols.get_indexer(pd.Index(self.names))]
        else:
            first: dict[Any, int] = {}
            for i, c in enumerate(cols):
                first.setdefault(c, i)
            positions = [first.get(name, -1) for name in self.names]
        known = set(self.names)
        extras = [str(c) for c in cols if c not in known]
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
        sink = _Sink(cap, chunk, frame.index, rows)
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
        self, plan: _ColumnPlan, values: Any, frame: pd.DataFrame, sink: _Sink, deferred: bool
    ) -> None:
        slot, name = plan.slot, plan.name
        failed_coerce: np.ndarray | None = None
        if plan.dtype is not None and not dtypes.matches(plan.dtype, values.dtype):
            actual = dtypes.describe(values.dtype)
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

    def _run_categories(self, plan: _ColumnPlan, values: Any, sink: _Sink) -> None:
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
        sink: _Sink,
        deferred: bool,
    ) -> None:
        reason = "value occurs more than once"
        if not deferred:
            bad = unique().failures(values, null)
            if bad is not None:
                sink.cells(order, plan.name, cname, reason, bad, values)
            return
        keep = np.arange(len(values)) if null is None else np.flatnonzero(~null)
        kept = _take(values, keep)
        hashes = pd.util.hash_pandas_object(pd.Series(kept, copy=False), index=False).to_numpy()
        sink.result.deferred.append(
            _Deferred(
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
        sink: _Sink,
    ) -> None:
        present = np.arange(len(values)) if null is None else np.flatnonzero(~null)
        if not len(present):
            return
        first, last = int(present[0]), int(present[-1])
        sink.result.deferred.append(
            _Deferred(
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
        sink: _Sink,
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

    def _run_unique_rows(self, frame: pd.DataFrame, sink: _Sink, deferred: bool) -> None:
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
        sink: _Sink,
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
        rows = list(zip(*(frame[c].to_numpy(dtype=object) for c in columns)))
        sink.result.deferred.append(
            _Deferred(
                order,
                label,
                cname,
                reason,
                sink.chunk,
                "unique",
                hashes,
                everything,
                frame.index,
                rows,
            )
        )

    def _run_frame_check(
        self,
        check: Any,
        cname: str,
        sub: int,
        frame: pd.DataFrame,
        sink: _Sink,
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
        """Validate a pandas or Dask DataFrame; see :meth:`mlprod.Schema.validate`."""
        cap = _check_cap(max_failures)
        if isinstance(data, pd.DataFrame):
            result = self.run(data, cap=cap)
            if not result.blocks:
                return ValidationReport(len(data), (), cap, self.schema.name)
            return merge(self, [result], cap=cap)
        if type(data).__module__.startswith("dask"):
            return validate_dask(self, data, max_failures=cap)
        raise ConfigurationError(
            f"validate() needs a pandas DataFrame (or a Dask DataFrame), got "
            f"{type(data).__name__}. Wrap a dict or array with pd.DataFrame(...) first; for "
            "files use schema.validate_files([...]).",
            parameter="data",
            value=type(data).__name__,
        )


def _check_cap(max_failures: int | None) -> int | None:
    if max_failures is None:
        return None
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        raise ConfigurationError(
            f"max_failures must be a non-negative integer or None, got {max_failures!r}.",
            parameter="max_failures",
            value=repr(max_failures),
        )
    return max_failures


# ------------------------------------------------------------------------------- merge


def _resolve_deferred(items: list[_Deferred], cap: int | None) -> list[_Block]:
    """Finish cross-chunk checks: duplicates anywhere, order across chunk boundaries."""
    blocks: list[_Block] = []
    by_check: dict[tuple[int, int], list[_Deferred]] = {}
    for item in items:
        by_check.setdefault(item.order, []).append(item)
    for group in by_check.values():
        group.sort(key=lambda d: d.chunk)
        head = group[0]
        if head.kind == "unique":
            hashes = np.concatenate([d.hashes for d in group if d.hashes is not None])
            dup = np.asarray(pd.Series(hashes, copy=False).duplicated(keep=False), dtype=bool)
            start = 0
            for d in group:
                n = len(d.hashes) if d.hashes is not None else 0
                bad = dup[start : start + n]
                start += n
                if not bad.any():
                    continue
                where = np.flatnonzero(bad)
                keep = where if cap is None else where[:cap]
                values = d.values
                taken = (
                    [values[i] for i in keep] if isinstance(values, list) else _take(values, keep)
                )
                blocks.append(
                    _Block(
                        d.order,
                        d.column,
                        d.check,
                        d.reason,
                        len(where),
                        d.chunk,
                        np.asarray(d.positions)[keep],
                        d.labels[keep],
                        taken,
                    )
                )
        else:
            previous: Any = None
            for d in group:
                if d.first is not None and previous is not None:
                    pos, label, value = d.first
                    if bool(d.rule.breaks(previous, value)):
                        blocks.append(
                            _Block(
                                d.order,
                                d.column,
                                d.check,
                                d.reason,
                                1,
                                d.chunk,
                                np.array([pos]),
                                [label],
                                [value],
                            )
                        )
                if d.last is not None:
                    previous = d.last
    return blocks


def _concat(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    start = 0
    for p in parts:
        n = len(p)
        if n:
            chunk = np.empty(n, dtype=object)
            chunk[:] = list(p) if isinstance(p, list) else np.asarray(p, dtype=object)
            out[start : start + n] = chunk
        start += n
    return out


def merge(plan: Plan, results: Iterable[ChunkResult], *, cap: int | None) -> ValidationReport:
    """Combine chunk results into one report, equal to validating the whole at once."""
    rows = 0
    blocks: list[_Block] = []
    deferred: list[_Deferred] = []
    for r in results:
        rows += r.rows
        blocks.extend(r.blocks)
        deferred.extend(r.deferred)
    if deferred:
        blocks.extend(_resolve_deferred(deferred, cap))
    groups: dict[tuple[int, int], list[_Block]] = {}
    for b in blocks:
        groups.setdefault(b.order, []).append(b)
    checks: list[CheckFailures] = []
    room = cap
    for order in sorted(groups):
        group = groups[order]
        head = group[0]
        if all(b.positions is None for b in group):
            # A check that failed as a whole fails once, however many chunks saw it.
            checks.append(
                CheckFailures(head.column, head.check, head.reason, 1, [None], [head.values[0]])
            )
            if room is not None:
                room = max(room - 1, 0)
            continue
        group = [b for b in group if b.positions is not None]
        count = sum(b.count for b in group)
        if len(group) == 1:
            labels, values = group[0].labels, group[0].values
        else:
            positions = [b.positions for b in group if b.positions is not None]
            key_chunk = np.concatenate([np.full(len(p), b.chunk) for p, b in zip(positions, group)])
            key_pos = np.concatenate(positions)
            sequence = np.lexsort((key_pos, key_chunk))
            labels = _concat([list(b.labels) for b in group])[sequence]
            values = _concat([b.values for b in group])[sequence]
        if room is not None:
            labels, values = labels[:room], values[:room]
            room = max(room - len(labels), 0)
        checks.append(CheckFailures(head.column, head.check, head.reason, count, labels, values))
    return ValidationReport(rows, tuple(checks), cap, plan.schema.name)


# ------------------------------------------------------------------------ chunks, files


def _progress(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, disable=not enabled, desc="validating")


def validate_chunks(
    plan: Plan,
    chunks: Iterable[pd.DataFrame],
    *,
    max_failures: int | None = None,
    progress: bool = False,
    total: int | None = None,
) -> ValidationReport:
    """Validate chunks one at a time and merge; see :meth:`mlprod.Schema.validate_chunks`."""
    cap = _check_cap(max_failures)
    results: list[ChunkResult] = []
    with _progress(total, progress) as bar:
        for number, chunk in enumerate(chunks):
            if not isinstance(chunk, pd.DataFrame):
                raise ConfigurationError(
                    f"Chunk {number} is a {type(chunk).__name__}, not a pandas DataFrame.",
                    parameter="chunks",
                    value=type(chunk).__name__,
                )
            results.append(plan.run(chunk, cap=cap, chunk=number, deferred=True))
            bar.update(len(chunk))
    if not results:  # no chunk, no columns to judge: an empty, passing report
        return ValidationReport(0, (), cap, plan.schema.name)
    return merge(plan, results, cap=cap)


def _guess_format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in ("parquet", "csv"):
            raise ConfigurationError(
                f"Unknown format {format!r}: use 'parquet' or 'csv'.",
                parameter="format",
                value=format,
            )
        return format
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".csv" in suffixes or ".tsv" in suffixes:
        return "csv"
    raise ConfigurationError(
        f"Cannot tell the format of {str(path)!r} from its name: pass format='parquet' "
        "or format='csv'.",
        parameter="format",
        value=str(path),
    )


def _read_chunks(
    paths: Sequence[Path], *, chunksize: int, format: str | None, read_options: Mapping[str, Any]
) -> Iterator[pd.DataFrame]:
    offset = 0
    for path in paths:
        kind = _guess_format(path, format)
        if kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=chunksize):
                frame = pa.Table.from_batches([batch]).to_pandas()
                if isinstance(frame.index, pd.RangeIndex):
                    frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                yield frame
            continue
        options = dict(read_options)
        if path.suffix.lower() == ".tsv":
            options.setdefault("sep", "\t")
        with pd.read_csv(path, chunksize=chunksize, **options) as reader:
            for frame in reader:
                if isinstance(frame.index, pd.RangeIndex):
                    frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                yield frame


def _total_rows(paths: Sequence[Path], format: str | None) -> int | None:
    total = 0
    for path in paths:
        if _guess_format(path, format) != "parquet":
            return None
        import pyarrow.parquet as pq

        total += pq.ParquetFile(path).metadata.num_rows
    return total


def validate_files(
    plan: Plan,
    paths: str | Path | Sequence[str | Path],
    *,
    chunksize: int = 250_000,
    max_failures: int | None = None,
    progress: bool = True,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Validate Parquet/CSV files chunk by chunk; see :meth:`mlprod.Schema.validate_files`."""
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ConfigurationError(
                f"No such file {str(path)!r} to validate.", parameter="paths", value=str(path)
            )
    if not isinstance(chunksize, int) or chunksize < 1:
        raise ConfigurationError(
            f"chunksize must be a positive integer, got {chunksize!r}.",
            parameter="chunksize",
            value=repr(chunksize),
        )
    total = _total_rows(files, format)
    chunks = _read_chunks(
        files, chunksize=chunksize, format=format, read_options=read_options or {}
    )
    return validate_chunks(plan, chunks, max_failures=max_failures, progress=progress, total=total)


# ---------------------------------------------------------------------------------- dask


def _run_partition(plan: Plan, frame: pd.DataFrame, number: int, cap: int | None) -> ChunkResult:
    return plan.run(frame, cap=cap, chunk=number, deferred=True)


def validate_dask(plan: Plan, data: Any, *, max_failures: int | None = None) -> ValidationReport:
    """Validate a Dask DataFrame partition by partition on the active scheduler.

    Each partition is validated where it lives; only the failures (and, for
    uniqueness checks, the checked column's hashes) travel back to be merged.
    """
    dask = optional_import("dask", feature="validating a Dask DataFrame")
    parts = data.to_delayed()
    tasks = [
        dask.delayed(_run_partition)(plan, part, number, max_failures)
        for number, part in enumerate(parts)
    ]
    results = dask.compute(*tasks)
    return merge(plan, list(results), cap=max_failures)


# ---------------------------------------------------------------------------------- coerce


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
        if dtypes.matches(column.dtype, out[name].dtype):
            continue
        converted, _ = dtypes.coerce_series(
            out[name], column.dtype, categories=column.categories, ordered=column.ordered
        )
        out[name] = converted
    return out
