"""Compiled row kernels: the numpy kernels of :mod:`.kernels`, fused into one loop each.

The unordered fingerprint, :func:`~mlprod.data.fingerprint.compute.row_hashes`
and :func:`~mlprod.data.fingerprint.compute.cell_hashes` fold every cell into
a per-row accumulator with five uint64 operations. As numpy ufuncs each
operation is a pass over a block in memory; compiled with numba (the ``fast``
extra; the ``reports`` extra brings it too, through shap) the five run in
registers, one pass per column. The values are the same bit for bit: the
numpy kernels are the definition, these a faster way to compute them, and the
test suite checks the two against each other.

When they are used is :func:`use_compiled`'s decision, made per call. The
first use in a process costs about 0.6 s (importing numba and loading its
machine code), which pays for itself only after about
:data:`AFTER_CELLS` cells: a process starts on numpy and moves to the
compiled kernels once its calls have folded that many cells (a single call
that large moves at once). ``MLPROD_JIT=1`` uses them from the first call,
``MLPROD_JIT=0`` never; without numba everything stays on numpy. Numba
caches the machine code on disk, so only the first process on a machine
compiles it (about 2 s).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from mlprod.data.fingerprint import kernels as k
from mlprod.data.fingerprint.kernels import ACTIVE, active

__all__ = ["AFTER_CELLS", "ENV", "Kernels", "activated", "active", "kernels", "use_compiled"]

ENV = "MLPROD_JIT"
"""Environment variable: ``0`` never uses the compiled kernels, ``1`` always does."""

AFTER_CELLS = 500_000_000
"""Cells a process folds on numpy before it loads the compiled kernels (numpy
takes about 1 ns more per cell, the first load about 0.6 s)."""

_folded = 0  # cells folded on numpy so far in this process

_log = logging.getLogger(__name__)
_lock = threading.Lock()


class Kernels(NamedTuple):
    """The compiled kernels; each writes in place like its numpy twin in :mod:`.kernels`."""

    step: Callable[[Any, Any], None]
    """``step(acc, word)``: :func:`.kernels._step` over a block."""
    string_hash: Callable[[Any, Any, Any], None]
    """``string_hash(raw, seed, out)``: the short-string hash of :func:`.kernels.hash_utf8`."""
    offsets_hash: Callable[[Any, Any, Any, Any], int]
    """``offsets_hash(offsets, data, seed, out)``: the same from offsets and bytes; the
    count of values longer than 12 bytes, left for :func:`.kernels.hash_bytes_reference`."""
    step_floats: Callable[[Any, Any, Any], None]
    """``step_floats(acc, values, bits)``: ``step`` of each float64's canonical bits, one pass."""
    canonical_floats: Callable[[Any, Any], None]
    """``canonical_floats(src, out)``: :func:`.columns._canonical_floats` into float64 ``out``."""
    finish_sums: Callable[[Any], tuple[int, int]]
    """``finish_sums(acc)``: :func:`.kernels.finish_rows` in place, and the two lane sums."""


@contextlib.contextmanager
def activated(cells: int) -> Iterator[Kernels | None]:
    """Fold with the compiled kernels inside this block if :func:`use_compiled` says so.

    A context variable, so concurrent calls in other threads or tasks decide
    for themselves.
    """
    token = ACTIVE.set(use_compiled(cells))
    try:
        yield ACTIVE.get()
    finally:
        ACTIVE.reset(token)


def _setting() -> str:
    return os.environ.get(ENV, "").strip().lower()


def use_compiled(cells: int) -> Kernels | None:
    """The compiled kernels for a call over ``cells`` cells, or ``None`` for numpy."""
    global _folded
    setting = _setting()
    if setting in {"0", "off", "false", "no"}:
        return None
    if setting not in {"1", "on", "true", "yes"} and not _build.cache_info().currsize:
        with _lock:
            _folded += cells
            if _folded < AFTER_CELLS:
                return None
    return kernels()


@functools.cache
def _build() -> Kernels | None:
    try:
        import numba
    except ImportError:
        return None
    except Exception as exc:  # an installed numba that cannot load (numpy too new, ...)
        _log.info("numba does not load (%s): the fingerprint row kernels stay on numpy", exc)
        return None
    try:
        return _compile(numba)
    except Exception as exc:  # pragma: no cover - a numba bug; numpy gives the same values
        _log.warning("compiling the fingerprint row kernels failed (%s); using numpy", exc)
        return None


def kernels() -> Kernels | None:
    """The compiled kernels (compiled, or loaded from numba's cache, on first use).

    ``None`` when numba is not installed or does not load.
    """
    with _lock:
        return _build()


def _compile(numba: Any) -> Kernels:
    k_step, fmix1, k_str = k._K_STEP, k._FMIX1, k._K_STR
    s32, s29 = k._S32, k._S29
    k_s2 = k.K_LANE2
    canonical_nan = k.CANONICAL_NAN
    nan_bits = k.CANONICAL_NAN.view(np.uint64)
    jit = numba.njit(cache=True, nogil=True, boundscheck=False)

    @jit  # type: ignore[untyped-decorator]
    def step(acc: Any, word: Any) -> None:  # pragma: no cover - runs compiled
        for i in range(acc.shape[0]):
            x = (acc[i] ^ word[i]) * k_step
            x ^= x >> s32
            acc[i] = x * fmix1

    @jit  # type: ignore[untyped-decorator]
    def string_hash(raw: Any, seed: Any, out: Any) -> None:  # pragma: no cover
        for i in range(out.shape[0]):
            h = (raw[2 * i] ^ seed) * k_str
            h ^= h >> s29
            h = (h ^ raw[2 * i + 1]) * k_str
            out[i] = h ^ (h >> s29)

    masks = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)

    @jit  # type: ignore[untyped-decorator]
    def _load(words: Any, p: Any) -> Any:  # pragma: no cover
        # the 8 bytes at byte position p of a zero-padded uint64 array, little-endian;
        # the high part is shifted in two steps so that r == 0 shifts it out entirely
        k = p >> 3
        r = np.uint64(8 * (p & 7))
        return (words[k] >> r) | ((words[k + 1] << (np.uint64(63) - r)) << np.uint64(1))

    @jit  # type: ignore[untyped-decorator]
    def offsets_hash(offsets: Any, words: Any, seed: Any, out: Any) -> int:  # pragma: no cover
        # W0 = L | b[0:4] << 32 and W1 = b[4:12], zero-padded: the string-view words;
        # ``words`` holds the bytes from offsets[0] on, zero-padded to whole words
        base = offsets[0]
        n_long = 0
        for i in range(out.shape[0]):
            start = offsets[i] - base
            length = offsets[i + 1] - offsets[i]
            if length > 12:
                n_long += 1
                out[i] = 0
                continue
            head = masks[min(length, 4)]
            tail = masks[max(length - 4, 0)]
            w0 = np.uint64(length) | ((_load(words, start) & head) << s32)
            w1 = _load(words, start + 4) & tail
            h = (w0 ^ seed) * k_str
            h ^= h >> s29
            h = (h ^ w1) * k_str
            out[i] = h ^ (h >> s29)
        return n_long

    @jit  # type: ignore[untyped-decorator]
    def step_floats(acc: Any, values: Any, raw: Any) -> None:  # pragma: no cover
        # raw: the same float64 values' bits; canonical: one NaN, and -0.0 is 0.0
        zero = np.uint64(0)
        for i in range(acc.shape[0]):
            v = values[i]
            bits = nan_bits if v != v else (zero if v == 0.0 else raw[i])
            x = (acc[i] ^ bits) * k_step
            x ^= x >> s32
            acc[i] = x * fmix1

    @jit  # type: ignore[untyped-decorator]
    def canonical_floats(src: Any, out: Any) -> None:  # pragma: no cover
        for i in range(out.shape[0]):
            v = src[i] + 0.0
            out[i] = canonical_nan if v != v else v

    @jit  # type: ignore[untyped-decorator]
    def finish_sums(acc: Any) -> tuple[Any, Any]:  # pragma: no cover
        s1 = np.uint64(0)
        s2 = np.uint64(0)
        for i in range(acc.shape[0]):
            r = acc[i] ^ (acc[i] >> s32)
            acc[i] = r
            g = r * k_s2
            s1 += r
            s2 += g ^ (g >> s32)
        return s1, s2

    return Kernels(step, string_hash, offsets_hash, step_floats, canonical_floats, finish_sums)
