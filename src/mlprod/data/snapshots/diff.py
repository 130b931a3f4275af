"""What changed between two versions of a table: :class:`DatasetDiff`.

Cells are compared in the fingerprint's canonical form (NaN equals NaN,
``-0.0`` equals ``0.0``, every missing marker is one missing value, strings
equal across storages), so a diff reports a change exactly when the
fingerprint would see one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlprod._internal.render import Document, Rendered, Section, Table
from mlprod.data.fingerprint import canonical_dtypes, cell_hashes, row_hashes
from mlprod.errors import ConfigurationError

__all__ = ["DatasetDiff"]


@dataclass(frozen=True, eq=False)
class DatasetDiff(Rendered):
    """Differences between two tables: schema changes and row changes.

    Built by :meth:`mlprod.DatasetStore.diff` or :meth:`DatasetDiff.compute`.

    Attributes
    ----------
    labels:
        Names of the two sides (``"train:1"``, ``"train:2"``).
    key:
        Key columns rows were matched on, or ``()`` for a multiset comparison.
    rows_a, rows_b:
        Row counts of each side.
    columns_added, columns_removed:
        Column names only in ``b`` / only in ``a``.
    columns_retyped:
        ``(column, dtype in a, dtype in b)`` for columns whose canonical dtype changed.
    rows_added, rows_removed, rows_changed:
        Row counts: in ``b`` only, in ``a`` only, and (with a key) in both
        with at least one changed cell in a shared column.
    added, removed:
        The added rows (from ``b``) and the removed rows (from ``a``).
    changed:
        With a key: the key columns of each changed row and a
        ``changed_columns`` column listing what changed.
    column_changes:
        With a key: number of changed rows per shared column.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> a = pd.DataFrame({"id": [1, 2, 3], "x": [1.0, 2.0, 3.0]})
    >>> b = pd.DataFrame({"id": [2, 3, 4], "x": [2.0, 3.5, 4.0], "z": [0, 0, 0]})
    >>> d = mp.DatasetDiff.compute(a, b, key="id")
    >>> d.columns_added, d.rows_added, d.rows_removed, d.rows_changed
    (('z',), 1, 1, 1)
    >>> d.changed
       id changed_columns
    0   3               x
    """

    __module__ = "mlprod"

    labels: tuple[str, str]
    key: tuple[Any, ...]
    rows_a: int
    rows_b: int
    columns_added: tuple[Any, ...]
    columns_removed: tuple[Any, ...]
    columns_retyped: tuple[tuple[Any, str, str], ...]
    rows_added: int
    rows_removed: int
    rows_changed: int
    added: pd.DataFrame = field(repr=False)
    removed: pd.DataFrame = field(repr=False)
    changed: pd.DataFrame = field(repr=False)
    column_changes: dict[Any, int] = field(default_factory=dict, repr=False)

    @classmethod
    def compute(
        cls,
        a: pd.DataFrame,
        b: pd.DataFrame,
        *,
        key: str | Sequence[str] | None = None,
        labels: tuple[str, str] = ("a", "b"),
    ) -> DatasetDiff:
        """Compare frames ``a`` and ``b`` (matched on ``key`` if given).

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> a, b = pd.DataFrame({"x": [1, 1, 2]}), pd.DataFrame({"x": [1, 2, 2]})
        >>> d = mp.DatasetDiff.compute(a, b)
        >>> d.rows_added, d.rows_removed
        (1, 1)
        """
        keys: tuple[Any, ...] = (
            () if key is None else ((key,) if isinstance(key, str) else tuple(key))
        )
        types_a, types_b = canonical_dtypes(a), canonical_dtypes(b)
        added_cols = tuple(c for c in b.columns if c not in types_a)
        removed_cols = tuple(c for c in a.columns if c not in types_b)
        shared = [c for c in a.columns if c in types_b]
        retyped = tuple((c, types_a[c], types_b[c]) for c in shared if types_a[c] != types_b[c])
        rows = (
            _keyed(a, b, list(keys), shared, {c for c, _, _ in retyped})
            if keys
            else _multiset(a, b, shared)
        )
        return cls(
            labels=labels,
            key=keys,
            rows_a=len(a),
            rows_b=len(b),
            columns_added=added_cols,
            columns_removed=removed_cols,
            columns_retyped=retyped,
            **rows,
        )

    @property
    def identical(self) -> bool:
        """``True`` when nothing differs: same schema, same rows."""
        return not (
            self.columns_added
            or self.columns_removed
            or self.columns_retyped
            or self.rows_added
            or self.rows_removed
            or self.rows_changed
        )

    def _document(self, *, max_rows: int = 10, **options: Any) -> Document:
        """Counts, schema changes and up to ``max_rows`` example rows of each kind."""
        a, b = self.labels
        facts: dict[str, Any] = {
            "identical": "yes" if self.identical else "no",
            "rows": f"{self.rows_a:,} → {self.rows_b:,}",
            "matched on": ", ".join(map(str, self.key)) if self.key else "whole rows (multiset)",
            "rows added": f"{self.rows_added:,}",
            "rows removed": f"{self.rows_removed:,}",
        }
        if self.key:
            facts["rows changed"] = f"{self.rows_changed:,}"
        sections = []
        schema_rows = [[str(c), "added", "", ""] for c in self.columns_added]
        schema_rows += [[str(c), "removed", "", ""] for c in self.columns_removed]
        schema_rows += [[str(c), "retyped", ta, tb] for c, ta, tb in self.columns_retyped]
        if schema_rows:
            sections.append(
                Section("Schema changes", table=Table(["column", "change", a, b], schema_rows))
            )
        if self.column_changes:
            rows = [[str(c), n] for c, n in self.column_changes.items() if n]
            if rows:
                sections.append(
                    Section(
                        "Changed cells per column", table=Table(["column", "rows changed"], rows)
                    )
                )
        for title, frame in (
            ("Added rows", self.added),
            ("Removed rows", self.removed),
            ("Changed rows", self.changed),
        ):
            if len(frame):
                sections.append(Section(title, table=Table.from_frame(frame, max_rows=max_rows)))
        return Document(f"Dataset diff {a} → {b}", facts=facts, sections=sections)

    def __repr__(self) -> str:
        a, b = self.labels
        return (
            f"DatasetDiff({a!r} → {b!r}, columns +{len(self.columns_added)} "
            f"-{len(self.columns_removed)} ~{len(self.columns_retyped)}, "
            f"rows +{self.rows_added} -{self.rows_removed} ~{self.rows_changed})"
        )

    def to_dict(self, *, max_rows: int = 100) -> dict[str, Any]:
        """Counts, schema changes and up to ``max_rows`` example rows of each kind."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            head = frame.head(max_rows).astype(object)
            return [
                {
                    str(k): (None if pd.isna(v) else v) if np.ndim(v) == 0 else v
                    for k, v in r.items()
                }
                for r in head.to_dict("records")
            ]

        return {
            "labels": list(self.labels),
            "key": [str(k) for k in self.key],
            "rows_a": self.rows_a,
            "rows_b": self.rows_b,
            "columns_added": [str(c) for c in self.columns_added],
            "columns_removed": [str(c) for c in self.columns_removed],
            "columns_retyped": [[str(c), x, y] for c, x, y in self.columns_retyped],
            "rows_added": self.rows_added,
            "rows_removed": self.rows_removed,
            "rows_changed": self.rows_changed,
            "column_changes": {str(c): n for c, n in self.column_changes.items()},
            "added": records(self.added),
            "removed": records(self.removed),
            "changed": records(self.changed),
            "identical": self.identical,
        }


def _check_key(frame: pd.DataFrame, keys: list[Any], side: str) -> None:
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"Key column(s) {missing} are not in {side} (columns: {list(frame.columns)[:20]}). "
            "Pass key= naming columns present on both sides.",
            parameter="key",
            value=missing,
        )
    dup = frame.duplicated(subset=keys, keep=False)
    if dup.any():
        examples = frame.loc[dup, keys].drop_duplicates().head(3).to_dict("records")
        raise ConfigurationError(
            f"The key {keys} is not unique in {side}: {int(dup.sum())} rows share a key value "
            f"(e.g. {examples}). Use a key that identifies rows, or diff without key= to "
            "compare multisets.",
            parameter="key",
            value=keys,
        )


def _keyed(
    a: pd.DataFrame, b: pd.DataFrame, keys: list[Any], shared: list[Any], retyped: set[Any]
) -> dict[str, Any]:
    _check_key(a, keys, "a")
    _check_key(b, keys, "b")
    ka = (
        pd.MultiIndex.from_frame(a[keys].reset_index(drop=True))
        if len(keys) > 1
        else pd.Index(a[keys[0]])
    )
    kb = (
        pd.MultiIndex.from_frame(b[keys].reset_index(drop=True))
        if len(keys) > 1
        else pd.Index(b[keys[0]])
    )
    pos_in_a = ka.get_indexer(kb)
    pos_in_b = kb.get_indexer(ka)
    added = b.iloc[np.flatnonzero(pos_in_a < 0)].reset_index(drop=True)
    removed = a.iloc[np.flatnonzero(pos_in_b < 0)].reset_index(drop=True)
    both_b = np.flatnonzero(pos_in_a >= 0)
    both_a = pos_in_a[both_b]
    values = [c for c in shared if c not in keys]
    changed_mask = np.zeros((len(both_b), len(values)), dtype=bool)
    for j, c in enumerate(values):
        col_a, col_b = a[c].iloc[both_a], b[c].iloc[both_b]
        if c in retyped:
            va, vb = col_a.astype(object).to_numpy(), col_b.astype(object).to_numpy()
            both_na = pd.isna(va) & pd.isna(vb)
            changed_mask[:, j] = ~both_na & (va != vb)
        else:
            changed_mask[:, j] = cell_hashes(col_a)[1] != cell_hashes(col_b)[1]
    any_changed = changed_mask.any(axis=1) if values else np.zeros(len(both_b), dtype=bool)
    rows = np.flatnonzero(any_changed)
    changed = b.iloc[both_b[rows]][keys].reset_index(drop=True)
    changed["changed_columns"] = [
        ", ".join(str(values[j]) for j in np.flatnonzero(changed_mask[r])) for r in rows
    ]
    return {
        "rows_added": len(added),
        "rows_removed": len(removed),
        "rows_changed": len(rows),
        "added": added,
        "removed": removed,
        "changed": changed,
        "column_changes": {c: int(changed_mask[:, j].sum()) for j, c in enumerate(values)},
    }


def _excess(mine: npt.NDArray[np.uint64], theirs: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Rows of ``mine`` beyond the number of equal rows in ``theirs`` (duplicates counted)."""
    h = pd.Series(mine)
    seen = h.groupby(h, sort=False).cumcount().to_numpy()
    counts = pd.Series(theirs).value_counts()
    have = h.map(counts).fillna(0).to_numpy()
    return np.asarray(seen >= have, dtype=bool)


def _multiset(a: pd.DataFrame, b: pd.DataFrame, shared: list[Any]) -> dict[str, Any]:
    ha = row_hashes(a[shared].reset_index(drop=True)) if shared else np.zeros(len(a), np.uint64)
    hb = row_hashes(b[shared].reset_index(drop=True)) if shared else np.zeros(len(b), np.uint64)
    added = b.iloc[np.flatnonzero(_excess(hb, ha))].reset_index(drop=True)
    removed = a.iloc[np.flatnonzero(_excess(ha, hb))].reset_index(drop=True)
    return {
        "rows_added": len(added),
        "rows_removed": len(removed),
        "rows_changed": 0,
        "added": added,
        "removed": removed,
        "changed": pd.DataFrame(),
        "column_changes": {},
    }
