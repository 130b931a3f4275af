"""How a text check runs on a column: per row, per distinct value, or per category.

A text check can test every row, or test each distinct value once (one hash
pass to find them, then an ``is_in`` pass to locate failing rows only when one
fails). Which is cheaper depends on the check and on the column, so the path
is chosen by estimated cost:

* per row: ``n × row_cost`` (a regex costs several hash passes per row, a
  prefix or length test less than one);
* per distinct value: ``n × hash_cost(d/n) + d × row_cost``, with ``d`` the
  number of distinct values estimated from a sample (Chao1, so a few hundred
  values among a million rows are recognised although a sample shows each
  only a few dozen times), and a hash pass that slows as ``d`` grows.

A categorical column is checked on its categories, once, and the verdict is
mapped to rows through the codes.

Costs are in nanoseconds per row on Arrow large strings, measured with
pyarrow 2x on one core; only their ratios matter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["HASH_ROW_NS", "MIN_ROWS", "SAMPLE", "estimate_distinct", "use_distinct"]

#: Columns shorter than this always run per row: a sample costs more than it saves.
MIN_ROWS = 50_000
#: The sample's size (positions drawn at random with a fixed seed).
SAMPLE = 8_192
#: One hash pass (``pc.unique``) per row when few values are distinct.
HASH_ROW_NS = 9.0
#: How much slower that pass gets per unit of distinct fraction (a 1M-value table).
HASH_GROWTH = 25.0
#: Locating failing rows with ``is_in`` after a failing distinct value.
LOCATE_ROW_NS = 5.0


def estimate_distinct(strings: Any) -> int:
    """Estimated number of distinct values of ``strings`` (an Arrow array), from a sample.

    Examples
    --------
    >>> import pyarrow as pa
    >>> estimate_distinct(pa.array(["a", "b"] * 50_000))
    2
    """
    import pyarrow.compute as pc

    n = len(strings)
    if n > SAMPLE:
        # random positions (fixed seed: the choice is reproducible), not a stride, which a
        # periodic column would alias
        positions = np.random.default_rng(0).integers(0, n, SAMPLE)
        sample = strings.take(positions)
    else:
        sample = strings
    counts = pc.value_counts(sample).field("counts").to_numpy(zero_copy_only=False)
    seen = len(counts)
    f1 = int(np.count_nonzero(counts == 1))
    f2 = int(np.count_nonzero(counts == 2))
    # Chao1: the values a sample has not met yet, from how many it met once or twice
    unseen = f1 * (f1 - 1) / (2 * (f2 + 1))
    return int(min(n, seen + unseen))


def use_distinct(strings: Any, row_cost_ns: float) -> bool:
    """Whether checking each distinct value once is estimated cheaper than every row.

    Examples
    --------
    >>> import pyarrow as pa
    >>> few = pa.array([f"v{i % 300}" for i in range(200_000)])
    >>> use_distinct(few, row_cost_ns=30.0), use_distinct(few, row_cost_ns=2.0)
    (True, False)
    """
    n = len(strings)
    if n < MIN_ROWS:
        return False
    if row_cost_ns <= HASH_ROW_NS:
        return False  # the hash pass alone costs more than checking every row
    d = estimate_distinct(strings)
    hash_ns = HASH_ROW_NS * (1.0 + HASH_GROWTH * d / n)
    by_row = n * row_cost_ns
    by_distinct = n * hash_ns + d * row_cost_ns + 0.5 * n * LOCATE_ROW_NS
    return by_distinct < by_row


def category_failures(check: Any, values: Any) -> np.ndarray | None:
    """Failing rows of a categorical column, checking each category once.

    ``check`` is a text check (anything with ``failures(values, null)``);
    missing cells (code ``-1``) never fail.
    """
    categories = values.dtype.categories
    codes = np.asarray(values.codes)
    bad_categories = check.failures(np.asarray(categories, dtype=object), None)
    if bad_categories is None:
        return None
    bad = np.zeros(len(codes), dtype=bool)
    present = codes >= 0
    bad[present] = bad_categories[codes[present]]
    return bad if bad.any() else None
