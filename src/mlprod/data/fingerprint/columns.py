"""Canonical per-row encodings of columns: one encoder per kind of dtype.

Every column becomes, block by block, one or more ``uint64`` words per row
(its *canonical encoding*); the words of all columns are folded into one
64-bit hash per row by :func:`mlprod.data.fingerprint.kernels.fold_column`.
Nothing here loops over rows in
Python except the documented slow path for object columns that hold values
other than strings.

Canonical encodings (algorithm ``mlprod-fp/2``; ordered fingerprints hash
float64, 64-bit integer, string and categorical columns in the equivalent
byte forms of :mod:`mlprod.data.fingerprint.blocks`):

* integers, booleans, datetimes, timedeltas, periods: the value as a 64-bit
  integer (``NaT`` keeps its sentinel, which no real value has);
* floats: the IEEE-754 bits of the value as float64, after ``-0.0 -> 0.0``
  and every NaN payload -> the one quiet NaN;
* complex: the real part, then the imaginary part, as floats;
* strings (object, ``string``, ``str``, Arrow): a 64-bit hash of the UTF-8
  bytes, computed from Arrow buffers
  (:func:`mlprod.data.fingerprint.kernels.hash_utf8`);
* categoricals: the encoding of the category *value* (codes and unused
  categories do not matter);
* missing values (None, NaN, ``pd.NA``, ``NaT`` in nullable and object
  columns): one marker per column, folded in by a separate step so it never
  equals a real value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlprod.data.fingerprint.kernels import (
    CANONICAL_NAN,
    SEED_OBJECT,
    U64,
    Words,
    active,
    hash_utf8,
)

__all__ = ["ColumnEncoder", "encoder_for", "unify_dtypes"]


@dataclass
class ColumnEncoder:
    """Produces a column's canonical words for any row range.

    Attributes
    ----------
    dtype:
        The canonical dtype name recorded in the fingerprint's schema.
    encode:
        ``encode(start, stop, scratch)`` -> (words, missing-mask or None).
    floats:
        For a float64 column, its values: the compiled kernels canonicalise
        and fold them in one pass (``Kernels.step_floats``) instead of
        encoding words first. ``None`` for other columns.
    """

    dtype: str
    encode: Callable[[int, int, U64], tuple[Words, npt.NDArray[np.bool_] | None]]
    floats: np.ndarray | None = None


def _int_encoder(values: np.ndarray, dtype: str) -> ColumnEncoder:
    if values.dtype.itemsize == 8 and values.dtype.kind in "iu":
        raw = values.view(np.uint64)
        return ColumnEncoder(dtype, lambda s, e, out: ([raw[s:e]], None))

    def encode(s: int, e: int, out: U64) -> tuple[Words, None]:
        buf = out[: e - s]
        signed = values.dtype.kind == "i"
        np.copyto(buf.view(np.int64) if signed else buf, values[s:e], casting="unsafe")
        return [buf], None

    return ColumnEncoder(dtype, encode)


def _canonical_floats(src: np.ndarray, out: U64) -> U64:
    f = out.view(np.float64)
    compiled = active()
    if compiled is not None and src.dtype in _COMPILED_FLOATS:
        compiled.canonical_floats(src, f)
        return out
    with np.errstate(invalid="ignore", over="ignore"):  # signalling NaNs, inf * inf
        np.add(src, 0.0, out=f, casting="unsafe")  # -0.0 + 0.0 == +0.0
        # cheap check first: np.minimum propagates NaN, so the minimum is NaN exactly
        # when a value is (one in-cache pass; no BLAS, whose threads stall under load)
        if f.size and np.isnan(np.minimum.reduce(f)):
            f[np.isnan(f)] = CANONICAL_NAN
    return out


_COMPILED_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _float_encoder(values: np.ndarray, dtype: str) -> ColumnEncoder:
    return ColumnEncoder(
        dtype,
        lambda s, e, out: ([_canonical_floats(values[s:e], out[: e - s])], None),
        values if values.dtype == np.float64 else None,
    )


def _complex_encoder(values: np.ndarray, dtype: str) -> ColumnEncoder:
    def encode(s: int, e: int, out: U64) -> tuple[Words, None]:
        block = values[s:e]
        return [
            _canonical_floats(block.real, out[: e - s]),
            _canonical_floats(block.imag, np.empty(e - s, np.uint64)),
        ], None

    return ColumnEncoder(dtype, encode)


def _masked_encoder(array: Any, dtype: str) -> ColumnEncoder:
    kind = array.dtype.numpy_dtype.kind

    def encode(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        block = array[s:e]
        missing = np.asarray(block.isna(), dtype=bool)
        if kind == "f":
            vals = block.to_numpy(dtype="float64", na_value=np.nan)
            return [_canonical_floats(vals, out[: e - s])], None  # NA and NaN are one missing value
        vals = block.to_numpy(dtype="int64" if kind in "ib" else "uint64", na_value=0)
        buf = out[: e - s]
        np.copyto(buf.view(np.int64) if kind in "ib" else buf, vals, casting="unsafe")
        return [buf], (missing if missing.any() else None)

    return ColumnEncoder(dtype, encode)


SPAN_ROWS = 1 << 17
"""Rows of an Arrow string column hashed per cast (see :func:`_chunked_encoder`)."""


def _chunked_encoder(
    chunked: Any, hasher: Callable[[Any], tuple[U64, npt.NDArray[np.bool_] | None]]
) -> Callable[[int, int, U64], tuple[Words, npt.NDArray[np.bool_] | None]]:
    """Encode rows of an Arrow ChunkedArray by hashing zero-copy slices of its chunks.

    Blocks are hashed :data:`SPAN_ROWS` rows at a time and served from that
    span: Arrow's cast to the string-view layout costs a fixed amount per
    call on top of its per-row cost, so four blocks in one cast are cheaper
    than four casts. The span's hashes (8 bytes a row) are the only state kept.
    """
    bounds = np.cumsum([0, *(len(c) for c in chunked.chunks)])
    n = int(bounds[-1])
    span: list[Any] = [0, 0, None, None]  # start, stop, hashes, null mask or None

    def encode(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        if e - s >= SPAN_ROWS:
            return hash_rows(s, e)
        if span[2] is None or not (span[0] <= s and e <= span[1]):
            stop = max(e, min(n, s + SPAN_ROWS))
            (h,), mask = hash_rows(s, stop)
            span[:] = [s, stop, h, mask]
        at = s - span[0]
        mask = span[3]
        part = None if mask is None else mask[at : at + e - s]
        return [span[2][at : at + e - s]], (part if part is not None and part.any() else None)

    def hash_rows(s: int, e: int) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        first = int(np.searchsorted(bounds, s, side="right")) - 1
        parts, masks, start = [], [], s
        while start < e:
            chunk = chunked.chunks[first]
            stop = min(e, int(bounds[first + 1]))
            h, nulls = hasher(chunk.slice(start - int(bounds[first]), stop - start))
            parts.append(h)
            masks.append(nulls if nulls is not None else np.zeros(len(h), dtype=bool))
            start, first = stop, first + 1
        if len(parts) == 1:
            return [parts[0]], None if not masks[0].any() else masks[0]
        mask = np.concatenate(masks) if masks else np.zeros(0, dtype=bool)
        joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        return [joined], (mask if mask.any() else None)

    return encode


def _string_encoder(series: pd.Series, dtype: str = "string") -> ColumnEncoder:
    import pyarrow as pa

    array = series.array
    arrow_backed = getattr(array, "__arrow_array__", None) is not None and not isinstance(
        array, np.ndarray
    )
    if arrow_backed:
        converted = pa.array(array)
        chunked = (
            converted if isinstance(converted, pa.ChunkedArray) else pa.chunked_array([converted])
        )
        encode = _chunked_encoder(chunked, lambda piece: hash_utf8(piece))

        return ColumnEncoder(dtype, encode)
    values = np.asarray(series.array, dtype=object)

    def encode_obj(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        h, nulls = hash_utf8(pa.array(values[s:e], type=pa.large_string(), from_pandas=True))
        return [h], nulls

    return ColumnEncoder(dtype, encode_obj)


def _object_text(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"float:{float(value) + 0.0!r}"
    if isinstance(value, bool | np.bool_):
        return f"bool:{bool(value)}"
    if isinstance(value, int | np.integer):
        return f"int:{int(value)}"
    if isinstance(value, bytes):
        return "bytes:" + value.hex()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return f"{type(value).__name__}:{isoformat()}"
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def _object_encoder(values: np.ndarray) -> ColumnEncoder:
    import pyarrow as pa

    def encode(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        block = values[s:e]
        missing = np.asarray(pd.isna(block), dtype=bool)
        is_str = np.fromiter((isinstance(v, str) for v in block), dtype=bool, count=len(block))
        h = np.empty(len(block), dtype=np.uint64)
        if is_str.any():
            h[is_str] = hash_utf8(pa.array(block[is_str], type=pa.large_string()))[0]
        other = ~is_str & ~missing
        if other.any():
            # the per-element slow path: mixed objects have no columnar form
            texts = [_object_text(v) for v in block[other]]
            h[other] = hash_utf8(pa.array(texts, type=pa.large_string()), seed=SEED_OBJECT)[0]
        h[missing] = 0
        return [h], (missing if missing.any() else None)

    return ColumnEncoder("object", encode)


def categorical_dtype_name(inner: str, ordered: bool, words: Sequence[U64]) -> str:
    """The canonical dtype of a categorical: ``category[string]``, or with its order.

    An ordered categorical's category order decides how its values sort and
    compare, so it is part of the dtype: a short digest of the categories'
    words in order (``category[string, ordered, order=1f0c...]``).
    """
    if not ordered:
        return f"category[{inner}]"
    import hashlib

    h = hashlib.sha256()
    for w in words:
        h.update(np.ascontiguousarray(w, dtype=np.uint64).tobytes())
    return f"category[{inner}, ordered, order={h.hexdigest()[:16]}]"


def _categorical_encoder(series: pd.Series) -> ColumnEncoder:
    dtype = series.dtype
    assert isinstance(dtype, pd.CategoricalDtype)
    cats = pd.Series(dtype.categories)
    inner = encoder_for(cats)
    n_cats = len(cats)
    cat_words, _ = inner.encode(0, n_cats, np.empty(n_cats, np.uint64))
    cat_words = [w.copy() for w in cat_words]
    codes = np.asarray(series.array.codes)
    name = categorical_dtype_name(inner.dtype, bool(dtype.ordered), cat_words)

    def encode(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        block = codes[s:e]
        # code -1 (missing) takes the last category's word; the missing step replaces it
        words = [np.take(w, block) if n_cats else np.zeros(e - s, np.uint64) for w in cat_words]
        has_missing = block.size and block.min() < 0
        return words, (block < 0 if has_missing else None)

    return ColumnEncoder(name, encode)


def _arrow_encoder(series: pd.Series) -> ColumnEncoder:
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = str(series.dtype)
    chunked = pa.array(series.array)
    if not isinstance(chunked, pa.ChunkedArray):
        chunked = pa.chunked_array([chunked])
    typ = chunked.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return _string_encoder(series, "string")
    numeric = (
        pa.types.is_integer(typ)
        or pa.types.is_floating(typ)
        or pa.types.is_boolean(typ)
        or pa.types.is_temporal(typ)
    )
    if not numeric:
        # Arrow's own Python values: pandas' conversion turns a struct's ints into floats
        # when a null is present in the chunk, so the value would depend on the chunking
        values = pd.Series(chunked.to_pylist(), dtype=object).to_numpy()
        enc = _object_encoder(values)
        return ColumnEncoder(dtype, enc.encode)
    floating = pa.types.is_floating(typ)

    def encode(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
        piece = chunked.slice(s, e - s).combine_chunks()
        missing = np.asarray(piece.is_null(), dtype=bool) if piece.null_count else None
        if floating:
            vals = pc.fill_null(piece.cast(pa.float64()), math.nan).to_numpy(zero_copy_only=False)
            return [_canonical_floats(vals, out[: e - s])], None
        if pa.types.is_boolean(typ):
            vals = pc.fill_null(piece, False).to_numpy(zero_copy_only=False).astype(np.int64)
        elif pa.types.is_temporal(typ):
            vals = pc.fill_null(
                # 32-bit temporals (date32, time32) have no direct cast to int64
                piece.view(pa.int64())
                if typ.bit_width == 64
                else piece.view(pa.int32()).cast(pa.int64()),
                0,
            ).to_numpy(zero_copy_only=False)
        else:
            vals = pc.fill_null(piece, 0).to_numpy(zero_copy_only=False)
        buf = out[: e - s]
        np.copyto(buf.view(np.int64) if vals.dtype.kind != "u" else buf, vals, casting="unsafe")
        return [buf], missing

    return ColumnEncoder(dtype, encode)


def encoder_for(series: pd.Series) -> ColumnEncoder:
    """Pick the canonical encoder for ``series`` from its dtype."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical_encoder(series)
    if isinstance(dtype, pd.StringDtype):
        return _string_encoder(series)
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_encoder(series)
    if isinstance(dtype, pd.DatetimeTZDtype):
        raw = np.asarray(series.array.view("i8"))
        return _int_encoder(raw, str(dtype))
    if isinstance(dtype, pd.PeriodDtype):
        return _int_encoder(np.asarray(series.array.asi8), str(dtype))
    if isinstance(dtype, pd.IntervalDtype):
        left, right = (
            encoder_for(pd.Series(series.array.left)),
            encoder_for(pd.Series(series.array.right)),
        )
        missing_all = np.asarray(series.isna(), dtype=bool)

        def encode_interval(s: int, e: int, out: U64) -> tuple[Words, npt.NDArray[np.bool_] | None]:
            lw, _ = left.encode(s, e, out)
            rw, _ = right.encode(s, e, np.empty(e - s, np.uint64))
            missing = missing_all[s:e]
            return [*lw, *rw], (missing if missing.any() else None)

        return ColumnEncoder(f"{dtype}", encode_interval)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and hasattr(series.array, "_mask"):
        return _masked_encoder(series.array, str(dtype))
    if isinstance(dtype, np.dtype):
        values = (
            np.asarray(series.array)
            if dtype.kind != "O"
            else np.asarray(series.array, dtype=object)
        )
        if dtype.kind in "iub":
            return _int_encoder(values if dtype.kind != "b" else values.view(np.uint8), str(dtype))
        if dtype.kind in "mM":
            return _int_encoder(values.view(np.int64), str(dtype))
        if dtype.kind == "f":
            return _float_encoder(values, str(dtype))
        if dtype.kind == "c":
            return _complex_encoder(values, str(dtype))
        if dtype.kind == "O":
            if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
                return _string_encoder(series)
            return _object_encoder(values)
    # anything else (sparse, third-party extension arrays) goes through objects
    enc = _object_encoder(np.asarray(series.astype(object), dtype=object))
    return ColumnEncoder(str(dtype), enc.encode)


def unify_dtypes(a: Sequence[str], b: Sequence[str]) -> list[str] | None:
    """The common schema of two chunks, or ``None`` when they disagree.

    A string column and an object column unify to ``object``: string cells
    hash identically in both, so a chunk whose mixed column happens to hold
    only strings still merges with the others.
    """
    if len(a) != len(b):
        return None
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif {x, y} == {"string", "object"}:
            out.append("object")
        else:
            return None
    return out
