"""Tamper evidence, crash safety and the manifest law."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlprod as mp
from mlprod.models.storage.artifacts import FsspecArtifactStore, LocalArtifactStore
from mlprod.models.version import manifest_digest

# Each example undoes its tampering and checks the registry verifies again, so
# the examples may share one populated registry.
_SHARED = [HealthCheck.function_scoped_fixture]


def _populated(reg: mp.ModelRegistry) -> mp.ModelRegistry:
    for i in range(3):
        reg.register("churn", {"w": i}, metrics={"auc": 0.7 + i / 100}, tags={"i": i})
    reg.set_alias("churn", "production", 2, reason="go")
    reg.set_tag("churn", 1, "stage", "old")
    reg.set_alias("churn", "production", 3)
    reg.delete_alias("churn", "production")
    reg.set_alias("churn", "staging", 1)
    return reg


@pytest.fixture
def populated(registry: mp.ModelRegistry) -> mp.ModelRegistry:
    return _populated(registry)


def _events(reg: mp.ModelRegistry) -> list[tuple[int, str]]:
    e = reg._t.events
    with reg._sql.engine.connect() as conn:
        return [(r.seq, r.line) for r in conn.execute(e.select().order_by(e.c.seq))]


def _set_line(reg: mp.ModelRegistry, seq: int, line: str) -> None:
    e = reg._t.events
    with reg._sql.engine.begin() as conn:
        conn.execute(e.update().where(e.c.seq == seq).values(line=line))


def test_a_clean_registry_verifies(populated: mp.ModelRegistry) -> None:
    result = populated.verify()
    assert result.ok, result.problems
    assert (result.events, result.versions, result.artifacts) == (8, 3, 3)
    assert result.head == populated._sql.head()[1]
    assert result.orphans == ()
    assert "Registry verification: passed" in result.summary()
    assert result.to_dict()["problems"] == []


@settings(max_examples=15, suppress_health_check=_SHARED)
@given(data=st.data())
def test_any_edited_event_byte_is_detected(
    populated: mp.ModelRegistry, data: st.DataObject
) -> None:
    rows = _events(populated)
    seq, line = data.draw(st.sampled_from(rows))
    pos = data.draw(st.integers(0, len(line) - 1))
    replacement = data.draw(st.sampled_from('0123456789abcdefxyz{}",:'))
    if line[pos] == replacement:
        replacement = "Q"
    _set_line(populated, seq, line[:pos] + replacement + line[pos + 1 :])
    try:
        result = populated.verify(artifacts=False)
        assert not result.ok
        assert result.problems[0].kind == "event_chain"
        assert result.problems[0].subject == f"event {seq}"
    finally:
        _set_line(populated, seq, line)
    assert populated.verify(artifacts=False).ok


@settings(max_examples=10, suppress_health_check=_SHARED)
@given(data=st.data())
def test_any_deleted_event_row_is_detected(
    populated: mp.ModelRegistry, data: st.DataObject
) -> None:
    rows = _events(populated)
    seq, line = data.draw(st.sampled_from(rows))
    e = populated._t.events
    with populated._sql.engine.begin() as conn:
        conn.execute(e.delete().where(e.c.seq == seq))
    try:
        result = populated.verify(artifacts=False)
        assert not result.ok
        kinds = {p.kind for p in result.problems}
        assert kinds & {"event_chain", "head_mismatch"}
    finally:
        with populated._sql.engine.begin() as conn:
            conn.execute(e.insert().values(seq=seq, line=line))
    assert populated.verify(artifacts=False).ok


@settings(max_examples=10, suppress_health_check=_SHARED)
@given(data=st.data())
def test_any_reordering_of_event_rows_is_detected(
    populated: mp.ModelRegistry, data: st.DataObject
) -> None:
    rows = _events(populated)
    i, j = data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True))
    _set_line(populated, rows[i][0], rows[j][1])
    _set_line(populated, rows[j][0], rows[i][1])
    try:
        result = populated.verify(artifacts=False)
        assert not result.ok
        assert result.problems[0].subject == f"event {min(i, j)}"
    finally:
        _set_line(populated, rows[i][0], rows[i][1])
        _set_line(populated, rows[j][0], rows[j][1])
    assert populated.verify(artifacts=False).ok


@settings(max_examples=15, suppress_health_check=_SHARED)
@given(data=st.data())
def test_any_changed_artifact_byte_is_detected(
    populated: mp.ModelRegistry, data: st.DataObject
) -> None:
    version = data.draw(st.integers(1, 3))
    digest = populated.get("churn", version).artifacts["model.joblib"]["sha256"]
    path = Path(populated.artifacts.where(digest))
    original = path.read_bytes()
    pos = data.draw(st.integers(0, len(original) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(original)
    changed[pos] ^= flip
    path.write_bytes(bytes(changed))
    try:
        result = populated.verify()
        assert [(p.kind, p.subject) for p in result.problems] == [("artifact_corrupt", str(path))]
        assert f"churn:{version}" in result.problems[0].detail
    finally:
        path.write_bytes(original)
    assert populated.verify().ok


def test_tables_that_disagree_with_the_log_are_reported(populated: mp.ModelRegistry) -> None:
    t = populated._t
    with populated._sql.engine.begin() as conn:
        conn.execute(t.aliases.update().values(version=1))
        conn.execute(t.versions.update().where(t.versions.c.version == 2).values(tags="{}"))
        conn.execute(t.history.delete().where(t.history.c.seq == 3))
    kinds = sorted(p.kind for p in populated.verify().problems)
    assert kinds == ["alias_history_mismatch", "tags_mismatch"]
    with populated._sql.engine.begin() as conn:
        conn.execute(t.aliases.update().where(t.aliases.c.alias == "staging").values(version=3))
        conn.execute(t.versions.delete().where(t.versions.c.version == 3))
    kinds = sorted(p.kind for p in populated.verify().problems)
    assert "alias_mismatch" in kinds
    assert "version_missing" in kinds


def test_a_deleted_artifact_is_reported(populated: mp.ModelRegistry) -> None:
    digest = populated.get("churn", 1).artifacts["model.joblib"]["sha256"]
    Path(populated.artifacts.where(digest)).unlink()
    result = populated.verify()
    assert [p.kind for p in result.problems] == ["artifact_missing"]


def test_a_failure_after_the_artifact_write_leaves_no_half_version(
    registry: mp.ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("churn", {"w": 0})
    from mlprod.models.storage import sql

    def boom(self: Any, record: Any, *, ts: float) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(sql.Writer, "event", boom)
    with pytest.raises(OSError, match="disk full"):
        registry.register("churn", {"w": "never"})
    monkeypatch.undo()
    assert [v.version for v in registry.versions("churn")] == [1]
    result = registry.verify()
    assert result.ok
    assert len(result.orphans) == 1
    assert registry.register("churn", {"w": 2}).version == 2


_CRASH = textwrap.dedent(
    """
    import os, sys
    import mlprod as mp
    from mlprod.models.storage import sql

    reg = mp.ModelRegistry(sys.argv[1], artifacts=sys.argv[2] or None)
    original = sql.Writer.event

    def die(self, record, *, ts):
        original(self, record, ts=ts)  # the rows are written, the commit never happens
        os._exit(17)

    sql.Writer.event = die
    reg.register("churn", {"w": "half"})
    """
)


def test_a_process_killed_mid_transaction_leaves_the_previous_state(
    make_registry: Any, backend: dict[str, Any]
) -> None:
    reg = make_registry()
    reg.register("churn", {"w": 0})
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH, backend["location"], backend["artifacts"] or ""],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 17, proc.stderr
    fresh = make_registry()
    assert [v.version for v in fresh.versions("churn")] == [1]
    result = fresh.verify()
    assert result.ok
    assert result.events == 1
    assert len(result.orphans) == 1
    assert fresh.register("churn", {"w": 1}).version == 2


_scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
    st.booleans(),
)


@given(
    params=st.dictionaries(st.text(min_size=1, max_size=6), _scalars, max_size=6),
    metrics=st.dictionaries(
        st.text(min_size=1, max_size=6),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=4,
    ),
    data=st.data(),
)
def test_manifest_digest_ignores_key_order_and_sees_every_value(
    params: dict[str, Any], metrics: dict[str, float], data: st.DataObject
) -> None:
    manifest = {"name": "m", "version": 1, "params": params, "metrics": metrics}
    shuffled_keys = data.draw(st.permutations(list(params)))
    reordered = {
        "metrics": dict(reversed(list(metrics.items()))),
        "params": {k: params[k] for k in shuffled_keys},
        "version": 1,
        "name": "m",
    }
    assert manifest_digest(manifest) == manifest_digest(reordered)
    assert manifest_digest({**manifest, "version": 2}) != manifest_digest(manifest)
    if params:
        key = data.draw(st.sampled_from(sorted(params)))
        changed = {**params, key: [params[key]]}
        assert manifest_digest({**manifest, "params": changed}) != manifest_digest(manifest)


def test_registered_digests_are_stable_for_the_same_content(tmp_path: Path) -> None:
    clock = mp.ManualClock(1_767_225_600.0)
    a = mp.ModelRegistry(tmp_path / "a", clock=clock).register(
        "m", {"w": 1}, params={"x": 1, "y": 2}, metrics={"m": 1.0}, actor="ana"
    )
    b = mp.ModelRegistry(tmp_path / "b", clock=clock).register(
        "m", {"w": 1}, params={"y": 2, "x": 1}, metrics={"m": 1.0}, actor="ana"
    )
    assert a.digest == b.digest


@settings(max_examples=10, suppress_health_check=_SHARED)
@given(data=st.data())
def test_any_edited_version_row_is_detected(
    populated: mp.ModelRegistry, data: st.DataObject
) -> None:
    v = populated._t.versions
    with populated._sql.engine.connect() as conn:
        rows = conn.execute(v.select().order_by(v.c.version)).all()
    row = data.draw(st.sampled_from(rows))
    column = data.draw(st.sampled_from(["manifest", "tags"]))
    text = getattr(row, column)
    pos = data.draw(st.integers(0, len(text) - 1))
    edited = text[:pos] + ("7" if text[pos] != "7" else "8") + text[pos + 1 :]
    with populated._sql.engine.begin() as conn:
        conn.execute(v.update().where(v.c.id == row.id).values({column: edited}))
    try:
        result = populated.verify(artifacts=False)
        assert not result.ok
        assert f"churn:{row.version}" in {p.subject for p in result.problems}
    finally:
        with populated._sql.engine.begin() as conn:
            conn.execute(v.update().where(v.c.id == row.id).values({column: text}))
    assert populated.verify(artifacts=False).ok


def test_the_exported_event_log_verifies_as_an_audit_log(
    populated: mp.ModelRegistry, tmp_path: Path
) -> None:
    target = tmp_path / "events.jsonl"
    assert populated.export_events(target) == 8
    check = mp.verify_audit_log(target)
    assert check.ok
    assert check.head == populated.verify().head
    records = [r["record"]["event"] for r in mp.read_audit_log(target)]
    assert records[:3] == ["model.registered"] * 3


def test_edited_lineage_index_rows_are_reported(registry: mp.ModelRegistry) -> None:
    class Data:
        name, version, fingerprint = "train", 1, "cd" * 16

    registry.register("churn", {"w": 1}, datasets={"train": Data()})
    registry.register("churn", {"w": 2}, parents=["churn:1"])
    t = registry._t
    with registry._sql.engine.begin() as conn:
        conn.execute(t.parents.update().values(parent_version=2))
        conn.execute(t.inputs.update().values(dataset="dataset:evil@1"))
    result = registry.verify(artifacts=False)
    assert not result.ok
    assert sorted((p.kind, p.subject) for p in result.problems) == [
        ("lineage_index_mismatch", "churn:1"),
        ("lineage_index_mismatch", "churn:2"),
    ]
    details = " ".join(p.detail for p in result.problems)
    assert "dataset:evil@1" in details
    assert "churn:2" in details
    with registry._sql.engine.begin() as conn:
        conn.execute(t.parents.delete())
        conn.execute(t.inputs.delete())
    assert sorted(p.subject for p in registry.verify(artifacts=False).problems) == [
        "churn:1",
        "churn:2",
    ]


def test_a_stored_artifact_is_durable_before_register_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rename that puts an artifact in place lives in its directory: unless
    # the directory is synced too, a power cut can lose the file while the
    # committed version that names it survives.
    import os
    import stat

    from mlprod.models.storage.artifacts import LocalArtifactStore

    log: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        log.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def link(src: Any, dst: Any) -> None:  # the file appears under its digest here
        log.append("link")
        real_link(src, dst)

    store = LocalArtifactStore(tmp_path / "artifacts")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    store.put("ab" * 32, b"model bytes")
    assert log[:3] == ["fsync file", "link", "fsync dir"]
    assert log.count("fsync dir") == 2  # the new ab/ folder's entry in sha256/ too
    from mlprod.models.storage.artifacts import open_artifact_store

    assert isinstance(open_artifact_store(f"file://{tmp_path}/a"), LocalArtifactStore)


def test_a_registration_finishing_during_verify_is_not_an_orphan(
    make_registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, other = make_registry(), make_registry()
    reg.register("churn", {"w": 0})
    from mlprod.models import _check

    original = _check.check_tables

    def register_meanwhile(*args: Any) -> Any:
        other.register("churn", {"w": "meanwhile"})
        return original(*args)

    monkeypatch.setattr(_check, "check_tables", register_meanwhile)
    result = reg.verify()
    assert result.ok
    assert result.orphans == ()


def test_registering_the_same_bytes_again_repairs_a_damaged_artifact(
    registry: mp.ModelRegistry,
) -> None:
    first = registry.register("churn", {"w": [1, 2, 3]})
    path = Path(registry.artifacts.where(first.artifacts["model.joblib"]["sha256"]))
    path.write_bytes(b"damaged")
    assert [p.kind for p in registry.verify().problems] == ["artifact_corrupt"]
    again = registry.register("churn", {"w": [1, 2, 3]})
    assert again.artifacts == first.artifacts
    assert registry.verify().ok
    assert registry.load("churn", 1) == {"w": [1, 2, 3]}


def test_exporting_events_is_durable_and_leaves_nothing_behind_on_failure(
    populated: mp.ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    target = tmp_path / "out" / "events.jsonl"
    target.parent.mkdir()
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    assert populated.export_events(target) == 8
    assert len(synced) == 2  # the file, then the folder holding its new name

    def refuse(src: Any, dst: Any) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        populated.export_events(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["events.jsonl"]
    assert mp.verify_audit_log(target).ok


def _damage_sqlite_page(db: Path, object_name: str) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = ?", (object_name,)
    ).fetchone()
    conn.close()
    data = bytearray(db.read_bytes())
    start = (root - 1) * page_size
    data[start + 3 : start + 5] = b"\xff\xff"  # an impossible cell count
    db.write_bytes(bytes(data))


def test_a_damaged_sqlite_file_is_reported_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlprod.cli import main

    location = tmp_path / "reg"
    reg = _populated(mp.ModelRegistry(location))
    reg.close()
    db = location / "registry.db"
    intact = db.read_bytes()

    # A page no query reads (the parents index): reads work, verify finds it.
    _damage_sqlite_page(db, "mlprod_registry_parents_parent")
    reg = mp.ModelRegistry(location)
    assert reg.get("churn", 1).version == 1
    result = reg.verify()
    assert [(p.kind, p.subject) for p in result.problems] == [("database_damaged", str(db))]
    assert "Page" in result.problems[0].detail
    reg.close()

    # A page every open reads (the head row): a clear error, exit 1 from the CLI.
    db.write_bytes(intact)
    _damage_sqlite_page(db, "mlprod_registry_meta")
    with pytest.raises(mp.IntegrityError, match="is damaged") as info:
        mp.ModelRegistry(location)
    assert info.value.path == str(db)
    assert main(["registry", "verify", "--registry", str(location)]) == 1
    assert "is damaged" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["local", "fsspec-file", "fsspec-memory"])
def test_every_artifact_store_replaces_a_damaged_copy_when_the_bytes_come_again(
    kind: str, tmp_path: Path
) -> None:
    store: Any = {
        "local": lambda: LocalArtifactStore(tmp_path / "a"),
        "fsspec-file": lambda: FsspecArtifactStore(str(tmp_path / "b")),
        "fsspec-memory": lambda: FsspecArtifactStore(f"memory://repair-{uuid.uuid4().hex}"),
    }[kind]()
    data = b"model bytes"
    digest = hashlib.sha256(data).hexdigest()
    store.put(digest, data)
    if kind == "local":
        Path(store.where(digest)).write_bytes(b"damaged")
    else:
        store.fs.pipe_file(store._path(digest), b"damaged")
    assert store.get(digest) == b"damaged"
    store.put(digest, data)
    assert store.get(digest) == data
    assert list(store.digests()) == [digest]


def test_registering_the_same_bytes_again_repairs_an_object_store_artifact(
    tmp_path: Path,
) -> None:
    reg = mp.ModelRegistry(
        "sqlite:///" + str(tmp_path / "meta.db"), artifacts=f"memory://reg-{uuid.uuid4().hex}"
    )
    first = reg.register("churn", {"w": [1, 2, 3]})
    digest = first.artifacts["model.joblib"]["sha256"]
    reg.artifacts.fs.pipe_file(reg.artifacts._path(digest), b"damaged")
    assert [p.kind for p in reg.verify().problems] == ["artifact_corrupt"]
    reg.register("churn", {"w": [1, 2, 3]})
    assert reg.verify().ok
    assert reg.load("churn", 1) == {"w": [1, 2, 3]}
    reg.close()


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
def test_temporary_files_of_interrupted_artifact_writes_are_reported_once_stale(
    kind: str, tmp_path: Path
) -> None:
    store: Any = (
        LocalArtifactStore(tmp_path / "artifacts")
        if kind == "local"
        else FsspecArtifactStore(str(tmp_path / "artifacts"))
    )
    reg = mp.ModelRegistry(tmp_path / "reg", artifacts=store)
    mv = reg.register("churn", {"w": 1})
    target = Path(reg.artifacts.where(mv.artifacts["model.joblib"]["sha256"]))
    # Named as each store names its temporary files, as a killed writer leaves them.
    if kind == "local":
        stale, fresh = target.parent / ".tmp-k1ll3d", target.parent / ".tmp-runn1n"
    else:
        stale, fresh = Path(f"{target}.tmp-1-2"), Path(f"{target}.tmp-3-4")
    stale.write_bytes(b"half a mod")
    fresh.write_bytes(b"half a mod")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    result = reg.verify()
    assert result.ok  # leftovers are litter, not damage
    assert result.problems == ()
    assert result.orphans == ()
    assert result.leftovers == (str(stale),)
    assert result.to_dict()["leftovers"] == [str(stale)]
    assert "leftovers=1" in repr(result)
    assert "Unfinished artifact writes" in result.summary()
    assert str(stale) in result.summary()
    assert str(fresh) not in result.summary()
    assert reg.verify(artifacts=False).leftovers == ()
    reg.close()
