"""Columns a dtype name cannot state: nested Arrow types (lists, structs, maps).

pandas cannot parse ``"list<item: int64>[pyarrow]"`` back into a dtype, so
a schema cannot name it. :func:`~mlprod.infer_schema` keeps such a column in
the schema with any dtype (``Column(None)``) and says why in its description,
rather than refusing the whole frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["unnamed_dtype_reason"]


def unnamed_dtype_reason(dtype: Any) -> str | None:
    """Why ``dtype`` cannot be named in a schema, or ``None`` when it can.

    Examples
    --------
    >>> import pandas as pd, pyarrow as pa
    >>> unnamed_dtype_reason(pd.ArrowDtype(pa.list_(pa.int64())))[:40]
    'list<item: int64>[pyarrow] is a nested A'
    >>> unnamed_dtype_reason(pd.ArrowDtype(pa.int64())) is None
    True
    """
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    typ = dtype.pyarrow_dtype
    if pa.types.is_nested(typ) or pa.types.is_dictionary(typ):
        return (
            f"{dtype} is a nested Arrow type that a dtype name cannot state, so the column "
            "is kept with any dtype (dtype=None) and its values are not checked"
        )
    return None
