"""The one reference grammar: name, name:version, name@alias (and the old dataset name@3)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprod as mp
from mlprod._internal.refs import MAX_VERSION, Ref, parse_ref

_TAIL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
dataset_names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("abcXYZ019"),
    st.text(_TAIL, max_size=20),
)
model_names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("abcXYZ019"),
    st.text(_TAIL + "/", max_size=20),
)
# an alias is never 'latest' nor a number (those name versions)
dataset_aliases = dataset_names.filter(lambda a: a != "latest" and not a.isdigit())
model_aliases = st.builds(
    lambda head, tail: head + tail, st.sampled_from("abc_XYZ"), st.text(_TAIL, max_size=20)
).filter(lambda a: a != "latest")
versions = st.integers(min_value=1, max_value=MAX_VERSION)


def refs(names: st.SearchStrategy[str], aliases: st.SearchStrategy[str]) -> st.SearchStrategy[Ref]:
    return st.one_of(
        st.builds(Ref, names),
        st.builds(lambda n, v: Ref(n, version=v), names, versions),
        st.builds(lambda n, a: Ref(n, alias=a), names, aliases),
    )


@given(refs(dataset_names, dataset_aliases))
def test_a_dataset_ref_reads_back_from_its_text(ref: Ref) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the canonical spelling never warns
        assert parse_ref(str(ref)) == ref


@given(refs(model_names, model_aliases))
def test_a_model_ref_reads_back_from_its_text(ref: Ref) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_ref(str(ref), kind="model") == ref


@given(dataset_names, versions)
def test_the_old_dataset_spelling_warns_and_means_the_version(name: str, version: int) -> None:
    with pytest.warns(DeprecationWarning, match=f"write '{name}:{version}'"):
        assert parse_ref(f"{name}@{version}") == Ref(name, version=version)


def test_the_three_forms() -> None:
    assert parse_ref("train") == Ref("train")
    assert parse_ref("train").is_latest
    assert parse_ref("train:12") == Ref("train", version=12)
    assert parse_ref("train@golden") == Ref("train", alias="golden")
    assert parse_ref("train@latest") == Ref("train")
    assert parse_ref("team/churn:3", kind="model") == Ref("team/churn", version=3)
    assert str(Ref("churn", alias="production")) == "churn@production"
    assert str(Ref("train", version=3)) == "train:3"


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("train\n", "dataset", "the name 'train\\\\n'"),
        ("train:3\n", "dataset", "the version '3\\\\n'"),
        ("train@golden\n", "dataset", "the alias 'golden\\\\n'"),
        ("", "dataset", "the name ''"),
        ("train:", "dataset", "the version ''"),
        ("train:0", "dataset", "the version '0'"),
        ("train:03", "dataset", "the version '03'"),
        ("train:x", "dataset", "the version 'x'"),
        ("train:-1", "dataset", "the version '-1'"),
        ("train:1.5", "dataset", "the version '1.5'"),
        (f"train:{MAX_VERSION + 1}", "dataset", "larger than"),
        ("train@", "dataset", "the alias ''"),
        ("@golden", "dataset", "the name ''"),
        ("tr ain", "dataset", "the name 'tr ain'"),
        ("train:1@golden", "dataset", "both ':' and '@'"),
        ("train@a@b", "dataset", "the alias 'a@b'"),
        ("team/train:1", "dataset", "the name 'team/train'"),
        ("x" * 129, "dataset", "at most 128"),
        ("churn@3", "model", "is a number"),
        ("churn@-prod", "model", "starting with a letter or '_'"),
        ("train@0", "dataset", "is a number"),
    ],
)
def test_malformed_refs_are_refused_clearly(text: str, kind: str, why: str) -> None:
    with pytest.raises(mp.ConfigurationError, match=why) as info:
        parse_ref(text, kind=kind)  # type: ignore[arg-type]
    assert info.value.parameter == "ref"
    assert info.value.value == text
    assert "name:version" in str(info.value)


def test_odd_arguments_are_refused() -> None:
    with pytest.raises(mp.ConfigurationError, match="not int"):
        parse_ref(3)  # type: ignore[arg-type]
    with pytest.raises(mp.ConfigurationError, match="kind="):
        parse_ref("train", kind="table")  # type: ignore[arg-type]
    with pytest.raises(mp.ConfigurationError, match="not both"):
        Ref("train", version=1, alias="golden")
    with pytest.raises(mp.ConfigurationError, match="cannot be an alias"):
        Ref("train", alias="latest")
    with pytest.raises(mp.ConfigurationError, match="cannot be an alias"):
        Ref("train", alias="7")
    with pytest.raises(mp.ConfigurationError, match="out of range"):
        Ref("train", version=0)


def test_the_warning_points_at_the_caller() -> None:
    with pytest.warns(DeprecationWarning, match="train:3") as record:
        parse_ref("train@3")
    assert record[0].filename == __file__


def test_warnings_read_deep_inside_mlprod_name_the_users_line(tmp_path) -> None:
    import pandas as pd

    from mlprod.cli import main

    store = mp.DatasetStore(tmp_path)
    store.commit(pd.DataFrame({"a": [1]}), name="t")
    with pytest.warns(DeprecationWarning, match="t:1") as load:
        store.load("t@1")  # load -> get -> parse_ref, all inside mlprod
    with pytest.warns(DeprecationWarning, match="t:1") as cli:
        main(["data", "show", "t@1", "--store", str(tmp_path)])
    assert [w.filename for w in [*load, *cli]] == [__file__, __file__]
