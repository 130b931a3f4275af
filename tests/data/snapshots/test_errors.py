"""Clear errors for what a store cannot take, and a full disk that loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlprod as mp

pa = pytest.importorskip("pyarrow")
_SRC = str(Path(mp.__file__).resolve().parents[1])


@pytest.mark.parametrize("root", [None, 5, b"bytes", "", "FILE"])
def test_roots_that_cannot_be_a_store(tmp_path: Path, root: Any) -> None:
    if root == "FILE":
        root = tmp_path / "a-file"
        root.write_text("x")
    with pytest.raises(mp.ConfigurationError) as err:
        mp.DatasetStore(root)
    assert err.value.parameter == "root"
    assert "DatasetStore" in str(err.value)


@pytest.mark.parametrize(
    ("frame", "column", "reason"),
    [
        (pd.DataFrame({np.nan: [1]}), "nan", "NaN"),
        (pd.DataFrame({0: [1], "0": [2]}), "'0'", "same as column 0"),
        (pd.DataFrame({"z": np.array([1 + 2j, 3j])}), "'z'", "complex"),
        (pd.DataFrame({True: [1]}), "True", "boolean"),
        (pd.DataFrame({"a": [1], 1: [2]}), "1", "mix types (int, str)"),
        (
            pd.DataFrame([[1]], columns=pd.Index([("a", 1)], tupleize_cols=False)),
            "('a', 1)",
            "tuple",
        ),
    ],
    ids=["nan-name", "0-and-'0'", "complex128", "bool-name", "mixed-names", "tuple-name"],
)
def test_unstorable_columns_are_named(
    tmp_path: Path, frame: pd.DataFrame, column: str, reason: str
) -> None:
    store = mp.DatasetStore(tmp_path)
    with pytest.raises(mp.UnstorableColumn) as err:
        store.commit(frame, name="t")
    assert repr(err.value.column) == column
    assert reason in err.value.reason
    assert isinstance(err.value, mp.MlprodError)
    assert isinstance(err.value, ValueError)
    assert not (tmp_path / "datasets").exists()  # nothing written


@pytest.mark.parametrize(
    "kind",
    [
        pa.list_(pa.int64()),
        pa.list_(pa.list_(pa.string())),
        pa.large_list(pa.float64()),
        pa.struct([("a", pa.int64()), ("b", pa.string())]),
    ],
    ids=str,
)
def test_nested_arrow_columns_round_trip(tmp_path: Path, kind: Any) -> None:
    if pa.types.is_struct(kind) and int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("pandas 2.2 cannot rebuild a struct ArrowDtype from its name")
    samples = {
        "list<item: int64>": [[1, 2], None, []],
        "list<item: list<item: string>>": [[["a"], ["b", None]], [], None],
        "large_list<item: double>": [[1.5], None, [2.0, 3.0]],
        "struct<a: int64, b: string>": [{"a": 1, "b": "x"}, None, {"a": None, "b": "y"}],
    }
    values = pa.array(samples[str(kind)], type=kind).to_pandas(types_mapper=pd.ArrowDtype)
    df = pd.DataFrame({"nested": pd.Series(values), "n": [1, 2, 3]})
    store = mp.DatasetStore(tmp_path)
    loaded = store.load(store.commit(df, name="t"))
    pd.testing.assert_frame_equal(loaded, df)
    assert store.verify().ok


def test_rows_without_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(mp.ConfigurationError, match="3 rows but no columns"):
        mp.DatasetStore(tmp_path).commit(pd.DataFrame(index=range(3)), name="t")


_FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    import numpy as np, pandas as pd
    import mlprod as mp

    store = mp.DatasetStore(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    big = pd.DataFrame({"x": np.random.default_rng(0).random(20_000)})
    try:
        store.commit(big, name="t", message="too big")
    except mp.StorageError as exc:
        print("StorageError", exc.operation, exc.reason, sep="|")
    """
)


def test_full_disk_raises_storage_error_and_keeps_the_previous_state(tmp_path: Path) -> None:
    store = mp.DatasetStore(tmp_path)
    small = pd.DataFrame({"x": [1.0, 2.0]})
    store.commit(small, name="t", message="before")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    out = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": _SRC},
        check=True,
    ).stdout
    assert out.startswith(("StorageError|write dataset", "StorageError|create dataset")), out
    assert "File too large" in out
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert after == before  # no partial object, no temporary, no manifest
    assert [v.message for v in store.log("t")] == ["before"]
    pd.testing.assert_frame_equal(store.load("t"), small)
    assert store.verify().ok
