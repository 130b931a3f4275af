"""Files, chunk iterators and Dask DataFrames give the whole frame's fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlprod as mp


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    n = 5_000
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "x": rng.normal(size=n),
            "s": pd.Series([f"k{i % 97}" if i % 11 else None for i in range(n)], dtype="str"),
            "c": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
            "n": pd.array([i if i % 7 else None for i in range(n)], dtype="Int64"),
        }
    )


def test_parquet_files_and_row_groups(frame, tmp_path):
    paths = []
    for i, (a, b) in enumerate([(0, 1200), (1200, 1201), (1201, 5000)]):
        path = tmp_path / f"part-{i}.parquet"
        frame.iloc[a:b].to_parquet(path, row_group_size=500)
        paths.append(path)
    for ordered in (True, False):
        expected = mp.fingerprint(frame, ordered=ordered)
        assert (
            mp.fingerprint_files(paths, ordered=ordered, batch_rows=333, progress=False) == expected
        )
    single = tmp_path / "all.parquet"
    frame.to_parquet(single, row_group_size=700)
    assert mp.fingerprint_files(single, index=True, batch_rows=999) == mp.fingerprint(
        frame, index=True
    )
    assert mp.fingerprint_files([str(single)], columns=["id", "x"]) == mp.fingerprint(
        frame[["id", "x"]]
    )


def test_csv_with_schema_feather_and_json_lines(frame, tmp_path):
    dtypes = {"id": "int64", "x": "float64", "s": "str", "c": "category", "n": "Int64"}
    frame.to_csv(tmp_path / "d.csv.gz", index=False)
    # pandas 2's default float parser is not exact (pandas 3's is, and deprecates the option)
    options: dict[str, object] = {"dtype": dtypes}
    if int(pd.__version__.split(".")[0]) < 3:
        options["float_precision"] = "round_trip"
    got = mp.fingerprint_files(tmp_path / "d.csv.gz", read_options=options, batch_rows=1_234)
    assert got == mp.fingerprint(frame)
    frame.to_feather(tmp_path / "d.feather")
    assert mp.fingerprint_files(tmp_path / "d.feather") == mp.fingerprint(frame)
    small = frame[["id", "x"]]
    small.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    assert mp.fingerprint_files(tmp_path / "d.jsonl", batch_rows=700) == mp.fingerprint(
        pd.read_json(tmp_path / "d.jsonl", lines=True)
    )


def test_fsspec_urls(frame):
    import fsspec

    with fsspec.open("memory://fp-test/d.parquet", "wb") as fh:
        frame.to_parquet(fh)
    assert mp.fingerprint_files("memory://fp-test/d.parquet") == mp.fingerprint(frame)


def test_file_errors(tmp_path):
    with pytest.raises(mp.NotFound, match="file"):
        mp.fingerprint_files(tmp_path / "missing.parquet")
    (tmp_path / "data.xyz").write_text("x")
    with pytest.raises(mp.ConfigurationError, match="format"):
        mp.fingerprint_files(tmp_path / "data.xyz")


def test_chunk_iterators(frame):
    chunks = (frame.iloc[i : i + 777] for i in range(0, len(frame), 777))
    assert mp.fingerprint(chunks) == mp.fingerprint(frame)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_dataframe_on_a_local_cluster(frame, dask_client):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(frame, npartitions=7)
    for ordered in (True, False):
        assert mp.fingerprint(ddf, ordered=ordered) == mp.fingerprint(frame, ordered=ordered)
    assert mp.fingerprint(ddf, index=True) == mp.fingerprint(frame, index=True)


def test_dask_from_parquet_partitions(frame, tmp_path, dask_client):
    dd = pytest.importorskip("dask.dataframe")
    for i in range(3):
        frame.iloc[i * 1500 : (i + 1) * 1500 if i < 2 else None].to_parquet(
            tmp_path / f"p{i}.parquet"
        )
    ddf = dd.read_parquet(str(tmp_path / "p*.parquet"))
    assert mp.fingerprint(ddf) == mp.fingerprint(frame)
