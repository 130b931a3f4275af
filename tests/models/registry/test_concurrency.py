"""Several processes registering into one registry at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest


def _env() -> dict[str, str]:
    """The environment of a worker: this checkout's mlprod first."""
    import os
    from pathlib import Path

    import mlprod as mp

    return {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}


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
            env=_env(),
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


_RACER = textwrap.dedent(
    """
    import hashlib, sys, time
    from mlprod.models.storage.artifacts import LocalArtifactStore

    root, go, rounds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    store = LocalArtifactStore(root)
    for r in range(rounds):
        data = b"model %d " % r * (1000 + r)
        start = go + r * 0.02  # every racer starts each round at the same moment
        while time.time() < start:
            pass
        store.put(hashlib.sha256(data).hexdigest(), data)
    print("done", flush=True)
    """
)


def test_racing_writers_of_one_digest_leave_one_intact_file(tmp_path: Any) -> None:
    # Atomic create: the file appears under its digest whole (a hard link of a
    # synced temporary file) or not at all; a writer that loses the race checks
    # the winner's bytes, and a damaged copy found in place is replaced.
    import hashlib
    import os
    import time
    from pathlib import Path

    import mlprod as mp
    from mlprod.models.storage.artifacts import LocalArtifactStore

    root = tmp_path / "artifacts"
    store = LocalArtifactStore(root)
    rounds = 30
    damaged = set(range(0, rounds, 5))
    for r in damaged:  # a damaged copy some writer must repair
        data = b"model %d " % r * (1000 + r)
        target = Path(store.where(hashlib.sha256(data).hexdigest()))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"damaged")
    env = {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}
    go = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(root), repr(go), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    for r in range(rounds):
        data = b"model %d " % r * (1000 + r)
        digest = hashlib.sha256(data).hexdigest()
        assert store.get(digest) == data
    assert len(list(store.digests())) == rounds
    assert list(root.rglob(".tmp-*")) == []
