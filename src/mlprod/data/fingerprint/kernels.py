"""Vectorised kernels of the fingerprint: the row fold and the string hash.

Rows are hashed by folding each column's canonical ``uint64`` words into a
per-row accumulator (:func:`fold_column`); strings and bytes are hashed
straight from Arrow buffers (:func:`hash_utf8`). Every function works on a
whole block of rows with numpy ufuncs writing in place, so no Python code
runs per row and temporaries stay block-sized.

These numpy kernels define the values. :mod:`.compiled` has numba versions
of the row step, the short-string hash, float canonicalisation and the row
finish; a call folds with them when :data:`ACTIVE` holds them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACTIVE",
    "CANONICAL_NAN",
    "K_LANE2",
    "SEED_OBJECT",
    "U64",
    "Words",
    "finish_rows",
    "fold_column",
    "hash_bytes_reference",
    "hash_utf8",
    "new_accumulator",
]

U64 = npt.NDArray[np.uint64]
Words = list[U64]

# Odd 64-bit constants (golden ratio, xxHash and MurmurHash3 primes): odd so
# every multiplication is a bijection on uint64.
_SEED = np.uint64(0x243F6A8885A308D3)
_K_STEP = np.uint64(0x9E3779B97F4A7C15)
_K_MISS = np.uint64(0xC2B2AE3D27D4EB4F)
_K_STR = np.uint64(0x165667B19E3779F9)
SEED_OBJECT = np.uint64(0x85EBCA77C2B2AE63)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_S32 = np.uint64(32)
_S29 = np.uint64(29)
CANONICAL_NAN = np.float64(np.nan)  # bits 0x7FF8000000000000
K_LANE2 = np.uint64(0x94D049BB133111EB)
"""The multiplier of the second lane's mix ``g(r) = (r * K) ^ (r * K) >> 32``."""


ACTIVE: ContextVar[Any] = ContextVar("mlprod_fingerprint_kernels", default=None)
"""The compiled kernels (:class:`.compiled.Kernels`) the current call folds with, or None.

Set by :func:`.compiled.activated` around a call; ``None`` means numpy.
"""


def active() -> Any:
    """The compiled kernels the current call folds with, or ``None`` (numpy)."""
    return ACTIVE.get()


def new_accumulator(n: int) -> U64:
    """A fresh per-row accumulator for ``n`` rows."""
    return np.full(n, _SEED, dtype=np.uint64)


def _step(acc: U64, word: U64, tmp: U64) -> None:
    # acc = ((acc ^ word) * K1 ^ >>32) * K2: a bijection of acc for a fixed word
    # and of word for a fixed acc, so rows differing in one column never
    # collide; the second multiply keeps a difference in the top bits from
    # passing to the next column unchanged.
    np.bitwise_xor(acc, word, out=acc)
    np.multiply(acc, _K_STEP, out=acc)
    np.right_shift(acc, _S32, out=tmp)
    np.bitwise_xor(acc, tmp, out=acc)
    np.multiply(acc, _FMIX1, out=acc)


def fold_column(acc: U64, words: Words, missing: npt.NDArray[np.bool_] | None, tmp: U64) -> None:
    """Fold one column's canonical words into the row accumulator, in place."""
    saved = acc[missing] if missing is not None else None
    compiled = active()
    for word in words:
        if compiled is not None and word.dtype == np.uint64:
            compiled.step(acc, word)
        else:
            _step(acc, word, tmp[: len(acc)])
    if missing is not None and saved is not None and saved.size:
        # a missing cell takes a different multiplier, so it cannot equal any value
        marked = saved * _K_MISS
        marked ^= marked >> _S32
        marked *= _FMIX1
        acc[missing] = marked


def finish_rows(acc: U64, tmp: U64) -> U64:
    """Fold the high half of each accumulator into its low half: the row hashes, in place."""
    t = tmp[: len(acc)]
    np.right_shift(acc, _S32, out=t)
    np.bitwise_xor(acc, t, out=acc)
    return acc


# ---------------------------------------------------------------- strings


def _word_step(h: U64, word: U64, tmp: U64) -> None:
    np.bitwise_xor(h, word, out=h)
    np.multiply(h, _K_STR, out=h)
    np.right_shift(h, _S29, out=tmp)
    np.bitwise_xor(h, tmp, out=h)


def hash_bytes_reference(arr: Any, seed: np.uint64 = _SEED) -> U64:
    """The string hash computed from the offsets and data buffers, for any lengths.

    The hash of a value of ``L`` bytes ``b`` folds the words
    ``W0 = L | b[0:4] << 32``, ``W1 = b[4:12]``, then ``b[12:20]``,
    ``b[20:28]``, ... (little-endian, zero-padded), starting from ``seed``.
    ``W0`` and ``W1`` are exactly the two words of Arrow's string-view layout
    for values up to 12 bytes, which :func:`hash_utf8` reads directly.
    """
    import pyarrow as pa

    arr = arr.cast(pa.large_binary())
    n = len(arr)
    _, off_buf, data_buf = arr.buffers()[:3]
    offsets = np.frombuffer(off_buf, dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    first, last = int(offsets[0]), int(offsets[-1])
    nbytes = last - first
    # a zero-padded copy of just these bytes, so 8-byte loads past the end stay inside
    padded = np.zeros(nbytes + 16, dtype=np.uint8)
    if nbytes:
        padded[:nbytes] = np.frombuffer(data_buf, dtype=np.uint8, count=nbytes, offset=first)
    words8 = np.ndarray(shape=(nbytes + 9,), dtype="<u8", buffer=padded, strides=(1,))
    starts = offsets[:-1] - first
    lengths = np.diff(offsets)
    h = np.full(n, seed, dtype=np.uint64)
    tmp = np.empty(n, dtype=np.uint64)
    prefix = words8[starts] & np.uint64(0xFFFFFFFF)
    prefix &= _low_bytes_mask(np.minimum(lengths, 4))
    _word_step(h, lengths.astype(np.uint64) | (prefix << _S32), tmp)
    n_words = 2 + np.maximum(lengths - 12 + 7, 0) // 8
    for k in range(1, int(n_words.max()) if n else 0):
        rows = np.flatnonzero(n_words > k)
        begin = 4 + 8 * (k - 1)
        remaining = np.clip(lengths[rows] - begin, 0, 8)
        word = words8[np.minimum(starts[rows] + begin, nbytes)]
        word &= _low_bytes_mask(remaining)
        sub = h[rows]
        _word_step(sub, word, np.empty_like(sub))
        h[rows] = sub
    return h


def _low_bytes_mask(count: npt.NDArray[np.int64]) -> U64:
    """``2**(8*count) - 1`` for byte counts 0..8 (numpy gives 0 for a 64-bit shift)."""
    return (np.uint64(1) << (np.uint64(8) * count.astype(np.uint64))) - np.uint64(1)


def hash_utf8(arr: Any, seed: np.uint64 = _SEED) -> tuple[U64, npt.NDArray[np.bool_] | None]:
    """Hash each value of an Arrow string or binary array, without Python objects.

    Values up to 12 bytes are read from Arrow's string-view layout, where
    they sit inline, zero-padded, as the two words the hash folds; longer
    values are hashed from the offsets and data buffers
    (:func:`hash_bytes_reference`). Returns the hashes and the null mask
    (``None`` without nulls).
    """
    import pyarrow as pa

    n = len(arr)
    binary = (
        pa.types.is_binary(arr.type)
        or pa.types.is_large_binary(arr.type)
        or pa.types.is_binary_view(arr.type)
    )
    compiled = active()
    if compiled is not None and not (
        pa.types.is_string_view(arr.type) or pa.types.is_binary_view(arr.type)
    ):
        return _hash_from_offsets(compiled, arr, seed)
    if pa.types.is_string_view(arr.type) or pa.types.is_binary_view(arr.type):
        # views from elsewhere may leave junk after short values; ours zero-pad
        # them, as the Arrow format prescribes
        arr = arr.cast(pa.large_binary() if binary else pa.large_string())
    # compact a slice first: casting a slice costs as much as casting its parent
    views = pa.concat_arrays([arr]).cast(pa.binary_view() if binary else pa.string_view())
    raw = np.frombuffer(views.buffers()[1], dtype=np.uint64, count=2 * n, offset=views.offset * 16)
    w0 = raw[0::2]
    if compiled is not None:
        h = np.empty(n, dtype=np.uint64)
        compiled.string_hash(raw, seed, h)
    else:
        h = np.bitwise_xor(w0, seed)
        tmp = np.empty(n, dtype=np.uint64)
        np.multiply(h, _K_STR, out=h)
        np.right_shift(h, _S29, out=tmp)
        np.bitwise_xor(h, tmp, out=h)
        _word_step(h, raw[1::2], tmp)
    # cheap check first: values longer than 12 bytes live in extra data buffers
    if len(views.buffers()) > 2:
        long_rows = np.flatnonzero((w0 & np.uint64(0xFFFFFFFF)) > np.uint64(12))
        if long_rows.size:
            h[long_rows] = hash_bytes_reference(arr.take(pa.array(long_rows)), seed)
    nulls = np.asarray(views.is_null(), dtype=bool) if views.null_count else None
    return h, nulls


def _hash_from_offsets(
    compiled: Any, arr: Any, seed: np.uint64
) -> tuple[U64, npt.NDArray[np.bool_] | None]:
    """:func:`hash_utf8` of a string or binary array read from its offsets and bytes.

    The compiled kernel builds each short value's two string-view words from
    its bytes, so no string-view copy is made; values longer than 12 bytes
    take :func:`hash_bytes_reference`, as on the numpy path.
    """
    import pyarrow as pa

    n = len(arr)
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    buffers = arr.buffers()
    offsets = np.frombuffer(
        buffers[1],
        dtype=np.int64 if wide else np.int32,
        count=n + 1,
        offset=arr.offset * (8 if wide else 4),
    )
    first, last = int(offsets[0]), int(offsets[-1])
    # the value bytes, zero-padded to whole words (and one more for loads at the end)
    words = np.zeros((last - first) // 8 + 3, dtype=np.uint64)
    if last > first:
        words.view(np.uint8)[: last - first] = np.frombuffer(
            buffers[2], dtype=np.uint8, count=last - first, offset=first
        )
    h = np.empty(n, dtype=np.uint64)
    if compiled.offsets_hash(offsets, words, seed, h):
        long_rows = np.flatnonzero(np.diff(offsets) > 12)
        h[long_rows] = hash_bytes_reference(arr.take(pa.array(long_rows)), seed)
    nulls = np.asarray(arr.is_null(), dtype=bool) if arr.null_count else None
    return h, nulls
