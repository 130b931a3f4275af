"""The result of validation: :class:`ValidationReport`, every failing cell and the counts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.canonical import to_jsonable
from mlprod._internal.render import Document, Rendered, Section, Table
from mlprod.errors import SchemaError

__all__ = ["CheckFailures", "ValidationReport"]

FAILURE_COLUMNS = ("column", "check", "index", "value")


@dataclass(frozen=True, eq=False)
class CheckFailures:
    """The failures of one check on one column: how many, why, and the cells kept.

    ``labels`` and ``values`` hold the kept cells (at most the report's
    ``max_failures`` across all checks); ``count`` is always exact. A check
    that fails as a whole (a missing column, a wrong dtype, a check
    returning ``False``) has ``count == 1`` and a ``None`` label.
    """

    __module__ = "mlprod"

    column: str | None
    check: str
    reason: str
    count: int
    labels: Sequence[Any] = field(default=(), repr=False)
    values: Sequence[Any] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Column, check, reason and count as plain data."""
        return {
            "column": self.column,
            "check": self.check,
            "reason": self.reason,
            "failures": self.count,
        }


@dataclass(frozen=True, eq=False)
class ValidationReport(Rendered):
    """What :meth:`mlprod.Schema.validate` found: ``ok``, every failing cell, counts per check.

    Attributes
    ----------
    rows:
        Rows validated.
    checks:
        One :class:`CheckFailures` per failing check, in schema order.
    max_failures:
        The cap on kept cells that applied (``None``: all kept).
    schema_name:
        The schema's ``name``, if it has one.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> schema = mp.Schema({"age": mp.Column("int64", checks=[mp.checks.in_range(0, 120)])})
    >>> report = schema.validate(pd.DataFrame({"age": [3, 200, -1]}))
    >>> report.ok, report.n_failures
    (False, 2)
    >>> report.failures.values.tolist()
    [['age', 'in_range(0, 120)', 1, 200], ['age', 'in_range(0, 120)', 2, -1]]
    """

    __module__ = "mlprod"

    rows: int
    checks: tuple[CheckFailures, ...] = ()
    max_failures: int | None = None
    schema_name: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when nothing failed."""
        return not self.checks

    @property
    def n_failures(self) -> int:
        """Failing cells in all (exact, whatever ``max_failures`` kept)."""
        return sum(c.count for c in self.checks)

    @property
    def truncated(self) -> bool:
        """Whether ``failures`` holds fewer cells than failed (``max_failures`` applied)."""
        return sum(len(c.labels) for c in self.checks) < self.n_failures

    @property
    def failures(self) -> pd.DataFrame:
        """Every kept failing cell: ``column``, ``check``, ``index`` (row label), ``value``.

        Rows come in schema order: column by column, check by check, row by row.
        Each access returns a fresh copy, so changing it never changes the report.
        """
        return self._failure_frame.copy()

    @functools.cached_property
    def _failure_frame(self) -> pd.DataFrame:
        if not self.checks:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in FAILURE_COLUMNS})
        sizes = [len(c.labels) for c in self.checks]
        total = sum(sizes)
        columns = np.repeat(np.array([c.column for c in self.checks], dtype=object), sizes)
        names = np.repeat(np.array([c.check for c in self.checks], dtype=object), sizes)
        labels = np.empty(total, dtype=object)
        values = np.empty(total, dtype=object)
        start = 0
        for c, n in zip(self.checks, sizes):
            if n:
                labels[start : start + n] = _objects(c.labels)
                values[start : start + n] = _objects(c.values)
            start += n
        frame = pd.DataFrame({"column": columns, "check": names, "index": labels, "value": values})
        return frame.astype({"column": object, "check": object})

    @property
    def counts(self) -> pd.DataFrame:
        """Failures per check: ``column``, ``check``, ``failures`` (exact), ``reason``."""
        return pd.DataFrame(
            [[c.column, c.check, c.count, c.reason] for c in self.checks],
            columns=["column", "check", "failures", "reason"],
        ).astype({"failures": "int64"})

    def raise_for_failures(self) -> ValidationReport:
        """Raise :class:`~mlprod.SchemaError` carrying this report if anything failed.

        Returns the report when it is ok, so calls chain.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> schema = mp.Schema({"x": mp.Column("int64")})
        >>> try:
        ...     schema.validate(pd.DataFrame({"y": [1]})).raise_for_failures()
        ... except mp.SchemaError as exc:
        ...     print(exc.report.n_failures)
        1
        """
        if self.ok:
            return self
        parts = []
        for c in self.checks[:5]:
            where = ""
            shown = [label for label in list(c.labels[:3]) if label is not None]
            if shown:
                rows = ", ".join(str(label) for label in shown)
                more = ", ..." if c.count > len(shown) else ""
                where = f" (row{'s' if c.count > 1 else ''} {rows}{more})"
            parts.append(f"{c.column or '<frame>'}: {c.check} ×{c.count}{where} — {c.reason}")
        more = f"; and {len(self.checks) - 5} more checks" if len(self.checks) > 5 else ""
        cells = self.n_failures
        raise SchemaError(
            f"Validation failed: {cells} failure{'s' if cells != 1 else ''} in "
            f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''}. "
            + "; ".join(parts)
            + more
            + ". Inspect exc.report.failures for every failing cell.",
            report=self,
        )

    # ---------------------------------------------------------------- output

    def _document(self, *, max_rows: int = 20, **options: Any) -> Document:
        """The report as a document: counts per check, then up to ``max_rows`` failing cells.

        ``summary()``, ``to_markdown()``, ``to_html(path=None)`` and the
        notebook view render it; each takes ``max_rows=``.

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> print(mp.Schema({"x": mp.Column("int64")}).validate(pd.DataFrame({"x": [1]})).summary())
        Validation report: passed
          rows: 1
          failures: 0
        """
        title = "Validation report" + (f": {self.schema_name}" if self.schema_name else "")
        facts: dict[str, Any] = {"rows": self.rows, "failures": self.n_failures}
        if self.truncated:
            facts["kept"] = f"{len(self._failure_frame):,} cells (max_failures={self.max_failures})"
        sections = []
        if self.checks:
            by_check = Table(
                ["column", "check", "failures", "reason"],
                [[c.column or "<frame>", c.check, c.count, c.reason] for c in self.checks],
            )
            sections.append(Section("Failures by check", table=by_check))
            sections.append(
                Section(
                    "Failing cells", table=Table.from_frame(self._failure_frame, max_rows=max_rows)
                )
            )
        return Document(title, ok=self.ok, facts=facts, sections=sections)

    def to_dict(self, *, max_rows: int | None = None) -> dict[str, Any]:
        """Everything as JSON-ready data: status, counts, failing cells (``max_rows`` caps them).

        Examples
        --------
        >>> import pandas as pd, mlprod as mp
        >>> mp.Schema({"x": mp.Column("int64")}).validate(pd.DataFrame({"x": [1]})).to_dict()
        {'ok': True, 'rows': 1, 'n_failures': 0, 'truncated': False, 'checks': [], 'failures': []}
        """
        cells = self._failure_frame if max_rows is None else self._failure_frame.head(max_rows)
        return {
            "ok": self.ok,
            "rows": self.rows,
            "n_failures": self.n_failures,
            "truncated": self.truncated
            or (max_rows is not None and len(self._failure_frame) > max_rows),
            "checks": [c.to_dict() for c in self.checks],
            "failures": [_jsonable_row(r) for r in cells.itertuples(index=False, name=None)],
        }

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"{self.n_failures} failures in {len(self.checks)} checks"
        return f"<ValidationReport rows={self.rows} {status}>"


def _objects(seq: Any) -> np.ndarray:
    if isinstance(seq, np.ndarray) and seq.dtype == object:
        return seq
    if isinstance(seq, pd.Index | pd.api.extensions.ExtensionArray):
        return np.asarray(seq.astype(object))
    out = np.empty(len(seq), dtype=object)
    out[:] = list(seq) if not isinstance(seq, np.ndarray) else seq.astype(object)
    return out


def _jsonable_row(row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in zip(FAILURE_COLUMNS, row):
        try:
            missing = bool(pd.isna(value)) if not isinstance(value, tuple | list) else False
        except (TypeError, ValueError):
            missing = False
        if missing:
            out[key] = None
            continue
        try:
            out[key] = to_jsonable(value)
        except TypeError:
            out[key] = repr(value)
    return out
