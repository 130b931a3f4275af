"""The store under concurrent writers, kills, tampering, and collection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import mlprod as mp

_SRC = str(Path(mp.__file__).resolve().parents[1])

_WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import mlprod as mp

    root, kind, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = mp.DatasetStore(root)
    for i in range(rounds):
        values = [f"city-{i}-{j}" for j in range(2000)]
        column = pd.Series(values, dtype=object if kind == "object" else "str")
        store.commit(pd.DataFrame({"city": column, "n": range(2000)}), name="t", message=kind)
        print(i, flush=True)
    """
)


def _writer(root: Path, kind: str, rounds: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": _SRC}
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), kind, str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_equal_content_different_bytes_from_two_processes(tmp_path: Path) -> None:
    if int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("object and str storage of the same text differ only on pandas 3")
    # object vs str text columns: one fingerprint, different Parquet bytes, committed at once
    writers = [_writer(tmp_path, "object", 8), _writer(tmp_path, "str", 8)]
    for w in writers:
        assert w.wait(timeout=120) == 0
    store = mp.DatasetStore(tmp_path)
    versions = store.log("t")
    assert len(versions) == 16
    assert len({v.version for v in versions}) == 16
    for v in versions:
        loaded = store.load(v)
        assert loaded["city"].tolist()[0].startswith("city-")
        assert str(loaded["city"].dtype) == v.pandas_dtypes["city"]
    by_round: dict[str, set[str]] = {}
    for v in versions:
        by_round.setdefault(v.fingerprint.hex, set()).add(v.sha256)
    # the same logical content lives in two distinct objects, one per byte layout
    assert any(len(shas) == 2 for shas in by_round.values())
    result = store.verify()
    assert result.ok, result.summary()
    assert result.versions == 16


def test_kill_minus_nine_mid_commit_leaves_every_version_loadable(tmp_path: Path) -> None:
    for kind in ("object", "str"):
        w = _writer(tmp_path, kind, 1000)
        assert w.stdout is not None
        w.stdout.readline()  # one commit done; the next is under way
        os.kill(w.pid, signal.SIGKILL)
        w.wait(timeout=30)
    store = mp.DatasetStore(tmp_path)
    versions = store.log("t")
    assert len(versions) >= 2
    for v in versions:
        store.load(v)
    assert store.verify().ok
    # whatever the kill left behind is unreferenced and collectable, never a version's data
    report = store.gc(grace=0, dry_run=False)
    assert store.verify().ok
    kept = tuple(v.sha256 + ".parquet" for v in versions)
    assert not [p for p in report.objects if p.endswith(kept)]


def test_manifest_pointing_at_another_object_is_refused(tmp_path: Path) -> None:
    store = mp.DatasetStore(tmp_path)
    a = store.commit(pd.DataFrame({"x": [1, 2, 3]}), name="t")
    b = store.commit(pd.DataFrame({"x": [7, 8]}), name="u")
    manifest = tmp_path / "datasets" / "t" / "versions" / "00000001.json"
    record = json.loads(manifest.read_text())
    record["sha256"], record["object_key"] = b.sha256, b.object_key
    manifest.write_text(json.dumps(record))
    with pytest.raises(mp.IntegrityError) as err:
        store.load("t", 1)
    assert err.value.expected == a.fingerprint.hex
    result = store.verify()
    assert not result.ok
    assert [(p.kind, p.subject) for p in result.problems] == [("fingerprint_mismatch", "t@1")]
    assert "t@1" in result.to_html()
    assert result.to_dict()["problems"][0]["subject"] == "t@1"


def test_verify_reports_modified_and_missing_bytes(tmp_path: Path) -> None:
    store = mp.DatasetStore(tmp_path)
    a = store.commit(pd.DataFrame({"x": [1, 2, 3]}), name="t")
    b = store.commit(pd.DataFrame({"x": [4, 5]}), name="t")
    assert store.verify().ok
    path_a = tmp_path / "objects" / a.sha256[:2] / f"{a.sha256}.parquet"
    path_b = tmp_path / "objects" / b.sha256[:2] / f"{b.sha256}.parquet"
    path_a.write_bytes(path_a.read_bytes()[:-3] + b"xyz")
    path_b.unlink()
    kinds = {p.subject: p.kind for p in store.verify().problems}
    assert kinds == {"t@1": "data_corrupt", "t@2": "data_missing"}


def test_gc_removes_only_unreferenced_old_files(tmp_path: Path) -> None:
    store = mp.DatasetStore(tmp_path)
    v = store.commit(pd.DataFrame({"x": [1, 2]}), name="t")
    orphan = tmp_path / "objects" / "ff" / ("f" * 64 + ".parquet")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"orphan")
    temp = tmp_path / "objects" / "ff" / ".tmp-dead"
    temp.write_bytes(b"half")
    young = store.gc(grace=3600)
    assert (young.objects, young.temporaries, young.kept_young) == ((), (), 1)
    old = 10_000
    for p in (orphan, temp):
        os.utime(p, (p.stat().st_atime - old, p.stat().st_mtime - old))
    dry = store.gc(grace=3600)
    assert dry.dry_run
    assert (dry.objects, dry.temporaries) == ((str(orphan),), (str(temp),))
    assert orphan.exists()
    assert temp.exists()
    done = store.gc(grace=3600, dry_run=False)
    assert done.freed_bytes == len(b"orphan") + len(b"half")
    assert not orphan.exists()
    assert not temp.exists()
    assert store.load(v).equals(pd.DataFrame({"x": [1, 2]}))
    assert "Removed" in done.summary()
    with pytest.raises(mp.ConfigurationError):
        store.gc(grace=float("nan"))
