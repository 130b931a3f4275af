"""Archive, delete and garbage collection: events on the chain, and verify() still passes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mlprod as mp
from mlprod.cli import main

_DAY = 86_400.0


def _age(path: str | Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_archive_hides_a_version_but_keeps_it_loadable(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1}, metrics={"auc": 0.8})
    registry.register("churn", {"w": 2}, metrics={"auc": 0.9})
    registry.register("fraud", {"w": 3})
    mv = registry.archive("churn", 2, actor="ana", reason="miscalibrated")
    assert mv.ref == "churn:2"
    assert [v.version for v in registry.versions("churn")] == [1]
    assert [v.version for v in registry.versions("churn", archived=True)] == [1, 2]
    assert registry.get("churn").version == 1  # latest skips it
    assert [v.ref for v in registry.search(metrics={"auc": ">= 0.85"})] == []
    assert [v.ref for v in registry.search(metrics={"auc": ">= 0.85"}, archived=True)] == [
        "churn:2"
    ]
    assert registry.load("churn", 2) == {"w": 2}
    event = registry.events()[-1]["record"]
    assert (event["event"], event["version"], event["actor"], event["reason"]) == (
        "model.archived",
        2,
        "ana",
        "miscalibrated",
    )
    assert registry.verify().ok
    registry.archive("churn", 1)
    assert registry.names() == ["fraud"]
    assert registry.names(archived=True) == ["churn", "fraud"]
    assert registry.versions("churn") == []
    with pytest.raises(mp.ConfigurationError, match="already archived"):
        registry.archive("churn", 1)
    with pytest.raises(mp.ConfigurationError, match="archived"):
        registry.set_alias("churn", "production", 1)
    assert registry.register("churn", {"w": 4}).version == 3
    assert registry.verify().ok


def test_a_version_an_alias_points_at_cannot_be_retired(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1})
    registry.set_alias("churn", "production", 1)
    head = registry.head()
    for retire in (registry.archive, registry.delete_version):
        with pytest.raises(mp.ConfigurationError, match="production"):
            retire("churn", 1)
    assert registry.head() == head


def test_delete_removes_the_artifact_only_when_unreferenced(registry: mp.ModelRegistry) -> None:
    a = registry.register("churn", {"w": 1})
    b = registry.register("churn", {"w": 1})  # the same bytes: one artifact
    c = registry.register("churn", {"w": 3})
    shared = Path(registry.artifacts.where(a.artifacts["model.joblib"]["sha256"]))
    own = Path(registry.artifacts.where(c.artifacts["model.joblib"]["sha256"]))
    registry.delete_version("churn", 1, actor="ana", reason="leaked labels")
    assert shared.exists()  # churn:2 still names it
    assert registry.load("churn", 2) == {"w": 1}
    with pytest.raises(mp.NotFound, match="deleted"):
        registry.load("churn", 1)
    assert registry.get("churn", 1).digest == a.digest  # the sealed record stays
    registry.delete_version(c)
    assert not own.exists()
    registry.delete_version("churn", 2)
    assert not shared.exists()
    assert registry.versions("churn") == []
    assert registry.register("churn", {"w": 5}).version == 4  # numbers are never reused
    result = registry.verify()
    assert result.ok, result.problems
    assert result.orphans == ()
    kinds = [e["record"]["event"] for e in registry.events()]
    assert kinds.count("model.deleted") == 3
    assert b.version == 2


def test_a_lifecycle_table_edited_behind_the_log_fails_verify(registry: mp.ModelRegistry) -> None:
    import sqlalchemy as sa

    registry.register("churn", {"w": 1})
    registry.register("churn", {"w": 2})
    registry.archive("churn", 2)
    lc = registry._t.lifecycle
    engine = sa.create_engine(registry._sql.engine.url)
    with engine.begin() as conn:  # un-archive without an event
        conn.execute(lc.update().values(state="live"))
    engine.dispose()
    result = registry.verify()
    assert [p.kind for p in result.problems] == ["lifecycle_mismatch"]
    assert result.problems[0].subject == "churn:2"


def _orphan(reg: mp.ModelRegistry, data: bytes, age: float) -> str:
    digest = hashlib.sha256(data).hexdigest()
    reg.artifacts.put(digest, data)
    _age(reg.artifacts.where(digest), age)
    return reg.artifacts.where(digest)


_KILLED_WRITE = textwrap.dedent(
    """
    import os, sys, time
    from mlprod.models.storage.artifacts import LocalArtifactStore
    store = LocalArtifactStore(sys.argv[1])
    def stuck(fd):  # the write is on disk in its temporary file: stop here until killed
        print("writing", flush=True)
        time.sleep(600)
    os.fsync = stuck
    store.put("ab" * 32, b"partial model" * 1000)
    """
)


def _killed_write(artifacts: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITE, str(artifacts)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    temps = list(artifacts.rglob(".tmp-*"))
    assert len(temps) == 1
    return str(temps[0])


def test_gc_removes_only_old_unreferenced_files(tmp_path: Path) -> None:
    reg = mp.ModelRegistry(tmp_path / "reg")
    kept = reg.register("churn", {"w": 1})
    for info in kept.artifacts.values():
        _age(reg.artifacts.where(info["sha256"]), 10 * _DAY)  # old, but referenced
    old = _orphan(reg, b"old orphan", 2 * _DAY)
    young = _orphan(reg, b"young orphan", 60)
    temp = _killed_write(tmp_path / "reg" / "artifacts")
    _age(temp, 2 * _DAY)
    dry = reg.gc()
    assert dry.dry_run
    assert dry.artifacts == (old,)
    assert dry.temporaries == (temp,)
    assert dry.kept_young == 1
    assert dry.freed_bytes == len(b"old orphan")
    assert Path(old).exists()
    assert Path(temp).exists()
    assert "reg.gc(dry_run=False)" in dry.summary()
    done = reg.gc(dry_run=False)
    assert (done.artifacts, done.temporaries) == (dry.artifacts, dry.temporaries)
    assert not Path(old).exists()
    assert not Path(temp).exists()
    assert Path(young).exists()
    assert reg.load("churn", 1) == {"w": 1}
    check = reg.verify()
    assert check.ok
    assert check.orphans == (young,)
    assert reg.gc(grace=0, dry_run=False).artifacts == (young,)
    assert reg.verify().orphans == ()
    assert "<h3>" in done.to_html()
    assert done.to_dict()["artifacts"] == [old]


def test_a_registration_reusing_an_old_orphan_refreshes_it(tmp_path: Path) -> None:
    # An orphan with the bytes a registration writes must not be collected under it.
    reg = mp.ModelRegistry(tmp_path / "reg")
    from mlprod.models.serializers import JoblibSerializer

    data = JoblibSerializer().dumps({"w": 1})
    path = _orphan(reg, data, 3 * _DAY)
    reg.register("churn", {"w": 1})
    assert time.time() - os.stat(path).st_mtime < 60
    assert reg.gc(dry_run=False).artifacts == ()
    assert reg.load("churn", 1) == {"w": 1}


def test_cli_gc_and_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    location = str(tmp_path / "reg")
    reg = mp.ModelRegistry(location)
    reg.register("churn", {"w": 1})
    old = _orphan(reg, b"old orphan", 2 * _DAY)
    assert main(["registry", "gc", "--registry", location]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert Path(old).exists()
    assert main(["registry", "gc", "--apply", "--json", "--registry", location]) == 0
    assert json.loads(capsys.readouterr().out)["artifacts"] == [old]
    assert not Path(old).exists()
    assert main(["registry", "head", "--registry", location]) == 0
    pin = capsys.readouterr().out.strip()
    assert pin == reg.head()
    assert main(["registry", "verify", "--pinned-head", pin, "--registry", location]) == 0
    capsys.readouterr()
    wrong = "1:" + "f" * 64
    assert main(["registry", "verify", "--pinned-head", wrong, "--registry", location]) == 1
    assert "pinned_head" in capsys.readouterr().out
