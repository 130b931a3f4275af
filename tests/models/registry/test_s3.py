"""Artifacts on a real S3-compatible server: moto's server mode on loopback, through s3fs.

The server runs in a thread of the test process and speaks HTTP on 127.0.0.1;
registrations in other processes reach it the way they would reach S3.
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

import pytest

import mlprod as mp

pytest.importorskip("moto.server")
pytest.importorskip("s3fs")

_CREDENTIALS = {"key": "testing", "secret": "testing"}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, Any]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {"server": server, "endpoint": f"http://{host}:{port}", "port": port}
    finally:
        server.stop()


def _options(endpoint: str) -> dict[str, Any]:
    # Few retries: a refused connection is meant to fail fast here.
    return {
        **_CREDENTIALS,
        "endpoint_url": endpoint,
        "skip_instance_cache": True,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }


@pytest.fixture
def bucket_url(s3_server: dict[str, Any]) -> str:
    import s3fs

    name = "mlprod-" + uuid.uuid4().hex[:10]
    s3fs.S3FileSystem(**_options(s3_server["endpoint"])).mkdir(name)
    return f"s3://{name}/models"


def _store(url: str, endpoint: str) -> Any:
    from mlprod.models.storage.artifacts import FsspecArtifactStore

    return FsspecArtifactStore(url, **_options(endpoint))


def test_register_load_verify_on_s3(
    tmp_path: Path, s3_server: dict[str, Any], bucket_url: str, fitted_model: Any
) -> None:
    model, X = fitted_model
    store = _store(bucket_url, s3_server["endpoint"])
    reg = mp.ModelRegistry(tmp_path / "reg", artifacts=store)
    mv = reg.register("churn", model, metrics={"auc": 0.9})
    assert store.where(mv.artifacts["model.joblib"]["sha256"]).startswith("s3://")
    assert (reg.load("churn", 1).predict(X) == model.predict(X)).all()
    assert reg.verify().ok
    # Tampering with the object on the server is caught before anything is unpickled.
    digest = mv.artifacts["model.joblib"]["sha256"]
    store.fs.pipe_file(store._path(digest), b"tampered")
    with pytest.raises(mp.IntegrityError, match="does not match its recorded digest"):
        reg.load("churn", 1)
    assert [p.kind for p in reg.verify().problems] == ["artifact_corrupt"]
    # Registering the same bytes again repairs it (the loser checks the winner's bytes).
    reg.register("churn", model)
    assert reg.verify().ok
    assert (reg.load("churn", 1).predict(X) == model.predict(X)).all()


def test_a_conditional_create_keeps_the_first_writers_object(
    s3_server: dict[str, Any], bucket_url: str
) -> None:
    import hashlib

    store = _store(bucket_url, s3_server["endpoint"])
    digest = hashlib.sha256(b"model").hexdigest()
    store.put(digest, b"model")
    first = store.fs.info(store._path(digest))["ETag"]
    store.put(digest, b"model")  # present and intact: not rewritten
    assert store.fs.info(store._path(digest))["ETag"] == first
    assert store.get(digest) == b"model"


_WORKER = textwrap.dedent(
    """
    import json, sys
    import mlprod as mp
    from mlprod.models.storage.artifacts import FsspecArtifactStore
    location, url, options, worker, rounds = sys.argv[1:6]
    store = FsspecArtifactStore(url, **json.loads(options))
    reg = mp.ModelRegistry(location, artifacts=store)
    for i in range(int(rounds)):
        # Half the registrations share their bytes (one shared object), half do not.
        model = {"shared": i} if i % 2 == 0 else {"worker": worker, "round": i}
        reg.register("churn", model)
    print("done")
    """
)


def test_concurrent_registrations_on_s3(
    tmp_path: Path, s3_server: dict[str, Any], bucket_url: str
) -> None:
    location = str(tmp_path / "reg")
    mp.ModelRegistry(location, artifacts=_store(bucket_url, s3_server["endpoint"])).close()
    env = {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}
    options = json.dumps(_options(s3_server["endpoint"]))
    workers, rounds = 3, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, location, bucket_url, options, str(w), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    store = _store(bucket_url, s3_server["endpoint"])
    reg = mp.ModelRegistry(location, artifacts=store)
    versions = reg.versions("churn")
    assert [v.version for v in versions] == list(range(1, workers * rounds + 1))
    for v in versions:
        reg.load(v)
    result = reg.verify()
    assert result.ok, result.problems
    assert result.orphans == ()
    # One object per distinct model: the shared ones were written once.
    assert len(list(store.digests())) == rounds // 2 + workers * (rounds // 2)


def test_a_failed_upload_leaves_the_previous_state_intact(
    tmp_path: Path, s3_server: dict[str, Any], bucket_url: str
) -> None:
    from moto.server import ThreadedMotoServer

    store = _store(bucket_url, s3_server["endpoint"])
    reg = mp.ModelRegistry(tmp_path / "reg", artifacts=store)
    reg.register("churn", {"w": 1})
    head = reg.head()
    server = s3_server["server"]
    server.stop()  # the object store goes away mid-session
    try:
        with pytest.raises(mp.StorageError) as info:
            reg.register("churn", {"w": 2})
        assert info.value.operation == "write artifact"
        assert "Nothing was registered" in str(info.value)
    finally:
        # Back on the same port; moto keeps its buckets in this process.
        restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_server["port"])
        restarted.start()
        s3_server["server"] = restarted
    store.fs.invalidate_cache()
    assert reg.head() == head
    assert [v.version for v in reg.versions("churn")] == [1]
    assert reg.load("churn", 1) == {"w": 1}
    assert reg.verify().ok
    assert reg.register("churn", {"w": 2}).version == 2
