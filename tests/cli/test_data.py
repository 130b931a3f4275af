"""``mlprod validate`` and ``mlprod schema infer``: output and exit codes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlprod as mp
from mlprod.cli import main


@pytest.fixture
def files(tmp_path):
    good = pd.DataFrame({"id": np.arange(20), "x": np.linspace(0, 1, 20), "c": ["a", "b"] * 10})
    good.to_parquet(tmp_path / "good.parquet")
    bad = good.assign(x=np.linspace(0, 2, 20))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    return tmp_path


def test_infer_then_validate(files, capsys):
    assert main(["schema", "infer", str(files / "good.parquet"), "--name", "demo"]) == 0
    text = capsys.readouterr().out
    schema = mp.Schema.from_yaml(text)
    assert schema.name == "demo"
    assert set(schema.columns) == {"id", "x", "c"}
    (files / "schema.yaml").write_text(text)

    code = main(["validate", str(files / "good.parquet"), "--schema", str(files / "schema.yaml")])
    assert code == 0
    assert "passed" in capsys.readouterr().out

    code = main(["validate", str(files / "bad.csv"), "--schema", str(files / "schema.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed" in out
    assert "in_range(0.0, 1.0)" in out
    assert "failures: 10" in out


def test_json_output_and_json_schema(files, capsys):
    main(["schema", "infer", str(files / "good.parquet"), "--output", "json", "--no-ranges"])
    (files / "schema.json").write_text(capsys.readouterr().out)
    code = main(
        [
            "validate",
            str(files / "bad.csv"),
            "--schema",
            str(files / "schema.json"),
            "--output",
            "json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_markdown_output_and_max_failures(files, capsys):
    main(["schema", "infer", str(files / "good.parquet")])
    (files / "s.yaml").write_text(capsys.readouterr().out)
    code = main(
        [
            "validate",
            str(files / "bad.csv"),
            "--schema",
            str(files / "s.yaml"),
            "--output",
            "markdown",
            "--max-failures",
            "3",
            "--show",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("## Validation report — failed")
    assert "showing 2 of 3 rows" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "{d}/good.parquet", "--schema", "{d}/nope.yaml"], "No schema file"),
        (["validate", "{d}/missing.csv", "--schema", "{d}/s.yaml"], "No such file"),
        (["validate", "{d}/good.parquet", "--schema", "{d}/broken.yaml"], "not valid YAML"),
        (["schema", "infer", "{d}/missing.csv"], "No such data file"),
    ],
)
def test_bad_input_exits_2_with_a_message(files, capsys, argv, message):
    (files / "s.yaml").write_text("columns: {}\n")
    (files / "broken.yaml").write_text("columns: [1\n")
    code = main([a.format(d=files) for a in argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_schema_without_subcommand_prints_help(capsys):
    assert main(["schema"]) == 2
    assert "infer" in capsys.readouterr().err
