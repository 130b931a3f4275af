"""The frozen :class:`ExplanationReport`: values, checks, reasons, file format."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mlprod._internal.canonical import to_jsonable
from mlprod._internal.plots import svg_figure
from mlprod._internal.render import Document, Figure, Rendered, Section, Table
from mlprod.errors import ConfigurationError, SerializationError
from mlprod.reports.explain_stats import Additivity

__all__ = ["FORMAT", "FORMAT_VERSION", "ExplanationReport", "format_value"]

FORMAT = "mlprod.explanation"
FORMAT_VERSION = 1


def format_value(value: Any) -> str:
    """A value as the data shows it: thousands separators, categories by label.

    Examples
    --------
    >>> format_value(54000.0), format_value(23), format_value("London"), format_value(0.125)
    ('54,000', '23', 'London', '0.125')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{v:,.0f}"
        return f"{v:,.4g}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(value)


def _readonly(a: Any) -> Any:
    arr = np.array(a, dtype=float)
    arr.flags.writeable = False
    return arr


class ExplanationReport(Rendered):
    """Per-row SHAP values of a model on data, with the checks and summaries around them.

    Returned by :func:`mlprod.explain`; load a saved one with
    :meth:`ExplanationReport.load`. Frozen: arrays are read-only, mappings
    are read-only views.

    Attributes
    ----------
    values:
        ``(n_rows, n_features)`` contributions, in the model's output space.
    base_values:
        ``(n_rows,)`` expected output the contributions start from.
    feature_names:
        The columns the contributions are for.
    method, reason:
        The explainer used and why it was chosen.
    output:
        What is explained ("probability of class 1", "prediction", ...).
    additivity:
        :class:`Additivity`: base + contributions against the model output.
    importance:
        Global importance per feature or group (mean |SHAP|, bootstrap
        interval, rank and rank interval), a read-only DataFrame.
    permutation:
        scikit-learn permutation importance (when ``y`` was given), or ``None``.
    sampled:
        What was explained when bounded (``"500 of 10,000 rows ..."``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> import mlprod as mp
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"income": rng.integers(20, 90, 60) * 1000.0,
    ...                   "age": rng.integers(18, 70, 60)})
    >>> y = X["income"] / 1000 - X["age"] / 10
    >>> model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> report = mp.explain(model, X)
    >>> report.method, report.values.shape, report.additivity.ok
    ('tree', (60, 2), True)
    >>> report.importance["feature"].iloc[0]
    'income'
    """

    __module__ = "mlprod"
    __slots__ = (
        "_additivity",
        "_base",
        "_data",
        "_disagreements",
        "_features",
        "_importance",
        "_meta",
        "_permutation",
        "_values",
    )
    _additivity: Additivity
    _base: Any
    _data: Any
    _disagreements: tuple[str, ...]
    _features: tuple[str, ...]
    _importance: Any
    _meta: Mapping[str, Any]
    _permutation: Any
    _values: Any

    def __init__(
        self,
        *,
        values: Any,
        base_values: Any,
        feature_names: Sequence[str],
        data: Any,
        additivity: Additivity,
        importance: Any,
        permutation: Any = None,
        disagreements: Sequence[str] = (),
        meta: Mapping[str, Any],
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_values", _readonly(values))
        set_(self, "_base", _readonly(base_values))
        set_(self, "_features", tuple(str(f) for f in feature_names))
        frame = data.copy()
        set_(self, "_data", frame)
        set_(self, "_additivity", additivity)
        set_(self, "_importance", importance)
        set_(self, "_permutation", permutation)
        set_(self, "_disagreements", tuple(disagreements))
        set_(self, "_meta", MappingProxyType(dict(meta)))

    def __getstate__(self) -> dict[str, Any]:
        return {
            k: dict(getattr(self, k)) if k == "_meta" else getattr(self, k) for k in self.__slots__
        }

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for key, value in state.items():
            if key == "_meta":
                value = MappingProxyType(dict(value))
            elif key in ("_values", "_base"):
                value = _readonly(value)
            object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ExplanationReport is frozen; cannot set {name!r}")

    # -- the data -----------------------------------------------------------------
    @property
    def values(self) -> Any:
        """``(n_rows, n_features)`` contributions (read-only array)."""
        return self._values

    @property
    def base_values(self) -> Any:
        """``(n_rows,)`` base values (read-only array)."""
        return self._base

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features the columns of :attr:`values` stand for."""
        return self._features

    @property
    def data(self) -> Any:
        """The explained rows as given (a copy, so the report stays frozen)."""
        return self._data.copy()

    @property
    def additivity(self) -> Additivity:
        """The additivity check on every row."""
        return self._additivity

    @property
    def importance(self) -> Any:
        """Global importance per feature or group, most important first (a copy)."""
        return self._importance.copy()

    @property
    def permutation(self) -> Any:
        """Permutation importance on the given ``y``, or ``None`` (a copy)."""
        return None if self._permutation is None else self._permutation.copy()

    @property
    def disagreements(self) -> tuple[str, ...]:
        """Where the SHAP and permutation rankings part ways."""
        return self._disagreements

    @property
    def meta(self) -> Mapping[str, Any]:
        """Method, reason, output, sampling, model digest, data fingerprint, versions."""
        return self._meta

    @property
    def method(self) -> str:
        """The explainer used: ``"tree"``, ``"linear"`` or ``"permutation"``."""
        return str(self._meta["method"])

    @property
    def reason(self) -> str:
        """Why that explainer was chosen."""
        return str(self._meta["reason"])

    @property
    def output(self) -> str:
        """What the contributions add up to."""
        return str(self._meta["output"])

    @property
    def sampled(self) -> str:
        """What was explained (all rows, or the sample taken to bound the cost)."""
        return str(self._meta["sampled"])

    # -- reasons ------------------------------------------------------------------
    def _row_position(self, row: Any) -> int:
        index = self._data.index
        if row in index:
            return int(index.get_loc(row))
        if isinstance(row, int | np.integer) and 0 <= row < len(index):
            return int(row)
        raise ConfigurationError(
            f"row {row!r} is not among the explained rows ({len(index)} rows, labels "
            f"{list(index[:5])}...)",
            parameter="row",
            value=row,
        )

    def contributions(self, row: Any) -> list[tuple[str, Any, float]]:
        """``(feature, value, contribution)`` for one row, largest |contribution| first."""
        i = self._row_position(row)
        v = self._values[i]
        order = np.argsort(-np.abs(v), kind="stable")
        raw = self._data.iloc[i]
        return [(self._features[j], _cell(raw, j), float(v[j])) for j in order]

    def reasons(self, row: Any, top: int = 3) -> list[str]:
        """The ``top`` contributions of one row in plain words.

        ``row`` is a label of ``X``'s index (or a position when it is not
        one). Values read as the data shows them; categories by label.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> import mlprod as mp
        >>> X = pd.DataFrame({"income": [30000.0, 54000.0, 80000.0], "age": [40, 23, 60]})
        >>> y = X["income"] / 1e5 + X["age"] / 100
        >>> report = mp.explain(LinearRegression().fit(X, y), X, background=X)
        >>> for line in report.reasons(1, top=2):
        ...     print(line)
        age = 23 lowered the prediction by 0.18
        income = 54,000 lowered the prediction by 0.00667
        """
        noun = "score" if "class" in self.output else "prediction"
        out = []
        for name, value, c in self.contributions(row)[:top]:
            verb = "raised" if c >= 0 else "lowered"
            out.append(f"{name} = {format_value(value)} {verb} the {noun} by {abs(c):.3g}")
        return out

    # -- plots --------------------------------------------------------------------
    def plot_importance(self, *, top: int = 15, ax: Any = None) -> Any:
        """Bar chart of global importance with bootstrap intervals; returns the Figure."""
        from mlprod.reports.explain_plots import importance_bars

        return importance_bars(self._importance, top=top, ax=ax)

    def plot_beeswarm(self, *, top: int = 10, max_points: int = 200, ax: Any = None) -> Any:
        """Beeswarm-style summary: each row's contribution per feature; returns the Figure."""
        from mlprod.reports.explain_plots import beeswarm

        mean = np.abs(self._values).mean(axis=0)
        order = list(np.argsort(-mean, kind="stable")[:top])
        return beeswarm(
            self._values, self._data, self._features, order, max_points=max_points, ax=ax
        )

    def plot_waterfall(self, row: Any, *, top: int = 8, ax: Any = None) -> Any:
        """How one row's output builds up from the base value; returns the Figure."""
        from mlprod.reports.explain_plots import waterfall

        i = self._row_position(row)
        raw = self._data.iloc[i]
        labels = [f"{f} = {format_value(_cell(raw, j))}" for j, f in enumerate(self._features)]
        return waterfall(
            self._values[i],
            labels,
            float(self._base[i]),
            title=f"Row {self._data.index[i]!r}: {self.output}",
            top=top,
            ax=ax,
        )

    def default_rows(self) -> list[Any]:
        """Rows the HTML report shows as waterfalls: lowest, median and highest output."""
        total = self._base + self._values.sum(axis=1)
        order = np.argsort(total, kind="stable")
        picks = dict.fromkeys([order[-1], order[len(order) // 2], order[0]])
        return [self._data.index[i] for i in picks]

    # -- serialisation ------------------------------------------------------------
    def to_dict(self, *, rows: bool = False) -> dict[str, Any]:
        """Aggregates as JSON-ready data; per-row values too with ``rows=True``."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            **{k: to_jsonable(v, strict=False) for k, v in self._meta.items()},
            "feature_names": list(self._features),
            "n_rows": int(self._values.shape[0]),
            "additivity": self._additivity.to_dict(),
            "importance": to_jsonable(self._importance.to_dict(orient="list")),
            "permutation": None
            if self._permutation is None
            else to_jsonable(self._permutation.to_dict(orient="list")),
            "disagreements": list(self._disagreements),
        }
        if rows:
            out["values"] = self._values.tolist()
            out["base_values"] = self._base.tolist()
            out["index"] = to_jsonable(list(self._data.index), strict=False)
            out["data"] = {
                "columns": [str(c) for c in self._data.columns],
                "dtypes": [str(d) for d in self._data.dtypes],
                "values": [
                    to_jsonable(
                        self._data[c].astype(object).where(self._data[c].notna(), None).tolist(),
                        strict=False,
                    )
                    for c in self._data.columns
                ],
            }
        return out

    def to_json(self, *, rows: bool = False, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(rows=rows), indent=indent, ensure_ascii=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole report (per-row values included) to ``path`` as versioned JSON."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_text(self.to_json(rows=True), encoding="utf-8")
        os.replace(tmp, target)  # a reader never sees half a file
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExplanationReport:
        """Read a report written by :meth:`save`."""
        import pandas as pd

        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SerializationError(
                f"cannot read an explanation from {path}: {exc}", obj_type="ExplanationReport"
            ) from exc
        if doc.get("format") != FORMAT or "values" not in doc:
            raise SerializationError(
                f"{path} is not a saved mlprod explanation (format {doc.get('format')!r})",
                obj_type="ExplanationReport",
            )
        if int(doc.get("format_version", 0)) > FORMAT_VERSION:
            raise SerializationError(
                f"{path} was written in explanation format {doc['format_version']}, newer than "
                f"this mlprod reads ({FORMAT_VERSION}); upgrade mlprod",
                obj_type="ExplanationReport",
            )
        d = doc["data"]
        frame = pd.DataFrame(dict(zip(d["columns"], d["values"])), index=doc["index"])
        for col, dtype in zip(d["columns"], d["dtypes"]):
            with contextlib.suppress(TypeError, ValueError):
                frame[col] = frame[col].astype(dtype)
        perm = doc.get("permutation")
        meta_keys = (
            "method",
            "reason",
            "output",
            "sampled",
            "model",
            "model_digest",
            "data_fingerprint",
            "versions",
            "groups",
            "elapsed_s",
            "estimated_s",
            "background",
        )
        return cls(
            values=doc["values"],
            base_values=doc["base_values"],
            feature_names=doc["feature_names"],
            data=frame,
            additivity=Additivity(
                tolerance=doc["additivity"]["tolerance"],
                max_error=doc["additivity"]["max_error"],
                mean_error=doc["additivity"]["mean_error"],
                failing_rows=tuple(doc["additivity"]["failing_rows"]),
                n_rows=doc["additivity"]["n_rows"],
            ),
            importance=pd.DataFrame(doc["importance"]),
            permutation=None if perm is None else pd.DataFrame(perm),
            disagreements=doc.get("disagreements", ()),
            meta={k: doc.get(k) for k in meta_keys},
        )

    # -- rendering ----------------------------------------------------------------
    def _document(self, **options: Any) -> Document:
        rows = options.get("rows")
        plots = options.get("plots", True)
        a = self._additivity
        facts = {
            "method": self.method,
            "why": self.reason,
            "explains": self.output,
            "rows explained": self.sampled,
            "model digest": str(self._meta.get("model_digest") or "n/a")[:16],
            "data fingerprint": str(self._meta.get("data_fingerprint") or "n/a")[:16],
        }
        imp = self._importance
        cols = ["feature", "mean |SHAP|", "95% interval", "rank", "rank interval"]
        table_rows = [
            [
                f"{f} [group]" if g else f,
                m,
                f"{lo:.4g} – {hi:.4g}",
                r,
                f"{rl} – {rh}",
            ]
            for f, m, lo, hi, r, rl, rh, g in zip(
                imp["feature"],
                imp["mean_abs"],
                imp["lower"],
                imp["upper"],
                imp["rank"],
                imp["rank_lower"],
                imp["rank_upper"],
                imp["group"],
            )
        ]
        figs: list[Figure] = []
        if plots:
            figs = [
                svg_figure(self.plot_importance(), "mean |SHAP value| per feature"),
                svg_figure(self.plot_beeswarm(), "each dot is a row; colour is its value"),
            ]
        sections = [
            Section(
                "Global importance",
                "Mean absolute contribution over the explained rows, with a 95% bootstrap "
                "interval over rows; the rank interval shows how stable each rank is.",
                Table(cols, table_rows[:25], total=len(table_rows)),
                figs,
            )
        ]
        if self._permutation is not None:
            p = self._permutation
            if self._disagreements:
                text = "Where the two rankings disagree:\n" + "\n".join(self._disagreements)
            elif self._meta.get("groups"):
                text = (
                    "Rankings not compared: groups are one line in the SHAP ranking but "
                    "permuted column by column here."
                )
            else:
                text = "The permutation ranking agrees with the SHAP ranking on the top features."
            sections.append(
                Section(
                    "Permutation importance (held-out data)",
                    text,
                    Table.from_frame(p, max_rows=25),
                    level="warn" if self._disagreements else "ok",
                )
            )
        add_text = (
            f"base value + contributions = model output on all {a.n_rows:,} rows within "
            f"{a.tolerance:g} (max error {a.max_error:.3g}, mean {a.mean_error:.3g})."
            if a.ok
            else f"{len(a.failing_rows):,} of {a.n_rows:,} rows miss the model output by more "
            f"than {a.tolerance:g} (max error {a.max_error:.3g}, mean {a.mean_error:.3g}); "
            f"rows {list(a.failing_rows)[:10]}"
        )
        sections.append(Section("Additivity check", add_text, level="ok" if a.ok else "bad"))
        chosen = self.default_rows() if rows is None else list(rows)
        for row in chosen:
            sections.append(
                Section(
                    f"Row {row!r}",
                    "\n".join(self.reasons(row, top=3)),
                    figures=[svg_figure(self.plot_waterfall(row))] if plots else (),
                )
            )
        return Document("Explanation", ok=a.ok, facts=facts, sections=sections)

    def __repr__(self) -> str:
        top = ", ".join(self._importance["feature"].head(3))
        return (
            f"ExplanationReport(method={self.method!r}, rows={self._values.shape[0]}, "
            f"features={len(self._features)}, additivity={'ok' if self._additivity.ok else 'FAIL'}"
            f", top=[{top}])"
        )


def _cell(row: Any, j: int) -> Any:
    value = row.iloc[j]
    return value.item() if hasattr(value, "item") else value
