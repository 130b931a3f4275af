"""Several processes registering into one registry at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

_WORKER = textwrap.dedent(
    """
    import sys
    import mlprod as mp

    location, artifacts, worker = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
    reg = mp.ModelRegistry(location, artifacts=artifacts)
    for i in range(25):
        mv = reg.register("churn", {"worker": worker, "i": i}, metrics={"i": i}, actor=f"w{worker}")
        print(mv.version, flush=True)
    reg.close()
    """
)


@pytest.mark.slow
def test_four_processes_register_one_hundred_versions_without_gaps(
    make_registry: Any, backend: dict[str, Any]
) -> None:
    make_registry()  # create the schema first, as a deployment would
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                backend["location"],
                backend["artifacts"] or "",
                str(w),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    seen: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert "locked" not in err
        seen += [int(line) for line in out.split()]
    assert sorted(seen) == list(range(1, 101))
    reg = make_registry()
    versions = reg.versions("churn")
    assert [v.version for v in versions] == list(range(1, 101))
    assert sorted((v.registered_by, v.metrics["i"]) for v in versions) == sorted(
        (f"w{w}", float(i)) for w in range(4) for i in range(25)
    )
    result = reg.verify()
    assert result.ok, result.problems
    assert result.events == 100
    assert result.orphans == ()


def test_concurrent_first_open_creates_the_schema_once(backend: dict[str, Any]) -> None:
    script = textwrap.dedent(
        """
        import sys
        import mlprod as mp
        reg = mp.ModelRegistry(sys.argv[1], artifacts=sys.argv[2] or None)
        reg.register("m", {"x": 1})
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, backend["location"], backend["artifacts"] or ""],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    import mlprod as mp

    reg = mp.ModelRegistry(backend["location"], artifacts=backend["artifacts"])
    assert [v.version for v in reg.versions("m")] == [1, 2, 3]
    assert reg.verify().ok
    reg.close()


def test_verify_reads_one_snapshot_while_others_write(
    make_registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL each statement of a READ COMMITTED transaction sees new
    # commits: the log read first and the tables read after would disagree.
    reg, other = make_registry(), make_registry()
    reg.register("churn", {"w": 0})
    from mlprod.models import _queries

    original = _queries.replay

    def register_meanwhile(lines: Any) -> Any:
        other.register("churn", {"w": "meanwhile"})
        other.set_alias("churn", "production", 2)
        return original(lines)

    monkeypatch.setattr(_queries, "replay", register_meanwhile)
    result = reg.verify(artifacts=False)
    assert result.ok, result.problems
    assert (result.events, result.versions) == (1, 1)
