"""What a store accepts, said before anything is written, and how its Parquet is read back.

:func:`check_root` refuses a root that cannot be a store; :func:`check_frame`
refuses columns that could not load back exactly (naming the column and the
reason); :func:`read_frame` reads stored bytes, nested Arrow types included.
"""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import ConfigurationError, UnstorableColumn

__all__ = ["check_frame", "check_root", "read_frame"]


def check_root(root: Any) -> None:
    """Refuse what cannot be a store root: not a path or URL, or an existing file."""
    if not isinstance(root, str | os.PathLike) or isinstance(root, bytes):
        raise ConfigurationError(
            f"DatasetStore needs a directory path or an fsspec URL, not {type(root).__name__} "
            f"({root!r}). Pass e.g. DatasetStore('./data-store') or 's3://bucket/datasets'.",
            parameter="root",
            value=repr(root),
        )
    text = os.fspath(root)
    if not text.strip():
        raise ConfigurationError(
            "DatasetStore got an empty root. Pass a directory such as './data-store'.",
            parameter="root",
            value=text,
        )
    if "://" not in text and os.path.exists(text) and not os.path.isdir(text):
        raise ConfigurationError(
            f"DatasetStore root {text!r} is a file, not a directory. Pass a directory (it is "
            "created if missing), e.g. the folder next to that file.",
            parameter="root",
            value=text,
        )


def _refuse(column: Any, reason: str, fix: str) -> UnstorableColumn:
    return UnstorableColumn(
        f"Cannot commit column {column!r}: {reason}. {fix}", column=column, reason=reason
    )


def check_frame(frame: pd.DataFrame) -> None:
    """Raise :class:`~mlprod.UnstorableColumn` for the first column that cannot round-trip."""
    seen: dict[str, Any] = {}
    columns: list[Any] = list(frame.columns)
    for column in columns:
        parts: tuple[Any, ...] = column if isinstance(column, tuple) else (column,)
        if any(isinstance(p, float) and math.isnan(p) for p in parts):
            raise _refuse(column, "name is NaN", "Rename it: df.columns = [...].")
        text = str(column)
        if text in seen and seen[text] is not column and seen[text] != column:
            raise _refuse(
                column,
                f"its name reads the same as column {seen[text]!r} once stored as text",
                "Parquet names columns by text; rename one of them.",
            )
        seen[text] = column
    flat = not isinstance(frame.columns, pd.MultiIndex)
    kinds = {type(c) for c in columns}
    for column in columns:
        if isinstance(column, bool | np.bool_):
            raise _refuse(column, "name is a boolean", "Rename it to text: df.columns = [...].")
        if flat and isinstance(column, tuple):
            raise _refuse(
                column,
                "name is a tuple in flat columns",
                "Use pd.MultiIndex.from_tuples(df.columns) or rename it to text.",
            )
    if len(kinds) > 1:
        names = sorted(t.__name__ for t in kinds)
        odd = next(c for c in columns if type(c) is not type(columns[0]))
        raise _refuse(
            odd,
            f"column names mix types ({', '.join(names)}), and Parquet stores them as text",
            "Give every column a name of one type, e.g. df.columns = df.columns.map(str).",
        )
    if not columns and len(frame):
        raise ConfigurationError(
            f"Cannot commit a frame with {len(frame)} rows but no columns: Parquet keeps no "
            "rows without columns, so it would load back empty. Add a column (e.g. the index "
            "with df.reset_index()).",
            parameter="df",
            value=len(frame),
        )
    for i, column in enumerate(frame.columns):
        dtype = frame.dtypes.iloc[i]
        if getattr(dtype, "kind", "") == "c":
            raise _refuse(
                column,
                f"complex numbers ({dtype}) have no Parquet type",
                "Split it into real and imaginary columns (s.to_numpy().real, .imag).",
            )


def read_frame(data: bytes) -> pd.DataFrame:
    """The frame stored in Parquet ``data``; nested Arrow types come back as ``pd.ArrowDtype``."""
    try:
        return pd.read_parquet(io.BytesIO(data))
    except TypeError:
        # pandas cannot parse the recorded name of a nested dtype ('list<item: int64>[pyarrow]')
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))

        def mapper(kind: Any) -> Any:
            return pd.ArrowDtype(kind) if pa.types.is_nested(kind) else None

        out: pd.DataFrame = table.to_pandas(types_mapper=mapper)
        return out
