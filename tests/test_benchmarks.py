"""Every benchmark script runs end to end in its --quick mode.

Timings are not asserted here (performance targets live in the benchmarks
themselves); this only keeps the scripts working as the code changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCH.glob("bench_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_quick_mode_runs(script, tmp_path):
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    res = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, f"{script.name} --quick failed:\n{res.stdout}\n{res.stderr}"
    assert "ratio" in res.stdout.lower(), f"{script.name} printed no ratio:\n{res.stdout}"
