"""Arrow date columns compared with timestamp bounds.

``date32[pyarrow]`` (any frame read with ``dtype_backend="pyarrow"``) refuses
to compare with a ``pd.Timestamp``; a date is its midnight, so the column is
compared as ``timestamp[s]`` instead.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["comparable"]


def comparable(values: Any, bound: Any) -> Any:
    """``values`` in a form that compares with ``bound`` (Arrow dates become timestamps).

    Examples
    --------
    >>> import datetime, pandas as pd, pyarrow as pa
    >>> dates = pd.array([datetime.date(2020, 1, 2)], dtype=pd.ArrowDtype(pa.date32()))
    >>> (comparable(dates, pd.Timestamp("2020-01-01")) > pd.Timestamp("2020-01-01")).tolist()
    [True]
    """
    dtype = getattr(values, "dtype", None)
    if not isinstance(dtype, pd.ArrowDtype) or not isinstance(bound, pd.Timestamp):
        return values
    import pyarrow as pa

    typ = dtype.pyarrow_dtype
    if not pa.types.is_date(typ):
        return values
    as_stamps = pa.array(values).cast(pa.timestamp("s"))
    return pd.array(as_stamps, dtype=pd.ArrowDtype(as_stamps.type))
