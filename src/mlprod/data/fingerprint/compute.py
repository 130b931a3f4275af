"""Content fingerprints of tables: :func:`fingerprint` and :class:`Fingerprint`.

A fingerprint is a function of a table's *logical* content: its values in
canonical form (see :mod:`mlprod.data.fingerprint.columns`), its column names
and canonical dtypes, its row count and, unless ``ordered=False``, its row
order. Memory layout, block structure, chunking, the index (unless
``index=True``) and round trips through Parquet or pickle do not change it.

How it is computed (algorithm ``mlprod-fp/2``). Ordered: the table is cut on
a fixed grid of :data:`~mlprod.data.fingerprint.runs.GRID_ROWS` rows
counted from its first row; each block's canonical bytes, column after
column, get an xxh3-128 digest (:mod:`mlprod.data.fingerprint.blocks`), and
the digests, in order, are hashed with SHA-256. A chunk's state carries the
digests of its whole blocks and the canonical rows of its incomplete first and
last blocks, so states of consecutive chunks merge into exactly the value of
the whole. Unordered: each row gets a 64-bit hash by folding the canonical
words of its cells, block by block of :data:`BLOCK_ROWS` rows, and two
multiset sums (``S1 = Σ r``, ``S2 = Σ g(r)``) summarise them. The hex value
is the first 128 bits of a SHA-256 over the algorithm name, options, schema,
row count and that summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod.data.fingerprint import compiled as compiled_kernels
from mlprod.data.fingerprint import runs as fingerprint_runs
from mlprod.data.fingerprint.blocks import block_encoder_for
from mlprod.data.fingerprint.columns import encoder_for, unify_dtypes
from mlprod.data.fingerprint.kernels import (
    K_LANE2,
    finish_rows,
    fold_column,
    new_accumulator,
)
from mlprod.data.fingerprint.options import check_options
from mlprod.data.fingerprint.runs import BlockRun, run_of
from mlprod.data.fingerprint.value import ALGORITHM, Fingerprint
from mlprod.errors import ConfigurationError

__all__ = [
    "ALGORITHM",
    "BLOCK_ROWS",
    "Fingerprint",
    "PartialFingerprint",
    "canonical_dtypes",
    "cell_hashes",
    "fingerprint",
    "row_hashes",
]

BLOCK_ROWS = 1 << 15

_MASK64 = (1 << 64) - 1


def _name_key(name: Any) -> str:
    """A column name as a string that keeps its type: ``'a'`` stays, ``0`` becomes ``int:0``."""
    if isinstance(name, str):
        return name
    if isinstance(name, bool | np.bool_):
        return f"bool:{bool(name)}"
    if isinstance(name, int | np.integer):
        return f"int:{int(name)}"
    if name is None:
        return "none:"
    return f"{type(name).__name__}:{name!r}"


@dataclass(frozen=True)
class PartialFingerprint:
    """The mergeable state of a fingerprint over some consecutive rows.

    ``a.merge(b)`` is the state of ``a``'s rows followed by ``b``'s, so the
    states of chunks (files, row groups, Dask partitions) combine into exactly
    the fingerprint of the whole. :meth:`result` turns a state into a
    :class:`Fingerprint`.

    An ordered state depends on where its first row falls on the table's grid
    of :data:`~mlprod.data.fingerprint.runs.GRID_ROWS` rows, so pass
    ``start=`` (the table position of the chunk's first row) to :meth:`of`
    for a chunk that does not start the table. A chunk shorter than one
    block finds its place when merged, so ``start`` may be left out for it.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> from mlprod.data.fingerprint.compute import PartialFingerprint
    >>> df = pd.DataFrame({"a": range(10)})
    >>> a = PartialFingerprint.of(df.iloc[:4]); b = PartialFingerprint.of(df.iloc[4:], start=4)
    >>> a.merge(b).result() == mp.fingerprint(df)
    True
    """

    __module__ = "mlprod"

    rows: int
    columns: tuple[Any, ...]
    dtypes: tuple[str, ...]
    index_dtypes: tuple[tuple[str, str], ...]
    ordered: bool = True
    index: bool = False
    columns_ordered: bool = True
    lanes: tuple[int, int] = (0, 0)
    _empty: bool = field(default=False, repr=False)
    run: BlockRun | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        frame: Any,
        *,
        start: int = 0,
        ordered: bool = True,
        index: bool = False,
        columns_ordered: bool = True,
    ) -> PartialFingerprint:
        """The state of one in-memory chunk (DataFrame, Series or numpy array).

        ``start`` is the table position of the chunk's first row.
        """
        check_options({"ordered": ordered, "index": index, "columns_ordered": columns_ordered})
        return _state_of(
            _as_frame(frame),
            ordered=ordered,
            index=index,
            columns_ordered=columns_ordered,
            start=start,
        )

    def merge(self, other: PartialFingerprint) -> PartialFingerprint:
        """The state of this state's rows followed by ``other``'s."""
        if self._empty:
            return other
        if other._empty:
            return self
        opts = (self.ordered, self.index, self.columns_ordered)
        if opts != (other.ordered, other.index, other.columns_ordered):
            raise ConfigurationError(
                "Cannot merge fingerprint states computed with different options "
                f"(ordered, index, columns_ordered): {opts} vs "
                f"{(other.ordered, other.index, other.columns_ordered)}. "
                "Use the same options for every chunk.",
                parameter="ordered",
            )
        names_a, names_b = (
            [_name_key(c) for c in self.columns],
            [_name_key(c) for c in other.columns],
        )
        dtypes = unify_dtypes(self.dtypes, other.dtypes) if names_a == names_b else None
        index_ok = self.index_dtypes == other.index_dtypes
        if dtypes is None or not index_ok:
            raise ConfigurationError(
                "Chunks have different schemas: "
                f"{list(zip(names_a, self.dtypes))} then {list(zip(names_b, other.dtypes))}"
                + ("" if index_ok else f" (index {self.index_dtypes} vs {other.index_dtypes})")
                + ". Read every chunk with the same columns and dtypes (for CSV pass dtype=...).",
                parameter="data",
            )
        run = None
        if self.run is not None and other.run is not None:
            try:
                run = self.run.merge(other.run)
            except ValueError:
                raise ConfigurationError(
                    f"The chunk of {other.rows:,} rows after row {self.rows:,} was fingerprinted "
                    f"as if it started elsewhere. Pass start= (the table position of its first "
                    "row) to PartialFingerprint.of for every chunk after the first.",
                    parameter="start",
                    value=other.run.phase,
                ) from None
        (s1, s2), (t1, t2) = self.lanes, other.lanes
        lanes = ((s1 + t1) & _MASK64, (s2 + t2) & _MASK64)
        return replace(
            self, rows=self.rows + other.rows, dtypes=tuple(dtypes), lanes=lanes, run=run
        )

    @classmethod
    def empty(
        cls, *, ordered: bool = True, index: bool = False, columns_ordered: bool = True
    ) -> PartialFingerprint:
        """The identity for :meth:`merge`: no rows, no schema yet."""
        return cls(0, (), (), (), ordered, index, columns_ordered, (0, 0), True)

    def result(self) -> Fingerprint:
        """The :class:`Fingerprint` of the rows this state covers."""
        if self._empty:
            raise ConfigurationError(
                "No chunks were fingerprinted: the input was empty. Pass at least one frame.",
                parameter="data",
            )
        pairs = [[_name_key(c), d] for c, d in zip(self.columns, self.dtypes)]
        if not self.columns_ordered:
            pairs.sort()
        if self.ordered and self.run is None:
            raise ConfigurationError(
                f"This ordered state has no block digests: it was made by another algorithm "
                f"than {ALGORITHM}. Recompute every chunk's state with this version.",
                parameter="data",
            )
        if self.run is not None:
            try:
                summary = [sha256_bytes(self.run.content())]
            except ValueError:
                raise ConfigurationError(
                    "This state starts inside a block of the table, so it has no fingerprint "
                    "of its own: merge it after the state of the rows before it.",
                    parameter="start",
                    value=self.run.phase,
                ) from None
        else:
            summary = [f"{v:016x}" for v in self.lanes]
        payload = {
            "algorithm": ALGORITHM,
            "ordered": self.ordered,
            "index": self.index,
            "columns_ordered": self.columns_ordered,
            "rows": self.rows,
            "schema": pairs,
            "index_schema": [list(p) for p in self.index_dtypes] if self.index else [],
            "lanes": summary,
        }
        digest = sha256_bytes(canonical_json(payload))[:32]
        return Fingerprint(
            digest,
            rows=self.rows,
            columns=self.columns,
            schema=list(zip(self.columns, self.dtypes)),
            ordered=self.ordered,
            index=self.index,
            columns_ordered=self.columns_ordered,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for sending a state between processes."""
        return {
            "rows": self.rows,
            "columns": list(self.columns),
            "dtypes": list(self.dtypes),
            "index_dtypes": [list(p) for p in self.index_dtypes],
            "ordered": self.ordered,
            "index": self.index,
            "columns_ordered": self.columns_ordered,
            "lanes": [f"{v:016x}" for v in self.lanes],
            "empty": self._empty,
            "run": None if self.run is None else self.run.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartialFingerprint:
        """Rebuild a state from :meth:`to_dict` output."""
        lanes = tuple(int(v, 16) for v in data["lanes"])
        run = data.get("run")
        return cls(
            data["rows"],
            tuple(data["columns"]),
            tuple(data["dtypes"]),
            tuple((a, b) for a, b in data["index_dtypes"]),
            data["ordered"],
            data["index"],
            data["columns_ordered"],
            (lanes[0], lanes[1]),
            data.get("empty", False),
            None if run is None else BlockRun.from_dict(run),
        )


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return pd.DataFrame({0: data}, copy=False).set_axis([data.name], axis=1)
    if isinstance(data, pd.Index):
        return _as_frame(pd.Series(data, copy=False))
    if isinstance(data, np.ndarray):
        if data.dtype.names is not None and data.ndim == 1:
            # a structured (record) array: one column per field
            return pd.DataFrame(data)
        if data.ndim == 1:
            return _as_frame(pd.Series(data, copy=False))
        if data.ndim == 2:
            return pd.DataFrame(data, copy=False)
        raise ConfigurationError(
            f"Cannot fingerprint a {data.ndim}-dimensional array: pass a 1-D or 2-D array, "
            "or reshape it first (arr.reshape(len(arr), -1)).",
            parameter="data",
            value=data.shape,
        )
    raise ConfigurationError(
        f"Cannot fingerprint a {type(data).__name__}: pass a pandas DataFrame or Series, a numpy "
        "array, an iterable of frames, or a Dask DataFrame (files: mp.fingerprint_files).",
        parameter="data",
        value=type(data).__name__,
    )


def _index_series(frame: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    idx = frame.index
    out = []
    for level in range(idx.nlevels):
        values = idx.get_level_values(level)
        name = idx.names[level]
        if isinstance(values, pd.RangeIndex):
            values = pd.Index(np.arange(values.start, values.stop, values.step, dtype=np.int64))
        out.append((_name_key(name), pd.Series(values, copy=False)))
    return out


def _encoders(
    frame: pd.DataFrame,
    index: bool,
    columns_ordered: bool,
    factory: Callable[[pd.Series], tuple[str, Any]] | None = None,
) -> tuple[list[Any], list[str], tuple[tuple[str, str], ...]]:
    make = factory or _row_encoder
    data_encoders = [make(frame.iloc[:, j]) for j in range(frame.shape[1])]
    dtypes = [d for d, _ in data_encoders]
    order = list(range(len(data_encoders)))
    if not columns_ordered:
        keys = [(_name_key(c), d) for c, d in zip(frame.columns, dtypes)]
        order.sort(key=lambda j: keys[j])
    chain = [data_encoders[j][1] for j in order]
    index_dtypes: tuple[tuple[str, str], ...] = ()
    if index:
        idx_enc = [(name, make(s)) for name, s in _index_series(frame)]
        index_dtypes = tuple((name, d) for name, (d, _) in idx_enc)
        chain = [e for _, (_, e) in idx_enc] + chain
    return chain, dtypes, index_dtypes


def _row_encoder(series: pd.Series) -> tuple[str, Any]:
    enc = encoder_for(series)
    return enc.dtype, enc


def _blocks(n: int) -> Iterable[tuple[int, int]]:
    for start in range(0, n, BLOCK_ROWS):
        yield start, min(n, start + BLOCK_ROWS)


def _row_hash_blocks(
    frame: pd.DataFrame, chain: list[Any], *, finish: bool = True
) -> Iterable[tuple[int, npt.NDArray[np.uint64]]]:
    """Each block's row hashes (``finish=False``: its accumulators, before finish_rows)."""
    n = len(frame)
    size = min(n, BLOCK_ROWS)
    acc_buf = np.empty(size, dtype=np.uint64)
    tmp = np.empty(size, dtype=np.uint64)
    scratch = np.empty(size, dtype=np.uint64)
    compiled = compiled_kernels.active()
    for start, stop in _blocks(n):
        acc = acc_buf[: stop - start]
        acc[:] = new_accumulator(1)[0]
        for enc in chain:
            if compiled is not None and enc.floats is not None:
                # canonicalise and fold in one pass: no words written in between
                block = enc.floats[start:stop]
                compiled.step_floats(acc, block, block.view(np.uint64))
                continue
            words, missing = enc.encode(start, stop, scratch)
            fold_column(acc, words, missing, tmp)
        yield start, (finish_rows(acc, tmp) if finish else acc)


def _state_of(
    frame: pd.DataFrame,
    *,
    ordered: bool,
    index: bool,
    columns_ordered: bool,
    start: int = 0,
    whole: bool = False,
) -> PartialFingerprint:
    run: BlockRun | None = None
    lanes = (0, 0)
    if ordered:
        chain, dtypes, index_dtypes = _encoders(frame, index, columns_ordered, block_encoder_for)
        phase = start % fingerprint_runs.GRID_ROWS
        # a whole table hashes its last block in place: no copy of up to a block of rows
        run = run_of(chain, len(frame), phase, None, whole=whole)
    else:
        chain, dtypes, index_dtypes = _encoders(frame, index, columns_ordered)
        lanes = _lanes(frame, chain)
    return PartialFingerprint(
        len(frame),
        tuple(frame.columns),
        tuple(dtypes),
        index_dtypes,
        ordered,
        index,
        columns_ordered,
        lanes,
        run=run,
    )


def _lanes(frame: pd.DataFrame, chain: list[Any]) -> tuple[int, int]:
    """The two order-free sums over the row hashes of ``frame``."""
    s1 = s2 = 0
    with compiled_kernels.activated(len(frame) * max(1, len(chain))) as compiled:
        if compiled is not None:
            for _, acc in _row_hash_blocks(frame, chain, finish=False):
                t1, t2 = compiled.finish_sums(acc)
                s1, s2 = s1 + int(t1), s2 + int(t2)
            return s1 & _MASK64, s2 & _MASK64
        return _numpy_lanes(frame, chain)


def _numpy_lanes(frame: pd.DataFrame, chain: list[Any]) -> tuple[int, int]:
    s1 = s2 = 0
    g = np.empty(min(len(frame), BLOCK_ROWS), dtype=np.uint64)
    shifted = np.empty_like(g)
    with np.errstate(over="ignore"):
        for _, rows in _row_hash_blocks(frame, chain):
            m = len(rows)
            gm = g[:m]
            # a second, non-linear lane: equal sums of r alone are easy to meet
            np.multiply(rows, K_LANE2, out=gm)
            np.right_shift(gm, np.uint64(32), out=shifted[:m])
            np.bitwise_xor(gm, shifted[:m], out=gm)
            s1 += int(rows.sum(dtype=np.uint64))
            s2 += int(gm.sum(dtype=np.uint64))
    return s1 & _MASK64, s2 & _MASK64


def row_hashes(frame: pd.DataFrame, *, index: bool = False) -> npt.NDArray[np.uint64]:
    """One 64-bit hash per row of ``frame``, equal for rows with equal canonical content.

    Column order counts. Used by :class:`mlprod.DatasetDiff` to match rows
    without a key.

    Examples
    --------
    >>> import pandas as pd
    >>> h = row_hashes(pd.DataFrame({"a": [1, 2, 1], "b": ["x", "y", "x"]}))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1])
    (True, False)
    """
    chain, _, _ = _encoders(frame, index, True)
    out = np.empty(len(frame), dtype=np.uint64)
    with compiled_kernels.activated(len(frame) * max(1, len(chain))):
        for start, rows in _row_hash_blocks(frame, chain):
            out[start : start + len(rows)] = rows
    return out


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] in {"dask", "dask_expr"}


def _dask_state(data: Any, **opts: bool) -> PartialFingerprint:
    import operator

    from mlprod._internal.lazy import optional_import

    dask = optional_import("dask", feature="fingerprint of a Dask DataFrame", extra="dask")
    parts = data.to_delayed()
    # each partition's state needs its table position, which the lengths of the
    # partitions before it give; one graph, so every partition is computed once
    tasks, start = [], dask.delayed(0)
    for part in parts:
        tasks.append(dask.delayed(_partition_state)(part, opts, start))
        start = dask.delayed(operator.add)(start, dask.delayed(len)(part))
    states = dask.compute(*tasks)
    total = PartialFingerprint.empty(**opts)
    for state in states:
        total = total.merge(PartialFingerprint.from_dict(state))
    return total


def _partition_state(part: Any, opts: dict[str, bool], start: int) -> dict[str, Any]:
    return PartialFingerprint.of(part, start=start, **opts).to_dict()


def fingerprint(
    data: Any,
    *,
    ordered: bool = True,
    index: bool = False,
    columns_ordered: bool = True,
) -> Fingerprint:
    """Fingerprint the logical content of a table.

    Equal tables give equal fingerprints whatever their memory layout, block
    structure, chunking or index type, and after a round trip through
    Parquet, pickle or CSV read back with the same dtypes. Changing any value,
    a dtype, a column name or (with ``ordered=True``) the row order changes it.

    Canonical forms: every NaN payload is one NaN and ``-0.0`` equals
    ``0.0``; in a column, every missing marker (None, NaN, ``pd.NA``,
    ``NaT``) is one missing value; strings hash the same whether the column
    is ``object``, ``string``, pandas 3 ``str`` or Arrow-backed (their dtype
    is recorded as ``"string"``); a categorical hashes its values, not its
    codes. Integers of different widths, floats of different widths and
    nullable vs numpy dtypes are different dtypes, so they fingerprint
    differently even when the values are equal. Collisions are as likely as
    for a random 128-bit digest per block of rows when ordered (category
    values enter as 64-bit hashes) and a random 64-bit row hash when
    unordered; it is not a
    defence against deliberately crafted collisions.

    Parameters
    ----------
    data:
        A DataFrame, Series, 1-D or 2-D numpy array, a Dask DataFrame
        (extra ``dask``; partitions are hashed where they live), or an
        iterable of DataFrames taken as consecutive chunks of one table.
    ordered:
        ``False`` for a row-order-insensitive fingerprint: the multiset of
        rows, duplicates counted.
    index:
        Include the index levels as leading columns.
    columns_ordered:
        ``False`` to ignore the order of the columns (not their names).

    Returns
    -------
    Fingerprint
        A 32-character hex string with ``.rows``, ``.columns``, ``.schema``
        and ``.algorithm``.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> df = pd.DataFrame({"id": [1, 2, 3], "city": ["Oslo", "Lima", None]})
    >>> mp.fingerprint(df) == mp.fingerprint(df.astype({"city": object}))
    True
    >>> mp.fingerprint(df) == mp.fingerprint(df.iloc[::-1])
    False
    >>> mp.fingerprint(df, ordered=False) == mp.fingerprint(df.iloc[::-1], ordered=False)
    True
    >>> mp.fingerprint(df) == mp.fingerprint([df.iloc[:2], df.iloc[2:]])
    True
    """
    opts = {"ordered": ordered, "index": index, "columns_ordered": columns_ordered}
    check_options(opts)
    if _is_dask(data):
        return _dask_state(data, **opts).result()
    if isinstance(data, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
        return _state_of(_as_frame(data), whole=True, **opts).result()
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | dict):
        total = PartialFingerprint.empty(**opts)
        for chunk in data:
            total = total.merge(_state_of(_as_frame(chunk), start=total.rows, **opts))
        return total.result()
    return _state_of(_as_frame(data), whole=True, **opts).result()


def cell_hashes(series: pd.Series) -> tuple[str, npt.NDArray[np.uint64]]:
    """The canonical dtype of ``series`` and one 64-bit hash per cell, in canonical form.

    Used by :class:`mlprod.DatasetDiff` to compare cells exactly as the
    fingerprint sees them.

    Examples
    --------
    >>> import pandas as pd
    >>> dtype, h = cell_hashes(pd.Series([1.0, float("nan"), 1.0]))
    >>> dtype, bool(h[0] == h[2]), bool(h[0] == h[1])
    ('float64', True, False)
    """
    enc = encoder_for(series.reset_index(drop=True))
    n = len(series)
    acc = np.full(n, new_accumulator(1)[0], dtype=np.uint64)
    tmp = np.empty(n, dtype=np.uint64)
    with compiled_kernels.activated(n):
        words, missing = enc.encode(0, n, np.empty(n, dtype=np.uint64))
        fold_column(acc, words, missing, tmp)
    return enc.dtype, finish_rows(acc, tmp)


def canonical_dtypes(frame: pd.DataFrame) -> dict[Any, str]:
    """Column -> the canonical dtype name the fingerprint records for it.

    Examples
    --------
    >>> import pandas as pd
    >>> canonical_dtypes(pd.DataFrame({"a": [1], "b": ["x"]}))
    {'a': 'int64', 'b': 'string'}
    """
    return {c: encoder_for(frame[c].iloc[:0]).dtype for c in frame.columns}


# Reported, documented and pickled under the public path.
fingerprint.__module__ = "mlprod"
