"""Odd inputs and faults at every registry entry point: each raises an MlprodError saying
what, why and how to fix, never a raw traceback from SQLAlchemy, the OS or int()."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mlprod as mp


def _gate(candidate: Any, current: Any, *, actor: Any = None) -> bool:
    return True


# (case id, the call on a registry holding churn:1, the error class, text the message holds)
CASES: list[tuple[str, Callable[[mp.ModelRegistry], Any], type[Exception], str]] = [
    ("search tags list", lambda r: r.search(tags=["team"]), mp.ConfigurationError, "mapping"),
    ("search metrics text", lambda r: r.search(metrics=">=0.5"), mp.ConfigurationError, "auc"),
    ("search name number", lambda r: r.search(name=5), mp.ConfigurationError, "pattern"),
    (
        "get huge version",
        lambda r: r.get("churn", "99999999999999999999999"),
        mp.ConfigurationError,
        "64-bit",
    ),
    (
        "get huge ref",
        lambda r: r.get("churn:99999999999999999999999"),
        mp.ConfigurationError,
        "64-bit",
    ),
    ("load huge version", lambda r: r.load("churn", 10**30), mp.ConfigurationError, "64-bit"),
    ("get superscript digit", lambda r: r.get("churn", "²"), mp.NotFound, "alias"),
    (
        "set_alias one gate",
        lambda r: r.set_alias("churn", "production", 1, gates=_gate),
        mp.ConfigurationError,
        r"gates=\[",
    ),
    (
        "set_alias gate not callable",
        lambda r: r.set_alias("churn", "production", 1, gates=["auc"]),
        mp.ConfigurationError,
        "not a gate",
    ),
    (
        "register parents text",
        lambda r: r.register("churn", {"w": 2}, parents="churn:1"),
        mp.ConfigurationError,
        r"parents=\[",
    ),
    (
        "alias trailing newline",
        lambda r: r.set_alias("churn", "production\n", 1),
        mp.ConfigurationError,
        "Invalid alias",
    ),
    (
        "name trailing newline",
        lambda r: r.register("churn\n", {"w": 1}),
        mp.ConfigurationError,
        "Invalid model name",
    ),
    ("gc negative grace", lambda r: r.gc(grace=-1), mp.ConfigurationError, "grace"),
    ("gc nan grace", lambda r: r.gc(grace=float("nan")), mp.ConfigurationError, "grace"),
    ("versions bad name", lambda r: r.versions("churn\n"), mp.ConfigurationError, "Invalid"),
]


@pytest.mark.parametrize(
    ("call", "error", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_odd_input_gets_a_clear_error(
    registry: mp.ModelRegistry, call: Any, error: type[Exception], text: str
) -> None:
    registry.register("churn", {"w": 1})
    before = registry.head()
    with pytest.raises(error, match=text) as info:
        call(registry)
    assert isinstance(info.value, mp.MlprodError)
    assert len(str(info.value)) > 40  # what, why and how, not a bare value
    assert registry.head() == before  # nothing was written
    assert registry.verify().ok
    assert "production" not in "".join(json.dumps(e) for e in registry.events())


@pytest.mark.parametrize(
    ("location", "text"), [(None, "not a place"), (5, "not a place"), (b"/tmp/x", "not a place")]
)
def test_registry_location_of_the_wrong_type(location: Any, text: str) -> None:
    with pytest.raises(mp.ConfigurationError, match=text):
        mp.ModelRegistry(location)


def test_registry_location_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"x")
    with pytest.raises(mp.ConfigurationError, match="is a file, not a folder"):
        mp.ModelRegistry(path)
    assert path.read_bytes() == b"x"


def test_unreachable_postgresql_is_named(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://mlprod:secret@127.0.0.1:1/registry?connect_timeout=2"
    with pytest.raises(mp.DatabaseUnavailable) as info:
        mp.ModelRegistry(url, artifacts=tmp_path / "a")
    assert isinstance(info.value, ConnectionError)
    assert "secret" not in str(info.value)
    assert "***" in info.value.url
    assert "Check that the server is running" in str(info.value)


_FULL_DISK = textwrap.dedent(
    """
    import json, resource, signal, sys
    import mlprod as mp
    reg = mp.ModelRegistry(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        reg.register("churn", {"blob": "x" * int(sys.argv[3])}, description="d" * int(sys.argv[4]))
    except Exception as exc:
        mro = [c.__name__ for c in type(exc).__mro__]
        print(json.dumps({"type": type(exc).__name__, "mro": mro, "message": str(exc)}))
    else:
        print(json.dumps({"type": None}))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE as on Linux")
@pytest.mark.parametrize("where", ["artifact", "database"])
def test_a_full_disk_is_a_storage_error_and_leaves_the_registry_intact(
    tmp_path: Path, where: str
) -> None:
    import os

    location = tmp_path / "reg"
    reg = mp.ModelRegistry(location)
    reg.register("churn", {"w": 1})
    reg.close()
    if where == "artifact":
        size, description = 2_000_000, "0"
    else:
        # A small artifact and a description that the database cannot take.
        size, description = 10, "3000000"
    env = {**os.environ, "PYTHONPATH": str(Path(mp.__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(location), "1000000", str(size), description],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["type"] == "StorageError", result
    assert "OSError" in result["mro"]
    assert "MlprodError" in result["mro"]
    assert "nothing was" in result["message"].lower()
    reopened = mp.ModelRegistry(location)
    assert [v.version for v in reopened.versions("churn")] == [1]
    assert reopened.load("churn", 1) == {"w": 1}
    check = reopened.verify()
    assert check.ok, check.problems
    assert check.leftovers == ()
    assert not list(Path(location, "artifacts").rglob(".tmp-*"))
