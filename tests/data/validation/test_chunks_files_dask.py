"""Large data: chunks, Parquet/CSV files with a progress bar, and Dask on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlprod as mp

C = mp.checks


@pytest.fixture
def schema():
    return mp.Schema(
        {
            "id": mp.Column("int64", unique=True),
            "t": mp.Column("float64", checks=[C.monotonic()]),
            "x": mp.Column("float64", nullable=True, checks=[C.in_range(0, 1)]),
            "s": mp.Column("str", checks=[C.str_matches(r"[a-c]+$")]),
        },
        unique=["s", "x"],
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    n = 1000
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "t": np.arange(n, dtype="float64"),
            "x": rng.random(n),
            "s": rng.choice(["a", "ab", "abc", "cab"], n),
        }
    )
    df.loc[[5, 400, 998], "x"] = [1.5, np.nan, -0.2]
    df.loc[[250, 750], "id"] = [3, 999]  # duplicates across distant chunks
    df.loc[500, "t"] = 1.0  # an order break exactly at a chunk boundary
    df.loc[[10, 600], "s"] = ["zz", "a1"]
    df.loc[[20, 900], ["s", "x"]] = [["a", 0.25], ["a", 0.25]]
    return df


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.failures, b.failures)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert a.rows == b.rows


@pytest.mark.parametrize("size", [1, 7, 250, 333, 1000, 5000])
def test_chunks_give_the_whole_frame_report(schema, data, size):
    whole = schema.validate(data)
    assert not whole.ok
    chunks = (data.iloc[i : i + size] for i in range(0, len(data), size))
    assert_same(schema.validate_chunks(chunks), whole)


def test_whole_frame_found_what_was_planted(schema, data):
    got = {(c, i) for c, i in schema.validate(data).failures[["check", "index"]].values.tolist()}
    assert {("unique", 3), ("unique", 250), ("unique", 999), ("unique", 750)} <= got
    assert ("monotonic(increasing)", 500) in got
    assert ("monotonic(increasing)", 501) not in got
    assert {("in_range(0, 1)", 5), ("in_range(0, 1)", 998), ("nullable", 400)} - got == {
        ("nullable", 400)
    }
    assert {("str_matches('[a-c]+$')", 10), ("str_matches('[a-c]+$')", 600)} <= got
    assert {("unique(s, x)", 20), ("unique(s, x)", 900)} <= got


def test_max_failures_gives_the_same_kept_cells_when_chunked(schema, data):
    whole = schema.validate(data, max_failures=5)
    chunks = (data.iloc[i : i + 100] for i in range(0, len(data), 100))
    assert_same(schema.validate_chunks(chunks, max_failures=5), whole)


def test_structural_failures_count_once_across_chunks(schema, data):
    chunks = [data.iloc[:500].drop(columns=["s"]), data.iloc[500:].drop(columns=["s"])]
    report = schema.validate_chunks(chunks)
    counts = report.counts.set_index("check")["failures"]
    assert counts["column_in_frame"] == 1


def test_chunks_must_be_frames(schema):
    with pytest.raises(mp.ConfigurationError, match="Chunk 1 is a list"):
        schema.validate_chunks([pd.DataFrame({"id": [1]}), [1, 2]])


def test_no_chunks_is_an_empty_frame(schema):
    report = schema.validate_chunks([])
    assert report.rows == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_give_the_whole_frame_report(schema, data, tmp_path, fmt, capsys):
    parts = [data.iloc[:300], data.iloc[300:650], data.iloc[650:]]
    paths = []
    for i, part in enumerate(parts):
        path = tmp_path / f"part{i}.{fmt}"
        if fmt == "parquet":
            part.reset_index(drop=True).to_parquet(path, row_group_size=128)
        else:
            part.to_csv(path, index=False)
        paths.append(path)
    whole = schema.validate(data)
    report = schema.validate_files(paths, chunksize=128, progress=True)
    assert_same(report, whole)
    assert "rows" in capsys.readouterr().err  # the tqdm bar


def test_files_bad_input(schema, tmp_path):
    with pytest.raises(mp.ConfigurationError, match="No such file"):
        schema.validate_files([tmp_path / "nope.parquet"], progress=False)
    odd = tmp_path / "data.bin"
    odd.write_text("a\n1\n")
    with pytest.raises(mp.ConfigurationError, match="format='parquet'"):
        schema.validate_files(odd, progress=False)
    assert schema.validate_files(odd, format="csv", progress=False).rows == 1
    with pytest.raises(mp.ConfigurationError, match="chunksize"):
        schema.validate_files(odd, format="csv", chunksize=0, progress=False)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_partitions_give_the_whole_frame_report(schema, data, dask_client):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(data, npartitions=4)
    assert ddf.npartitions == 4
    report = schema.validate(ddf)
    assert_same(report, schema.validate(data))
    assert dask_client.status == "running"


def test_dask_clean_data_passes(dask_client):
    dd = pytest.importorskip("dask.dataframe")
    schema = mp.Schema({"a": mp.Column("int64", checks=[C.ge(0)], unique=True)})
    ddf = dd.from_pandas(pd.DataFrame({"a": np.arange(100)}), npartitions=3)
    assert schema.validate(ddf).ok


def test_missing_dask_names_the_extra(schema, monkeypatch):
    from mlprod.data.validation.sources import validate_dask

    monkeypatch.setitem(__import__("sys").modules, "dask", None)
    with pytest.raises(mp.MissingDependency, match=r"mlprod\[dask\]"):
        validate_dask(schema._plan, object())


def test_missing_hypothesis_names_the_extra(schema, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "hypothesis.strategies", None)
    with pytest.raises(mp.MissingDependency, match=r"mlprod\[testing\]"):
        schema.strategy()


def test_validate_takes_an_iterator_of_chunks(schema, data, tmp_path):
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    with pd.read_csv(path, chunksize=300) as reader:
        report = schema.validate(reader)
    assert_same(report, schema.validate(data))
    assert_same(schema.validate(iter([data.iloc[:10], data.iloc[10:]])), schema.validate(data))


def test_a_check_failing_whole_in_one_chunk_and_by_cell_in_another_keeps_both():
    def positive_or_short(s):
        return bool(len(s) < 3) if (s > 0).all() else s > 0

    schema = mp.Schema({"x": mp.Column("int64", checks=[C.custom(positive_or_short, name="p")])})
    chunks = [pd.DataFrame({"x": [1, 2, 3]}), pd.DataFrame({"x": [-1, 5]}, index=[3, 4])]
    report = schema.validate_chunks(chunks)
    assert report.n_failures == 2
    assert report.failures["index"].tolist() == [None, 3]


def test_max_failures_zero_keeps_no_cells_at_all():
    schema = mp.Schema({"a": mp.Column("int64"), "b": mp.Column("int64", checks=[C.ge(0)])})
    report = schema.validate(pd.DataFrame({"b": [-1, -2]}), max_failures=0)
    assert report.failures.empty
    assert report.n_failures == 3
