"""The :class:`FairnessReport` value object: frames, plain words, rendering, JSON, a gate."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.canonical import canonical_json, sha256_hex
from mlprod._internal.render import Document, Rendered, Section, Table

__all__ = ["FairnessReport"]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value


def _num(x: Any) -> str:
    return "n/a" if x is None else f"{x:.2f}" if abs(x) < 100 else f"{x:,.0f}"


class FairnessReport(Rendered):
    """How a model's metrics differ across groups, with intervals and verdicts.

    Built by :func:`mlprod.fairness_report`. Immutable: every frame it hands
    out is a fresh copy. ``by_group`` has a row per group and a column per
    metric (the numbers of fairlearn's ``MetricFrame.by_group``);
    ``intervals`` a row per group and metric with bootstrap and Wilson
    intervals and why a value is undefined; ``disparities`` a row per metric
    and group against the reference group (difference, ratio, intervals,
    Holm-adjusted p-value, the four-fifths verdict); ``scores`` the
    between-group and to-overall differences and ratios, demographic parity,
    equalized odds (worst case and mean) and equal opportunity, each with an
    interval.

    Examples
    --------
    >>> import numpy as np, mlprod as mp
    >>> rng = np.random.default_rng(0)
    >>> g = rng.choice(["a", "b"], 400)
    >>> y = rng.integers(0, 2, 400)
    >>> fr = mp.fairness_report(y, y, sensitive_features=g, random_state=0, n_boot=50)
    >>> fr.by_group.loc["a", "accuracy"]
    np.float64(1.0)
    >>> mp.FairnessReport.from_json(fr.to_json()) == fr
    True
    """

    __module__ = "mlprod"
    __slots__ = ("_data",)
    _data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", _freeze(data))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FairnessReport is immutable")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # read-only views do not pickle; the plain data rebuilds the same report
        return (FairnessReport, (self.to_dict(),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FairnessReport) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        d = self._data
        return (
            f"FairnessReport({d['task']}, {d['rows']:,} rows, {len(d['groups'])} groups over "
            f"{list(d['features'])}, {len(d['metrics'])} metrics, verdicts {self.verdict_counts})"
        )

    # ---- plain data -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-ready data (NaN as ``None``)."""
        out: dict[str, Any] = _thaw(self._data)
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as JSON; :meth:`from_json` reads it back equal."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessReport:
        """Rebuild a report from :meth:`to_dict` output."""
        return cls(copy.deepcopy(dict(data)))

    @classmethod
    def from_json(cls, text: str) -> FairnessReport:
        """Rebuild a report from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    @property
    def digest(self) -> str:
        """SHA-256 of the report's canonical JSON: what a gate's evidence seals."""
        return sha256_hex(self.to_dict())

    # ---- frames -----------------------------------------------------------
    def _index(self) -> pd.Index:
        d = self._data
        feats = list(d["features"])
        labels = [tuple(g) for g in d["groups"]]
        if len(feats) == 1:
            one: pd.Index = pd.Index([lab[0] for lab in labels], name=feats[0], dtype=object)
            return one
        return pd.MultiIndex.from_tuples(labels, names=feats)

    def _label(self, i: int) -> str:
        d = self._data
        return ", ".join(f"{f}={v}" for f, v in zip(d["features"], d["groups"][i]))

    @property
    def groups(self) -> pd.DataFrame:
        """One row per group: size, the small flag and whether it is the reference."""
        d = self._data
        return pd.DataFrame(
            {
                "size": list(d["sizes"]),
                "small": list(d["small"]),
                "reference": [i == d["reference"] for i in range(len(d["groups"]))],
            },
            index=self._index(),
        )

    @property
    def by_group(self) -> pd.DataFrame:
        """A row per group, a column per metric (NaN where undefined)."""
        d = self._data
        cols = {m: np.array(d["by_group"][m], dtype=np.float64) for m in d["metrics"]}
        return pd.DataFrame(cols, index=self._index())

    @property
    def overall(self) -> pd.Series:
        """Each metric on all rows."""
        d = self._data
        return pd.Series(
            {m: d["overall"][m]["value"] for m in d["metrics"]}, dtype=np.float64, name="overall"
        )

    def _records(self, key: str) -> pd.DataFrame:
        frame = pd.DataFrame([dict(r) for r in self._data[key]])
        if "group" in frame:
            frame.insert(0, "group_label", [self._label(i) for i in frame["group"]])
        return frame

    @property
    def intervals(self) -> pd.DataFrame:
        """A row per group and metric: value, bootstrap and Wilson intervals, why undefined."""
        return self._records("intervals")

    @property
    def disparities(self) -> pd.DataFrame:
        """A row per metric and group against the reference group."""
        frame = self._records("disparities")
        if len(frame):
            frame.insert(2, "reference", self._label(self._data["reference"]))
        return frame

    @property
    def scores(self) -> pd.DataFrame:
        """Between-group / to-overall differences and ratios and named fairness scores."""
        return pd.DataFrame([dict(r) for r in self._data["scores"]]).set_index("score")

    def score(self, name: str) -> float:
        """One named score, e.g. ``"demographic_parity_difference"`` (NaN if undefined)."""
        v: Any = self.scores.loc[name, "value"]
        return float("nan") if v is None or pd.isna(v) else float(v)

    @property
    def verdict_counts(self) -> dict[str, int]:
        """How many group-vs-reference disparities pass, fail, are inconclusive or undefined."""
        out = {"pass": 0, "fail": 0, "inconclusive": 0, "undefined": 0, "n/a": 0}
        for r in self._data["disparities"]:
            out[r["verdict"]] += 1
        return out

    # ---- MetricFrame's view ----------------------------------------------
    def difference(self, method: str = "between_groups") -> pd.Series:
        """MetricFrame's ``difference(method=...)`` for every metric."""
        return self._pick("difference", method)

    def ratio(self, method: str = "between_groups") -> pd.Series:
        """MetricFrame's ``ratio(method=...)`` for every metric."""
        return self._pick("ratio", method)

    def _pick(self, kind: str, method: str) -> pd.Series:
        where = {"between_groups": "between groups", "to_overall": "to overall"}[method]
        s = self.scores["value"]
        return pd.Series(
            {m: s[f"{m} {kind} {where}"] for m in self._data["metrics"]}, dtype=np.float64
        )

    def group_min(self) -> pd.Series:
        """Each metric's smallest group value (NaN skipped)."""
        return self.by_group.min()

    def group_max(self) -> pd.Series:
        """Each metric's largest group value (NaN skipped)."""
        return self.by_group.max()

    # ---- words and rendering ---------------------------------------------
    def findings(self, *, limit: int = 10) -> list[str]:
        """Plain sentences for the worst disparities, failures first."""
        d = self._data
        rank = {"fail": 0, "inconclusive": 1, "undefined": 2, "pass": 3}
        rows = sorted(
            (r for r in d["disparities"] if r["verdict"] != "n/a"),
            key=lambda r: (rank[r["verdict"]], -abs(np.log(abs(r["ratio"]))) if r["ratio"] else 0),
        )
        out = []
        ref = self._label(d["reference"])
        for r in rows[:limit]:
            name = r["metric"]
            from mlprod.reports.fairness._build import SHORT

            what = SHORT.get(name, name.replace("_", " "))
            i = r["group"]
            head = f"{what} for {self._label(i)} is {_num(r['value'])} " + (
                f"[{_num(_iv(d, i, name, 'low'))}, {_num(_iv(d, i, name, 'high'))}]"
            )
            if r["ratio"] is None:
                out.append(f"{head}: its ratio to {ref} is undefined")
                continue
            ratio = (
                f"{r['ratio']:.2f}× that of {ref} "
                f"[{_num(r['ratio_low'])}×, {_num(r['ratio_high'])}×]"
            )
            tail = {
                "fail": "fails the 0.8–1.25 ratio rule",
                "pass": "within the 0.8–1.25 ratio rule",
                "inconclusive": "inconclusive under the 0.8–1.25 ratio rule "
                "(the interval straddles a bound)",
                "undefined": "undefined",
            }[r["verdict"]]
            sig = " (significant after Holm)" if r["significant"] else ""
            out.append(f"{head}, {ratio}: {tail}{sig}")
        return out

    def _document(self, **options: Any) -> Document:
        d = self._data
        counts = self.verdict_counts
        ok = False if counts["fail"] else (True if not counts["inconclusive"] else None)
        small = [self._label(i) for i, s in enumerate(d["small"]) if s]
        facts = {
            "task": d["note"],
            "rows": f"{d['rows']:,}",
            "groups": f"{len(d['groups'])} over {', '.join(d['features'])}",
            "reference": self._label(d["reference"]) + " (largest group)",
            "intervals": f"{d['ci']:.0%}, {d['n_boot']} resamples within groups, seed {d['seed']}",
            "ratio rule": "0.8–1.25 (four-fifths); verdicts "
            + ", ".join(f"{k} {v}" for k, v in counts.items()),
        }
        level = "bad" if counts["fail"] else "warn" if counts["inconclusive"] else "ok"
        sections = [
            Section("Findings", "\n".join(self.findings()) or "no disparities", level=level)
        ]
        from mlprod._internal.lazy import optional_import

        mpl = optional_import("matplotlib", feature="FairnessReport plots")
        with mpl.rc_context({"svg.fonttype": "none"}):  # text as text: a fraction of the bytes
            sections.append(self._group_section(options.get("max_rows", 60)))
            sections.append(self._disparity_section(options.get("max_rows", 60)))
        sc = self.scores
        named = sc[~sc.index.str.contains(" ")]
        sections.append(Section("Fairness scores", table=Table.from_frame(named.reset_index())))
        notes = [d["policy"]]
        if small:
            notes.append(f"Groups below min_group_size={d['min_group_size']}: {', '.join(small)}.")
        if d["pruned_count"]:
            shown = "; ".join(
                ", ".join(f"{f}={v}" for f, v in zip(d["features"], p)) for p in d["pruned"][:20]
            )
            notes.append(f"{d['pruned_count']} empty intersection(s) pruned: {shown}.")
        fp = d.get("fingerprints", {})
        if fp:
            notes.append("Fingerprints: " + ", ".join(f"{k} {v}" for k, v in fp.items()) + ".")
        sections.append(Section("Policy and provenance", "\n".join(notes)))
        return Document("Fairness report", ok, facts, sections)

    def _group_section(self, max_rows: int) -> Section:
        from mlprod._internal import plots

        d = self._data
        labels = [self._label(i) for i in range(len(d["groups"]))]
        figs = []
        rows = []
        iv = {(r["group"], r["metric"]): r for r in d["intervals"]}
        for m in _plotted(d["metrics"]):
            recs = [iv[(i, m)] for i in range(len(labels))]
            fig = plots.interval_bars(
                labels,
                [r["value"] if r["value"] is not None else np.nan for r in recs],
                [r["low"] if r["low"] is not None else np.nan for r in recs],
                [r["high"] if r["high"] is not None else np.nan for r in recs],
                title=m.replace("_", " "),
                reference=d["overall"][m]["value"],
                flags=list(d["small"]),
            )
            figs.append(
                plots.svg_figure(
                    fig, f"{m} by group, {d['ci']:.0%} interval; dashed: overall; red: small group"
                )
            )
        shown = [m for m in d["metrics"] if m != "count"]
        for i, lab in enumerate(labels):
            row: list[Any] = [lab, d["sizes"][i], "yes" if d["small"][i] else ""]
            for m in shown:
                row.append(_cell(iv[(i, m)]))
            rows.append(row)
        return Section(
            "Metrics by group",
            table=Table(["group", "n", "small", *shown], rows[:max_rows], total=len(rows)),
            figures=figs,
        )

    def _disparity_section(self, max_rows: int) -> Section:
        from mlprod._internal import plots

        d = self._data
        dis = list(d["disparities"])
        figs = []
        for m in _plotted(d["metrics"]):
            rs = [r for r in dis if r["metric"] == m]
            if not rs:
                continue
            fig = plots.interval_bars(
                [self._label(r["group"]) for r in rs],
                [r["ratio"] if r["ratio"] is not None else np.nan for r in rs],
                [r["ratio_low"] if r["ratio_low"] is not None else np.nan for r in rs],
                [r["ratio_high"] if r["ratio_high"] is not None else np.nan for r in rs],
                title=f"{m.replace('_', ' ')}: ratio to {self._label(d['reference'])}",
                reference=1.0,
                band=(0.8, 1.25),
                flags=[r["verdict"] == "fail" for r in rs],
            )
            figs.append(plots.svg_figure(fig, f"{m} ratio to the reference; shaded: 0.8–1.25"))
        rows = [
            [
                r["metric"],
                self._label(r["group"]),
                _pair(r["difference"], r["difference_low"], r["difference_high"]),
                _pair(r["ratio"], r["ratio_low"], r["ratio_high"]),
                r["p_holm"],
                r["verdict"],
            ]
            for r in dis
        ]
        return Section(
            f"Disparities to {self._label(d['reference'])}",
            table=Table(
                ["metric", "group", "difference", "ratio", "p (Holm)", "verdict"],
                rows[:max_rows],
                total=len(rows),
            ),
            figures=figs,
        )

    def gate(
        self,
        *,
        max_difference: float | None = None,
        min_ratio: float | None = None,
        metrics: Sequence[str] | None = None,
        inconclusive: str = "fail",
        undefined: str = "fail",
        name: str = "fairness",
    ) -> Any:
        """A promotion gate for :meth:`mlprod.ModelRegistry.set_alias` built on this report.

        See :func:`mlprod.reports.fairness.gate` (the same options).
        """
        from mlprod.reports.fairness._gate import FairnessGate

        return FairnessGate(
            self,
            max_difference=max_difference,
            min_ratio=min_ratio,
            metrics=metrics,
            inconclusive=inconclusive,
            undefined=undefined,
            name=name,
        )

    def canonical(self) -> bytes:
        """The canonical JSON bytes the digest is taken over."""
        return canonical_json(self.to_dict())


_HEADLINE = ("selection_rate", "true_positive_rate", "false_positive_rate", "roc_auc")


def _plotted(metrics: Sequence[str]) -> list[str]:
    """The metrics drawn as charts (the rest are in the tables): parity and odds first."""
    head = [m for m in metrics if m in _HEADLINE]
    return head or [m for m in metrics if m != "count"][:4]


def _iv(d: Mapping[str, Any], group: int, metric: str, key: str) -> Any:
    for r in d["intervals"]:
        if r["group"] == group and r["metric"] == metric:
            return r[key]
    return None


def _pair(v: Any, lo: Any, hi: Any) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f} [{_num(lo)}, {_num(hi)}]" if lo is not None else f"{v:.3f}"


def _cell(r: Mapping[str, Any]) -> str:
    if r["value"] is None:
        return f"n/a ({r['reason']})"
    if r["metric"] == "count":
        return f"{r['value']:,.0f}"
    return _pair(r["value"], r["low"], r["high"])
