"""Canonical bytes of column blocks, for ordered fingerprints.

An ordered fingerprint hashes each block of rows of the table's grid
(:mod:`mlprod.data.fingerprint.runs`) with xxh3-128: the block's row count,
then each column's rows as a :class:`ColumnPiece`, whose canonical bytes are

* fixed-width values: the xxh3-128 digest of their 64-bit canonical words
  (:mod:`mlprod.data.fingerprint.columns`); float64 and 64-bit integer
  columns are their own words, read straight from their buffers unless a
  block holds ``-0.0`` or NaN; missing cells hold zero;
* a flag byte, then (if set) one byte per row, for missing cells, and the
  same for cells of an object column that are not strings;
* strings and other objects: the UTF-8 byte length of each value as int64,
  then the UTF-8 bytes of all values, taken from Arrow's buffers without
  Python objects (non-strings as their typed text);
* categoricals: the number of categories the block uses, their values' words
  in ascending order, and each row's 1-based rank among them (0: missing),
  in the narrowest unsigned width that holds it.

Pieces concatenate and slice exactly, so the rows of an incomplete block
can travel in a partial state and meet the rest of their block later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xxhash

from mlprod.data.fingerprint.columns import _object_text, categorical_dtype_name, encoder_for
from mlprod.data.fingerprint.kernels import U64

__all__ = [
    "BlockEncoder",
    "ColumnPiece",
    "block_digest",
    "block_encoder_for",
    "block_hasher",
    "concat_pieces",
    "update_hasher",
]

_INT64_MIN = np.iinfo(np.int64).min
_NO = b"\x00"
_YES = b"\x01"


@dataclass(frozen=True, eq=False)
class CategoryTable:
    """A categorical column's category words, and its rank table for blocks that use them all."""

    words: npt.NDArray[np.uint64]
    order: npt.NDArray[np.intp]
    all_used: bytes

    @classmethod
    def of(cls, words: npt.NDArray[np.uint64]) -> CategoryTable:
        """The table of ``words`` (one per category, in code order)."""
        order = np.argsort(words, kind="stable")
        lut = np.zeros(256, dtype=np.uint8)
        if len(words) < 256:
            lut[order] = np.arange(1, len(order) + 1)
        return cls(words, order, lut.tobytes())


@dataclass(frozen=True, eq=False)
class ColumnPiece:
    """The canonical form of one column over some consecutive rows of one block."""

    rows: int
    values: tuple[npt.NDArray[Any], ...] = ()
    missing: npt.NDArray[np.bool_] | None = None
    lengths: npt.NDArray[np.int64] | None = None
    other: npt.NDArray[np.bool_] | None = None
    data: bytes | memoryview | None = None
    categorical: bool = False
    categories: CategoryTable | None = None
    digest: bytes | None = None

    def copy(self) -> ColumnPiece:
        """A piece that owns its memory (encoders may hand out views of scratch buffers).

        A categorical piece of raw codes becomes one of category words, which
        concatenate across chunks whatever each chunk's categories are.
        """
        if self.categories is not None:
            codes, table = self.values[0], self.categories.words
            missing = codes < 0
            words = table.take(codes) if len(table) else np.zeros(self.rows, np.uint64)
            words[missing] = 0
            return ColumnPiece(
                self.rows, (words,), missing if missing.any() else None, categorical=True
            )
        return ColumnPiece(
            self.rows,
            tuple(np.array(v, copy=True) for v in self.values),
            None if self.missing is None else self.missing.copy(),
            None if self.lengths is None else self.lengths.copy(),
            None if self.other is None else self.other.copy(),
            None if self.data is None else bytes(self.data),
            self.categorical,
        )

    def slice(self, start: int, stop: int) -> ColumnPiece:
        """Rows ``start:stop`` of this piece."""
        data = self.data
        if self.lengths is not None and data is not None:
            first = int(self.lengths[:start].sum())
            data = memoryview(data)[first : first + int(self.lengths[start:stop].sum())]
        return ColumnPiece(
            stop - start,
            tuple(v[start:stop] for v in self.values),
            None if self.missing is None else self.missing[start:stop],
            None if self.lengths is None else self.lengths[start:stop],
            None if self.other is None else self.other[start:stop],
            data,
            self.categorical,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data: arrays as ``[dtype, bytes]`` pairs."""

        def arr(a: npt.NDArray[Any] | None) -> list[Any] | None:
            return None if a is None else [a.dtype.str, np.ascontiguousarray(a).tobytes()]

        return {
            "rows": self.rows,
            "values": [arr(v) for v in self.values],
            "missing": arr(self.missing),
            "lengths": arr(self.lengths),
            "other": arr(self.other),
            "data": None if self.data is None else bytes(self.data),
            "categorical": self.categorical,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnPiece:
        """Rebuild a piece from :meth:`to_dict` output."""

        def arr(p: list[Any] | None) -> Any:
            return None if p is None else np.frombuffer(p[1], dtype=np.dtype(p[0]))

        return cls(
            d["rows"],
            tuple(arr(v) for v in d["values"]),
            arr(d["missing"]),
            arr(d["lengths"]),
            arr(d["other"]),
            d["data"],
            d["categorical"],
        )


def _cat_optional(parts: Sequence[npt.NDArray[np.bool_] | None], rows: Sequence[int]) -> Any:
    if all(p is None for p in parts):
        return None
    return np.concatenate(
        [p if p is not None else np.zeros(r, dtype=bool) for p, r in zip(parts, rows)]
    )


def concat_pieces(pieces: Sequence[ColumnPiece]) -> ColumnPiece:
    """The pieces' rows, one after the other, as one piece."""
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    rows = [p.rows for p in pieces]
    lengths = (
        None
        if first.lengths is None
        else np.concatenate([p.lengths for p in pieces if p.lengths is not None])
    )
    return ColumnPiece(
        sum(rows),
        tuple(np.concatenate([p.values[i] for p in pieces]) for i in range(len(first.values))),
        _cat_optional([p.missing for p in pieces], rows),
        lengths,
        _cat_optional([p.other for p in pieces], rows),
        None if first.data is None else b"".join(bytes(p.data or b"") for p in pieces),
        first.categorical,
    )


def _code_width(present: int) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if present < 256 else np.uint16 if present < 65536 else np.uint32


def _categorical_form(piece: ColumnPiece) -> tuple[npt.NDArray[np.uint64], Any]:
    """The used categories' words, ascending, and each row's 1-based rank among them (0: missing).

    Only the categories a block uses, in an order set by their values, so
    neither the codes nor unused categories count.
    """
    codes, cats = piece.values[0], piece.categories
    if cats is None:
        missing = piece.missing
        valid = codes if missing is None else codes[~missing]
        present, inverse = np.unique(valid, return_inverse=True)
        ranks = np.zeros(piece.rows, dtype=_code_width(len(present)))
        if missing is None:
            ranks[:] = inverse + 1
        else:
            ranks[~missing] = inverse + 1
        return present, ranks
    table = cats.words
    if codes.dtype.itemsize == 1:
        raw = np.ascontiguousarray(codes).view(np.uint8).tobytes()
        # bytes containment is a memchr: one fast scan per category
        used = np.array([k for k in range(len(table)) if k in raw], dtype=np.intp)
        if len(used) == len(table):
            return table[cats.order], raw.translate(cats.all_used)
    else:
        counts = np.bincount(codes.astype(np.intp) + 1, minlength=len(table) + 1)
        used = np.flatnonzero(counts[1:])
    used = used[np.argsort(table[used], kind="stable")]
    width = _code_width(len(used))
    if codes.dtype.itemsize == 1:
        lut = np.zeros(256, dtype=np.uint8)
        lut[used] = np.arange(1, len(used) + 1)
        return table[used], raw.translate(lut.tobytes())
    lut = np.zeros(len(table) + 1, dtype=width)
    lut[used + 1] = np.arange(1, len(used) + 1)
    return table[used], lut.take(codes.astype(np.intp) + 1)


def _values_digest(values: Sequence[npt.NDArray[Any]]) -> bytes:
    h: Any = xxhash.xxh3_128()
    for v in values:
        h.update(v if v.flags.c_contiguous else np.ascontiguousarray(v))
    return bytes(h.digest())


def update_hasher(h: Any, piece: ColumnPiece) -> None:
    """Feed ``piece``'s canonical bytes to the xxh3-128 hasher ``h``."""
    if piece.categorical:
        present, ranks = _categorical_form(piece)
        h.update(len(present).to_bytes(8, "little"))
        h.update(np.ascontiguousarray(present))
        h.update(ranks if isinstance(ranks, bytes) else np.ascontiguousarray(ranks))
        return
    if piece.values:
        h.update(piece.digest if piece.digest is not None else _values_digest(piece.values))
    # the flags make each encoding self-delimiting, so no two blocks share bytes
    for mask in (piece.missing, piece.other):
        if mask is not None and mask.any():
            h.update(_YES)
            h.update(np.ascontiguousarray(mask).view(np.uint8))
        else:
            h.update(_NO)
    if piece.lengths is not None:
        h.update(np.ascontiguousarray(piece.lengths, dtype=np.int64))
        h.update(piece.data if piece.data is not None else b"")


def block_hasher(rows: int) -> Any:
    """A fresh xxh3-128 hasher for a block of ``rows`` rows."""
    h = xxhash.xxh3_128()
    h.update(rows.to_bytes(8, "little"))
    return h


def block_digest(rows: int, pieces: Sequence[ColumnPiece]) -> bytes:
    """xxh3-128 of a block: its row count, then each column's canonical piece."""
    h = block_hasher(rows)
    for piece in pieces:
        update_hasher(h, piece)
    return bytes(h.digest())


BlockEncoder = Callable[[int, int, U64], ColumnPiece]


def _words_encoder(series: pd.Series) -> tuple[str, BlockEncoder]:
    enc = encoder_for(series)

    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        words, missing = enc.encode(s, e, scratch)
        if missing is not None and missing.any():
            # a missing cell's word is whatever its storage held; zero is canonical
            zeroed = []
            for w in words:
                w = np.array(w, copy=True)
                w[missing] = 0
                zeroed.append(w)
            words = zeroed
        else:
            missing = None
        return ColumnPiece(e - s, tuple(words), missing)

    return enc.dtype, encode


def _float64_encoder(values: npt.NDArray[np.float64], dtype: str) -> tuple[str, BlockEncoder]:
    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        block = values[s:e]
        if block.flags.c_contiguous and block.size:
            # hashed first, as it streams into cache, so the checks run in cache;
            # cheap check: np.minimum propagates NaN, and -0.0 is the only float
            # whose bits are the smallest int64 (callers silence FP warnings
            # once, as an errstate per block costs more than the check)
            digest = _values_digest((block,))
            clean = not np.isnan(np.minimum.reduce(block))
            if clean and np.minimum.reduce(block.view(np.int64)) != _INT64_MIN:
                return ColumnPiece(e - s, (block,), digest=digest)
        out = scratch[: e - s].view(np.float64)
        with np.errstate(invalid="ignore"):
            np.add(block, 0.0, out=out)  # -0.0 + 0.0 == +0.0
        out[np.isnan(out)] = np.nan
        return ColumnPiece(e - s, (out,))

    return dtype, encode


def _arrow_text_piece(
    arr: Any, scratch: U64 | None = None, other: npt.NDArray[np.bool_] | None = None
) -> ColumnPiece:
    """Lengths and bytes of an Arrow string/binary array (one chunk)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = arr.type
    if not (pa.types.is_large_string(typ) or pa.types.is_large_binary(typ)):
        binary = pa.types.is_binary(typ) or pa.types.is_binary_view(typ)
        arr = arr.cast(pa.large_binary() if binary else pa.large_string())
    n = len(arr)
    missing = np.asarray(arr.is_null(), dtype=bool) if arr.null_count else None
    if missing is not None:
        # a null slot may still span bytes in the data buffer
        arr = pc.fill_null(arr, "" if pa.types.is_large_string(arr.type) else b"")
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    out = scratch[:n].view(np.int64) if scratch is not None and len(scratch) >= n else None
    lengths = np.subtract(offsets[1:], offsets[:-1], out=out)
    first, last = int(offsets[0]), int(offsets[-1])
    data = memoryview(bufs[2])[first:last] if bufs[2] is not None else b""
    return ColumnPiece(n, (), missing, lengths, other, data)


def _arrow_text_encoder(chunked: Any) -> BlockEncoder:
    import pyarrow as pa

    if chunked.num_chunks == 1 and pa.types.is_large_string(chunked.type):
        only = chunked.chunk(0)
        if not only.null_count:
            # the common pandas layout: read the buffers once, then slice per block
            n = len(only)
            offsets = np.frombuffer(
                only.buffers()[1], dtype=np.int64, count=n + 1, offset=only.offset * 8
            )
            data = memoryview(only.buffers()[2] or b"")

            def encode_flat(s: int, e: int, scratch: U64) -> ColumnPiece:
                out = scratch[: e - s].view(np.int64) if len(scratch) >= e - s else None
                lengths = np.subtract(offsets[s + 1 : e + 1], offsets[s:e], out=out)
                bytes_ = data[int(offsets[s]) : int(offsets[e])]
                return ColumnPiece(e - s, (), None, lengths, None, bytes_)

            return encode_flat

    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        piece = chunked.slice(s, e - s)
        chunks = [c for c in piece.chunks if len(c)]
        if not chunks:
            return ColumnPiece(0, (), None, np.zeros(0, np.int64), None, b"")
        return _arrow_text_piece(
            chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks), scratch
        )

    return encode


def _object_text_encoder(values: npt.NDArray[np.object_]) -> BlockEncoder:
    import pyarrow as pa

    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        block = values[s:e]
        missing = np.asarray(pd.isna(block), dtype=bool)
        is_str = np.fromiter((isinstance(v, str) for v in block), dtype=bool, count=len(block))
        other = ~is_str & ~missing
        if missing.any() or other.any():
            block = block.copy()
            block[missing] = None
        if other.any():
            # the per-element slow path: mixed objects have no columnar form
            block[other] = [_object_text(v) for v in block[other]]
        arr = pa.array(block, type=pa.large_string(), from_pandas=True)
        return _arrow_text_piece(arr, scratch, other if other.any() else None)

    return encode


def _categorical_encoder(series: pd.Series) -> tuple[str, BlockEncoder] | None:
    dtype = series.dtype
    assert isinstance(dtype, pd.CategoricalDtype)
    cats = pd.Series(dtype.categories)
    inner = encoder_for(cats)
    words, _ = inner.encode(0, len(cats), np.empty(len(cats), np.uint64))
    if len(words) != 1:
        return None
    table = CategoryTable.of(np.array(words[0], dtype=np.uint64, copy=True))
    codes = np.asarray(series.array.codes)
    # the dtype name of mlprod.data.fingerprint.columns, without a second encoder
    name = categorical_dtype_name(inner.dtype, bool(dtype.ordered), words)

    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        return ColumnPiece(e - s, (codes[s:e],), categorical=True, categories=table)

    return name, encode


def _raw_encoder(values: npt.NDArray[Any], dtype: str) -> tuple[str, BlockEncoder]:
    def encode(s: int, e: int, scratch: U64) -> ColumnPiece:
        return ColumnPiece(e - s, (values[s:e],))

    return dtype, encode


def block_encoder_for(series: pd.Series) -> tuple[str, BlockEncoder]:
    """The canonical dtype name and the block encoder of ``series``."""
    import pyarrow as pa

    dtype = series.dtype
    native64 = isinstance(dtype, np.dtype) and dtype.itemsize == 8 and dtype.byteorder in "=<|"
    if native64 and dtype.kind in "iu":
        # the canonical words of these are their own little-endian buffers
        return _raw_encoder(np.asarray(series.array), str(dtype))
    if isinstance(dtype, pd.CategoricalDtype):
        found = _categorical_encoder(series)
        if found is not None:
            return found
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype == np.float64:
        return _float64_encoder(np.asarray(series.array), str(dtype))
    name, words = _words_encoder(series)
    if name == "string":
        array = series.array
        if getattr(array, "__arrow_array__", None) is not None and not isinstance(
            array, np.ndarray
        ):
            converted = pa.array(array)
            chunked = (
                converted
                if isinstance(converted, pa.ChunkedArray)
                else pa.chunked_array([converted])
            )
            return name, _arrow_text_encoder(chunked)
        return name, _object_text_encoder(np.asarray(array, dtype=object))
    if name == "object" and isinstance(dtype, np.dtype) and dtype.kind == "O":
        return name, _object_text_encoder(np.asarray(series.array, dtype=object))
    return name, words
