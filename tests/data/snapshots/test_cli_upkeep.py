"""``mlprod data verify`` and ``mlprod data gc [--apply]``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import mlprod as mp
from mlprod.cli import main


def test_verify_and_gc_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = mp.DatasetStore(tmp_path)
    store.commit(pd.DataFrame({"x": [1, 2]}), name="t")
    assert main(["data", "verify", "--store", str(tmp_path)]) == 0
    assert "passed" in capsys.readouterr().out
    orphan = tmp_path / "objects" / "ee" / ("e" * 64 + ".parquet")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"old")
    os.utime(orphan, (0, 0))
    assert main(["data", "gc", "--store", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True
    assert report["objects"] == [str(orphan)]
    assert orphan.exists()
    assert main(["data", "gc", "--store", str(tmp_path), "--apply", "--grace", "60"]) == 0
    assert "Removed" in capsys.readouterr().out
    assert not orphan.exists()
    v = store.get("t")
    (tmp_path / "objects" / v.sha256[:2] / f"{v.sha256}.parquet").unlink()
    assert main(["data", "verify", "--store", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"][0]["kind"] == "data_missing"
