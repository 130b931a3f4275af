"""DriftMonitor windows, schema failure rate, late labels, Prometheus text; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlprod as mp
from mlprod.cli import main


class _Schema:
    """Fails rows with negative x (any object with validate -> .ok/.failures will do)."""

    def validate(self, df):
        bad = df.index[df["x"] < -1]

        class R:
            ok = len(bad) == 0
            failures = pd.DataFrame({"column": "x", "check": "ge", "index": list(bad), "value": 0})

        return R()


def test_monitor_sliding_windows_schema_labels_and_prometheus():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "score": rng.random(4000)})
    seen = []
    mon = mp.DriftMonitor(
        ref,
        window=1000,
        every=500,
        schema=_Schema(),
        on_report=seen.append,
        id_column="id",
        prediction_column="score",
        metric=lambda y, p: float(np.mean((p > 0.5) == y)),
        reference_metric=0.5,
    )
    for i, shift in enumerate([0.0, 0.0, 2.0, 2.0]):
        batch = pd.DataFrame({"x": rng.normal(shift, 1, 500), "score": rng.random(500)})
        batch["id"] = np.arange(i * 500, (i + 1) * 500)
        mon.update(batch.iloc[:200])
        mon.update(batch.iloc[200:])
    reports = mon.reports()
    assert [r.window for r in reports] == [0, 1, 2]
    assert reports == seen
    assert [r.drift["x"].verdict for r in reports] == ["no drift", "drift", "drift"]
    assert all(r.rows == 1000 for r in reports)
    assert reports[0].failure_rate == pytest.approx(0.16, abs=0.05)
    assert reports[2].failure_rate < 0.01
    assert mon.add_labels([0, 1, 2, 10**9], [1, 0, 1, 1]) == 3
    m = mon.metrics()
    assert list(m["window"]) == [0]
    assert m.loc[0, "labelled"] == 3
    assert m.loc[0, "reference"] == 0.5
    text = mon.prometheus_text()
    assert "mlprod_drift_rows_total 2000" in text
    assert 'mlprod_drift_column_drifted{column="x"} 1' in text
    assert "mlprod_drift_validation_failure_rate" in text
    assert len(mon._slices) == 2  # memory: two profiles, no rows


def test_monitor_rejects_bad_options():
    ref = mp.profile(pd.DataFrame({"x": np.arange(10.0)}))
    with pytest.raises(mp.ConfigurationError):
        mp.DriftMonitor(ref, window=1000, every=300)
    with pytest.raises(mp.ConfigurationError, match="add_labels needs"):
        mp.DriftMonitor(ref).add_labels([1], [1])


def test_cli_profile_and_drift(tmp_path, capsys):
    rng = np.random.default_rng(1)
    pd.DataFrame({"x": rng.normal(size=3000)}).to_parquet(tmp_path / "ref.parquet")
    pd.DataFrame({"x": rng.normal(size=3000)}).to_csv(tmp_path / "same.csv", index=False)
    pd.DataFrame({"x": rng.normal(1, 1, size=3000)}).to_csv(tmp_path / "moved.csv", index=False)
    assert main(["profile", str(tmp_path / "ref.parquet")]) == 0
    (tmp_path / "ref.json").write_text(capsys.readouterr().out)
    assert main(["drift", str(tmp_path / "ref.json"), str(tmp_path / "same.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drifted"] is False
    out = tmp_path / "r.html"
    assert (
        main(["drift", str(tmp_path / "ref.json"), str(tmp_path / "moved.csv"), "--html", str(out)])
        == 1
    )
    assert "Drift report" in capsys.readouterr().out
    assert out.read_text().count("<svg") == 1
    assert main(["drift", str(tmp_path / "nope.json"), str(tmp_path / "same.csv")]) == 2
