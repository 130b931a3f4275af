"""``mp.DriftMonitor``: windows of production batches checked against a reference.

The monitor keeps profiles, never rows: one profile per ``every`` rows, the
last ``window // every`` of them merged per report, so memory stays a few
kilobytes per column whatever the traffic. With a schema it records the
share of rows failing validation per window; with an id column, a
prediction column and a metric it matches late labels to the window their
rows arrived in (bounded by ``max_pending`` ids).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mlprod.data.drift.compare import drift
from mlprod.data.drift.profiles import Profile, profile
from mlprod.data.drift.report import DriftReport
from mlprod.errors import ConfigurationError

__all__ = ["DriftMonitor", "SupportsValidate", "WindowReport"]


class SupportsValidate(Protocol):
    """Anything with ``validate(df)`` returning an object with ``ok`` and ``failures``."""

    def validate(self, df: Any, /) -> Any: ...


@dataclass(frozen=True)
class WindowReport:
    """One window: its drift report and the quality figures beside it."""

    __module__ = "mlprod"

    window: int
    rows: int
    drift: DriftReport
    failure_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "window": self.window,
            "rows": self.rows,
            "failure_rate": self.failure_rate,
            "drift": self.drift.to_dict(),
        }


class DriftMonitor:
    """Check production batches against a reference profile, window by window.

    Parameters
    ----------
    reference:
        A :class:`~mlprod.Profile` or a DataFrame (profiled once here).
    window:
        Rows per report.
    every:
        Rows between reports (default ``window``: tumbling windows); must
        divide ``window`` (sliding windows overlap by ``window - every``).
    schema:
        Optional object with ``validate(df)`` (e.g. an ``mp.Schema``); the
        share of rows with a failure is reported per window.
    on_report:
        Called with each :class:`WindowReport` as it is made.
    id_column, prediction_column, metric, reference_metric:
        For late labels: :meth:`add_labels` finds each id's prediction and
        window; :meth:`metrics` gives ``metric(y_true, y_pred)`` per window
        next to ``reference_metric``.
    max_reports, max_pending:
        Bounds on the reports kept and on ids awaiting labels (oldest dropped).
    **drift_options:
        Passed to :func:`mlprod.drift` (``method``, ``threshold``, ``columns``, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd, mlprod as mp
    >>> rng = np.random.default_rng(0)
    >>> monitor = mp.DriftMonitor(pd.DataFrame({"x": rng.normal(size=2000)}), window=1000)
    >>> for shift in (0.0, 1.0):
    ...     _ = monitor.update(pd.DataFrame({"x": rng.normal(shift, 1, size=1000)}))
    >>> [r.drift.drifted for r in monitor.reports()]
    [False, True]
    >>> "mlprod_drift_share 1" in monitor.prometheus_text()
    True
    """

    __module__ = "mlprod"

    def __init__(
        self,
        reference: Profile | pd.DataFrame,
        *,
        window: int = 10_000,
        every: int | None = None,
        schema: SupportsValidate | None = None,
        on_report: Callable[[WindowReport], Any] | None = None,
        id_column: str | None = None,
        prediction_column: str | None = None,
        metric: Callable[[Any, Any], float] | None = None,
        reference_metric: float | None = None,
        max_reports: int = 1000,
        max_pending: int = 1_000_000,
        **drift_options: Any,
    ) -> None:
        every = window if every is None else every
        if window < 1 or every < 1 or window % every:
            raise ConfigurationError(
                f"window ({window!r}) and every ({every!r}) must be positive "
                "with every dividing window",
                parameter="every",
                value=every,
            )
        self.reference = reference if isinstance(reference, Profile) else profile(reference)
        self.window, self.every = window, every
        self.schema, self.on_report = schema, on_report
        self.id_column, self.prediction_column = id_column, prediction_column
        self.metric, self.reference_metric = metric, reference_metric
        self.max_pending = max_pending
        self._options = drift_options
        self._lock = threading.Lock()
        self._slices: deque[tuple[Profile, int, int]] = deque(maxlen=window // every)
        self._buffer: list[pd.DataFrame] = []  # at most `every` rows waiting for their slice
        self._buffered = 0
        self._reports: deque[WindowReport] = deque(maxlen=max_reports)
        self._pending: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._labels: dict[int, tuple[list[Any], list[Any]]] = {}
        self._slice_index = 0
        self._rows_total = 0
        self._windows_total = 0

    def update(self, batch: pd.DataFrame) -> list[WindowReport]:
        """Add a batch; returns the reports of the windows it completed (often none)."""
        if not isinstance(batch, pd.DataFrame):
            raise ConfigurationError(
                f"update needs a pandas DataFrame, got {type(batch).__name__}",
                parameter="batch",
                value=type(batch).__name__,
            )
        made: list[WindowReport] = []
        with self._lock:
            start = 0
            while start < len(batch):
                take = min(self.every - self._buffered, len(batch) - start)
                self._buffer.append(batch.iloc[start : start + take])
                self._buffered += take
                start += take
                if self._buffered == self.every:
                    made += self._close_slice()
            self._rows_total += len(batch)
        for r in made:
            if self.on_report is not None:
                self.on_report(r)
        return made

    def _close_slice(self) -> list[WindowReport]:
        part = pd.concat(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        self._buffer, self._buffered = [], 0
        idx = self._slice_index
        self._slice_index += 1
        failing = 0
        if self.schema is not None:
            failures = self.schema.validate(part).failures
            if len(failures):
                rows = failures.get("index", failures.index)
                failing = int(pd.Series(rows).dropna().nunique())
        self._remember_predictions(part, idx)
        p = profile(part, bins=self.reference.bins, max_categories=self.reference.max_categories)
        self._slices.append((p, len(part), failing))
        if len(self._slices) < self._slices.maxlen:  # type: ignore[operator]
            return []
        merged = Profile.merge([s[0] for s in self._slices])
        rows = sum(s[1] for s in self._slices)
        rate = sum(s[2] for s in self._slices) / rows if self.schema is not None else None
        report = WindowReport(
            self._windows_total, rows, drift(self.reference, merged, **self._options), rate
        )
        self._windows_total += 1
        self._reports.append(report)
        return [report]

    def _remember_predictions(self, part: pd.DataFrame, slice_index: int) -> None:
        if self.id_column is None or self.prediction_column is None:
            return
        window = slice_index // (self.window // self.every)
        for key, pred in zip(part[self.id_column].tolist(), part[self.prediction_column].tolist()):
            self._pending[key] = (window, pred)
        while len(self._pending) > self.max_pending:
            self._pending.popitem(last=False)

    def add_labels(self, ids: Sequence[Any], y: Sequence[Any]) -> int:
        """Record late labels; returns how many matched a remembered prediction."""
        if self.metric is None or self.id_column is None or self.prediction_column is None:
            raise ConfigurationError(
                "add_labels needs id_column, prediction_column and metric on the monitor: "
                "DriftMonitor(ref, id_column='id', prediction_column='score', "
                "metric=roc_auc_score)",
                parameter="metric",
            )
        matched = 0
        with self._lock:
            for key, label in zip(list(ids), list(y)):
                hit = self._pending.pop(key, None)
                if hit is None:
                    continue
                window, pred = hit
                ys, ps = self._labels.setdefault(window, ([], []))
                ys.append(label)
                ps.append(pred)
                matched += 1
        return matched

    def metrics(self) -> pd.DataFrame:
        """Per window with labels: rows labelled, the metric, the reference value, the change."""
        if self.metric is None:
            raise ConfigurationError("metrics needs metric=... on the monitor", parameter="metric")
        records = []
        with self._lock:
            labels = {k: (list(a), list(b)) for k, (a, b) in self._labels.items()}
        for window, (ys, ps) in sorted(labels.items()):
            value = float(self.metric(np.asarray(ys), np.asarray(ps)))
            ref = self.reference_metric
            records.append(
                {
                    "window": window,
                    "labelled": len(ys),
                    "metric": value,
                    "reference": ref,
                    "change": None if ref is None else value - ref,
                }
            )
        return pd.DataFrame.from_records(
            records, columns=["window", "labelled", "metric", "reference", "change"]
        )

    def reports(self) -> list[WindowReport]:
        """The window reports kept (the last ``max_reports``), oldest first."""
        with self._lock:
            return list(self._reports)

    def prometheus_text(self, *, prefix: str = "mlprod_drift") -> str:
        """The latest window's scores as Prometheus text exposition (format 0.0.4)."""
        with self._lock:
            latest = self._reports[-1] if self._reports else None
            rows, windows = self._rows_total, self._windows_total
        lines = [
            f"# HELP {prefix}_rows_total Rows given to the monitor.",
            f"# TYPE {prefix}_rows_total counter",
            f"{prefix}_rows_total {rows}",
            f"# HELP {prefix}_windows_total Windows reported.",
            f"# TYPE {prefix}_windows_total counter",
            f"{prefix}_windows_total {windows}",
        ]
        if latest is not None:
            rep = latest.drift
            lines += [
                f"# HELP {prefix}_share Share of judged columns that drifted in the latest window.",
                f"# TYPE {prefix}_share gauge",
                f"{prefix}_share {rep.share:g}",
                f"# HELP {prefix}_detected 1 when the latest window drifted as a dataset.",
                f"# TYPE {prefix}_detected gauge",
                f"{prefix}_detected {int(rep.drifted)}",
                f"# HELP {prefix}_column_effect Effect size per column in the latest window.",
                f"# TYPE {prefix}_column_effect gauge",
            ]
            for c in rep.columns:
                if c.effect_value is not None and np.isfinite(c.effect_value):
                    name = c.column.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                    lines.append(
                        f'{prefix}_column_effect{{column="{name}",effect="{c.effect}"}} '
                        f"{c.effect_value:g}"
                    )
            lines += [
                f"# HELP {prefix}_column_drifted 1 when the column drifted in the latest window.",
                f"# TYPE {prefix}_column_drifted gauge",
            ]
            for c in rep.columns:
                if c.drifted is not None:
                    name = c.column.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                    lines.append(f'{prefix}_column_drifted{{column="{name}"}} {int(c.drifted)}')
            if latest.failure_rate is not None:
                lines += [
                    f"# HELP {prefix}_validation_failure_rate Share of rows failing validation.",
                    f"# TYPE {prefix}_validation_failure_rate gauge",
                    f"{prefix}_validation_failure_rate {latest.failure_rate:g}",
                ]
        return "\n".join(lines) + "\n"
