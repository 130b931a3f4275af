"""``mlprod hash`` and ``mlprod data commit|log|diff|show``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import mlprod as mp
from mlprod.cli import main


@pytest.fixture
def files(tmp_path):
    a = pd.DataFrame({"id": [1, 2, 3], "x": [0.5, 1.5, None]})
    b = pd.DataFrame({"id": [1, 2, 4], "x": [0.5, 2.5, None]})
    a.to_parquet(tmp_path / "a.parquet")
    b.to_csv(tmp_path / "b.csv", index=False)
    return a, b, tmp_path


def test_hash_prints_the_fingerprint(files, capsys):
    a, _, root = files
    assert main(["hash", str(root / "a.parquet")]) == 0
    out = capsys.readouterr().out
    assert out.split()[0] == mp.fingerprint(a)
    assert main(["hash", str(root / "a.parquet"), "--json", "--unordered"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fingerprint"] == mp.fingerprint(a, ordered=False)
    assert data["rows"] == 3
    assert main(["hash", str(root / "a.parquet"), "--expect", str(mp.fingerprint(a))]) == 0
    assert main(["hash", str(root / "a.parquet"), "--expect", "0" * 32]) == 1
    assert main(["hash", str(root / "missing.parquet")]) == 2
    assert "No file" in capsys.readouterr().err


def test_data_commit_log_show_diff(files, capsys):
    a, _b, root = files
    store = str(root / "store")
    assert (
        main(
            [
                "data",
                "commit",
                str(root / "a.parquet"),
                "--name",
                "t",
                "--store",
                store,
                "-m",
                "first",
                "--alias",
                "g",
            ]
        )
        == 0
    )
    assert (
        main(
            ["data", "commit", str(root / "b.csv"), "--name", "t", "--store", store, "-m", "second"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"t:1  {mp.fingerprint(a)}")
    assert main(["data", "log", "t", "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("t:2")
    assert "[g]" in lines[1]
    assert lines[1].endswith("first")
    assert main(["data", "show", "t@g", "--store", store, "--head", "2"]) == 0
    out = capsys.readouterr().out
    assert "fingerprint: " + mp.fingerprint(a) in out
    assert "x: float64" in out
    assert main(["data", "diff", "t:1", "t:2", "--store", store, "--key", "id"]) == 0
    out = capsys.readouterr().out
    assert "rows added: 1" in out
    assert "rows changed: 1" in out
    assert main(["data", "diff", "t:1", "t:2", "--store", store, "--key", "id", "--exit-code"]) == 1
    assert main(["data", "diff", "t:1", "t:1", "--store", store, "--exit-code"]) == 0
    assert main(["data", "diff", "t:1", "t", "--store", store, "--exit-code"]) == 1
    capsys.readouterr()
    assert main(["data", "diff", str(root / "a.parquet"), str(root / "b.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_added"] == 2
    assert main(["data", "log", "t", "--store", store, "--json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)] == [2, 1]


def test_data_errors_exit_2(files, capsys, monkeypatch):
    _, _, root = files
    monkeypatch.delenv("MLPROD_DATA_STORE", raising=False)
    assert main(["data", "log", "t"]) == 2
    assert "--store" in capsys.readouterr().err
    assert main(["data", "show", "nope", "--store", str(root / "store")]) == 2
    assert (
        main(
            [
                "data",
                "commit",
                str(root / "a.parquet"),
                "--name",
                "bad/name",
                "--store",
                str(root / "s"),
            ]
        )
        == 2
    )
    assert main(["data"]) == 2
