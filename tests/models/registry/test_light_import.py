"""The registry loads its heavy dependencies only when a registry is opened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
import mlprod as mp
before = mp.ModelRegistry, mp.ModelVersion, mp.gates, mp.LineageGraph
heavy = ("sqlalchemy", "sklearn", "joblib", "fsspec", "skops", "mlflow")
loaded_on_access = [m for m in heavy if m in sys.modules]
reg = mp.ModelRegistry(sys.argv[1])
loaded_on_open = [m for m in heavy if m in sys.modules]
print(json.dumps([loaded_on_access, loaded_on_open]))
"""


def test_names_load_without_heavy_modules_and_opening_loads_sqlalchemy(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "reg")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    on_access, on_open = json.loads(out)
    assert on_access == []
    assert "sqlalchemy" in on_open
    assert "sklearn" not in on_open
    assert "mlflow" not in on_open
