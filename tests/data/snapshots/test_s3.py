"""Snapshots on a real S3-compatible server: moto's server mode on loopback, through s3fs.

The server runs in a thread of the test process and speaks HTTP on 127.0.0.1;
commits from other processes reach it the way they would reach S3. (The same
fixture as tests/registry/test_s3.py; a shared conftest fixture would serve both.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mlprod as mp

pytest.importorskip("moto.server")
pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _options(endpoint: str) -> dict[str, Any]:
    return {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": endpoint,
        "skip_instance_cache": True,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }


@pytest.fixture
def url(endpoint: str) -> str:
    import s3fs

    name = "snap-" + uuid.uuid4().hex[:10]
    s3fs.S3FileSystem(**_options(endpoint)).mkdir(name)
    return f"s3://{name}/datasets"


def _frame(n: int, kind: str = "object") -> pd.DataFrame:
    text = pd.Series([f"v{i}" for i in range(n)], dtype=object if kind == "object" else "str")
    return pd.DataFrame({"id": range(n), "text": text, "x": [i / 3 for i in range(n)]})


def test_commit_load_verify_on_s3(endpoint: str, url: str) -> None:
    store = mp.DatasetStore(url, storage_options=_options(endpoint))
    df = _frame(20)
    v1 = store.commit(df, name="train", message="first", tags=["golden"])
    v2 = store.commit(df.iloc[:5], name="train")
    pd.testing.assert_frame_equal(store.load("train", "golden"), df)
    pd.testing.assert_frame_equal(store.load(v2), df.iloc[:5])
    assert store.verify().ok
    # an object rewritten on the server is refused
    path = store._backend.path("objects", v1.sha256[:2], f"{v1.sha256}.parquet")
    store._backend.fs.pipe_file(path, store._backend.read_bytes(path)[:-4] + b"XXXX")
    with pytest.raises(mp.IntegrityError):
        store.load(v1)
    assert [p.subject for p in store.verify().problems] == ["train@1"]


_WORKER = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import mlprod as mp
    url, options, kind, rounds = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    store = mp.DatasetStore(url, storage_options=options)
    for i in range(int(rounds)):
        dtype = object if kind == "object" else "str"
        text = pd.Series([f"v{i}-{j}" for j in range(20)], dtype=dtype)
        store.commit(pd.DataFrame({"text": text}), name="t", message=kind)
    print("done")
    """
)


def test_concurrent_commits_on_s3(endpoint: str, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}
    options = json.dumps(_options(endpoint))
    rounds = 3
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, options, kind, str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for kind in ("object", "str")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    store = mp.DatasetStore(url, storage_options=_options(endpoint))
    versions = store.log("t")
    # numbers are claimed by conditional creates: none lost, none twice
    assert sorted(v.version for v in versions) == list(range(1, 2 * rounds + 1))
    assert sorted(v.message for v in versions) == ["object"] * rounds + ["str"] * rounds
    for v in versions:
        store.load(v)
    assert store.verify().ok


def test_a_failed_upload_leaves_the_previous_state_intact(tmp_path: Path) -> None:
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3fs.S3FileSystem(**_options(endpoint)).mkdir("fail")
    store = mp.DatasetStore("s3://fail/datasets", storage_options=_options(endpoint))
    df = _frame(10)
    store.commit(df, name="t", message="kept")
    before = sorted(store._backend.fs.find(store._backend.root))
    server.stop()  # the object store goes away mid-session
    try:
        with pytest.raises(mp.StorageError) as info:
            store.commit(_frame(30), name="t", message="lost")
        assert "Nothing was committed" in str(info.value)
    finally:
        # back on the same port; moto keeps its buckets in this process
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
    try:
        store._backend.fs.invalidate_cache()
        assert sorted(store._backend.fs.find(store._backend.root)) == before
        assert [v.message for v in store.log("t")] == ["kept"]
        pd.testing.assert_frame_equal(store.load("t"), df)
        assert store.verify().ok
        assert store.commit(_frame(30), name="t").version == 2
    finally:
        server.stop()
