"""Registering and loading: sealed versions, digests checked before deserialising."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlprod as mp
from mlprod.models.version import manifest_digest


def test_register_then_load_round_trips_a_fitted_model(
    registry: mp.ModelRegistry, fitted_model: Any
) -> None:
    model, X = fitted_model
    mv = registry.register(
        "churn", model, params={"C": 1.0}, metrics={"auc": 0.91}, tags={"team": "risk"}, actor="ana"
    )
    assert (mv.name, mv.version, mv.registered_by) == ("churn", 1, "ana")
    assert mv.params == {"C": 1.0}
    assert mv.metrics == {"auc": 0.91}
    assert mv.tags == {"team": "risk"}
    assert mv.serializer == "joblib"
    assert mv.model_type == "sklearn.linear_model._logistic.LogisticRegression"
    loaded = registry.load("churn", 1)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert registry.get("churn") == mv
    assert registry.get("churn:1") == mv


def test_version_id_is_the_sha256_of_its_manifest(registry: mp.ModelRegistry) -> None:
    mv = registry.register("churn", {"w": 1}, params={"a": 1})
    assert mv.id == mv.digest == manifest_digest(dict(mv.manifest))
    assert mv.manifest["environment"] == mp.environment()
    model_file = mv.artifacts["model.joblib"]
    assert len(model_file["sha256"]) == 64
    assert model_file["size"] > 0


def test_versions_count_up_per_name(registry: mp.ModelRegistry) -> None:
    versions = [registry.register("a", {"i": i}).version for i in range(3)]
    versions.append(registry.register("b", {"i": 0}).version)
    assert versions == [1, 2, 3, 1]
    assert registry.names() == ["a", "b"]
    assert [v.version for v in registry.versions("a")] == [1, 2, 3]
    assert registry.get("a", "latest").version == 3


def test_loading_a_changed_artifact_raises_integrity_error_naming_the_file(
    registry: mp.ModelRegistry,
) -> None:
    mv = registry.register("churn", {"w": [1, 2, 3]})
    digest = mv.artifacts["model.joblib"]["sha256"]
    path = Path(registry.artifacts.where(digest))
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(mp.IntegrityError) as info:
        registry.load("churn", 1)
    assert info.value.path == str(path)
    assert info.value.expected == digest
    assert info.value.actual is not None
    assert info.value.actual != digest
    assert str(path) in str(info.value)


def test_load_checks_the_digest_before_deserialising(
    registry: mp.ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    mv = registry.register("churn", {"w": 1})
    path = Path(registry.artifacts.where(mv.artifacts["model.joblib"]["sha256"]))
    path.write_bytes(b"not the registered bytes")
    calls: list[bytes] = []
    monkeypatch.setattr(mp.JoblibSerializer, "loads", lambda self, data: calls.append(data))
    with pytest.raises(mp.IntegrityError):
        registry.load("churn", 1)
    assert calls == []


def test_a_missing_artifact_is_an_integrity_error(registry: mp.ModelRegistry) -> None:
    mv = registry.register("churn", {"w": 1})
    path = Path(registry.artifacts.where(mv.artifacts["model.joblib"]["sha256"]))
    path.unlink()
    with pytest.raises(mp.IntegrityError, match="missing") as info:
        registry.load("churn", 1)
    assert info.value.path == str(path)


def test_an_edited_manifest_row_is_refused_on_load(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1}, metrics={"auc": 0.7})
    t = registry._t
    with registry._sql.engine.begin() as conn:
        text = conn.execute(t.versions.select()).one().manifest
        conn.execute(t.versions.update().values(manifest=text.replace("0.7", "0.9")))
    with pytest.raises(mp.IntegrityError, match="changed in the database"):
        registry.load("churn", 1)


def test_unknown_names_versions_and_aliases_suggest_the_closest(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1})
    registry.set_alias("churn", "production", 1)
    with pytest.raises(mp.NotFound) as info:
        registry.load("chrun", 1)
    assert (info.value.kind, info.value.closest) == ("model", ["churn"])
    with pytest.raises(mp.NotFound) as info:
        registry.load("churn", 7)
    assert info.value.kind == "version"
    assert "1..1" in str(info.value)
    with pytest.raises(mp.NotFound) as info:
        registry.load("churn", "prodution")
    assert (info.value.kind, info.value.closest) == ("alias", ["production"])


class _WithLock:
    def __init__(self) -> None:
        self.coef = [1.0, 2.0]
        self.inner = {"callbacks": [threading.Lock()]}


def test_an_unpicklable_model_names_the_failing_attribute(registry: mp.ModelRegistry) -> None:
    with pytest.raises(mp.SerializationError) as info:
        registry.register("churn", _WithLock())
    assert "model.inner['callbacks'][0]" in str(info.value)
    assert "_thread.lock" in str(info.value)
    assert info.value.serializer == "joblib"
    assert registry.names() == []
    assert registry.verify().ok


def test_skops_serializer_is_recorded_and_used_to_load(
    registry: mp.ModelRegistry, fitted_model: Any
) -> None:
    model, X = fitted_model
    mv = registry.register("churn", model, serializer="skops")
    assert mv.serializer == "skops"
    assert list(mv.artifacts) == ["model.skops"]
    np.testing.assert_array_equal(registry.load("churn", 1).predict(X), model.predict(X))


def test_skops_refuses_untrusted_types_until_trusted(registry: mp.ModelRegistry) -> None:
    import collections

    registry.register("counts", collections.Counter("aab"), serializer="skops")
    with pytest.raises(mp.SerializationError, match=r"collections\.Counter") as info:
        registry.load("counts", 1)
    assert info.value.serializer == "skops"
    trusted = mp.SkopsSerializer(trusted=["collections.Counter"])
    assert registry.load("counts", 1, serializer=trusted) == {"a": 2, "b": 1}


class _Upper:
    name = "upper"
    extension = "txt"

    def dumps(self, obj: Any) -> bytes:
        return str(obj).upper().encode()

    def loads(self, data: bytes) -> Any:
        return data.decode()


def test_a_custom_serializer_plugs_in(make_registry: Any) -> None:
    reg = make_registry()
    reg.register("notes", "hello", serializer=_Upper())
    assert reg.load("notes", 1) == "HELLO"
    fresh = make_registry()
    with pytest.raises(mp.SerializationError, match="upper"):
        fresh.load("notes", 1)
    assert fresh.load("notes", 1, serializer=_Upper()) == "HELLO"


def test_bad_metric_and_param_values_are_rejected_with_the_key(registry: mp.ModelRegistry) -> None:
    with pytest.raises(mp.ConfigurationError, match=r"metrics\['auc'\]") as info:
        registry.register("churn", {"w": 1}, metrics={"auc": float("nan")})
    assert info.value.parameter == "metrics.auc"
    with pytest.raises(mp.ConfigurationError, match=r"params\['f'\]"):
        registry.register("churn", {"w": 1}, params={"f": object()})
    with pytest.raises(mp.ConfigurationError, match="Invalid model name"):
        registry.register("bad:name", {"w": 1})
    assert registry.names() == []


class _DatasetVersion:
    def __init__(self, name: str, version: int, fingerprint: str) -> None:
        self.name, self.version, self.fingerprint = name, version, fingerprint


def test_datasets_are_recorded_from_versions_fingerprints_and_frames(
    registry: mp.ModelRegistry,
) -> None:
    pd = pytest.importorskip("pandas")
    fingerprint = pytest.importorskip("mlprod.data.fingerprint").fingerprint
    frame = pd.DataFrame({"age": [30, 40], "city": ["a", "b"]})
    mv = registry.register(
        "churn",
        {"w": 1},
        datasets={
            "train": _DatasetVersion("train", 3, "ab" * 16),
            "holdout": fingerprint(frame),
            "live": frame,
        },
    )
    assert mv.datasets["train"] == {
        "kind": "dataset_version",
        "name": "train",
        "version": 3,
        "fingerprint": "ab" * 16,
    }
    assert mv.datasets["holdout"]["kind"] == "fingerprint"
    assert mv.datasets["holdout"]["fingerprint"] == str(fingerprint(frame))
    assert mv.datasets["holdout"]["rows"] == 2
    assert mv.datasets["live"] == mv.datasets["holdout"]
    with pytest.raises(mp.ConfigurationError, match="DatasetVersion"):
        registry.register("churn", {"w": 1}, datasets={"train": 42})


def test_signature_is_stored_as_json_and_rebuilt(registry: mp.ModelRegistry) -> None:
    schema_mod = pytest.importorskip("mlprod.data.validation")
    schema = schema_mod.Schema(
        {"age": schema_mod.Column("int64"), "city": schema_mod.Column("string", nullable=True)}
    )
    mv = registry.register("churn", {"w": 1}, signature=schema)
    fetched = registry.get("churn", 1)
    assert fetched.signature_json is not None
    assert fetched.signature == schema
    assert fetched.output_signature is None
    both = registry.register("churn", {"w": 1}, signature={"inputs": schema, "outputs": schema})
    assert both.output_signature == schema
    assert mv.digest != both.digest


def test_tags_and_descriptions_change_and_are_logged(registry: mp.ModelRegistry) -> None:
    mv = registry.register("churn", {"w": 1}, tags={"stage": "dev"}, description="first")
    registry.set_tag("churn", 1, "stage", "prod", actor="bo")
    registry.set_tag("churn", 1, "owner", "risk")
    registry.delete_tag("churn", 1, "owner")
    updated = registry.set_description("churn", 1, "baseline", actor="bo")
    assert updated.tags == {"stage": "prod"}
    assert updated.description == "baseline"
    assert updated.digest == mv.digest
    kinds = [e["record"]["event"] for e in registry.events()]
    assert kinds == ["model.registered", "tag.set", "tag.set", "tag.deleted", "description.set"]
    with pytest.raises(mp.NotFound):
        registry.delete_tag("churn", 1, "nope")
    assert registry.verify().ok


def test_search_filters_by_name_pattern_tags_and_metrics(registry: mp.ModelRegistry) -> None:
    registry.register("churn-eu", {"w": 1}, metrics={"auc": 0.71}, tags={"team": "risk"})
    registry.register("churn-eu", {"w": 2}, metrics={"auc": 0.86}, tags={"team": "risk"})
    registry.register("churn-us", {"w": 3}, metrics={"auc": 0.90}, tags={"team": "growth"})
    registry.register("fraud", {"w": 4}, metrics={"auc": 0.95})
    refs = lambda found: [v.ref for v in found]  # noqa: E731
    assert refs(registry.search("churn-*")) == ["churn-eu:1", "churn-eu:2", "churn-us:1"]
    assert refs(registry.search(tags={"team": "risk"}, metrics={"auc": "> 0.8"})) == ["churn-eu:2"]
    assert refs(registry.search(metrics={"auc": ">=0.9"}, order_by="-metrics.auc")) == [
        "fraud:1",
        "churn-us:1",
    ]
    assert refs(registry.search(tags={"team": None}, limit=1)) == ["churn-eu:1"]
    assert refs(registry.search(metrics={"auc": lambda v: v < 0.8})) == ["churn-eu:1"]
    with pytest.raises(mp.ConfigurationError, match="condition"):
        registry.search(metrics={"auc": "about 0.8"})
    with pytest.raises(mp.ConfigurationError, match="limit") as info:
        registry.search(limit=-1)
    assert info.value.parameter == "limit"


def test_model_version_presents_itself(registry: mp.ModelRegistry) -> None:
    mv = registry.register("churn", {"w": 1}, metrics={"auc": 0.9}, params={"C": 2})
    assert repr(mv).startswith("ModelVersion(name='churn', version=1, digest='")
    html = mv._repr_html_()
    assert "Model churn v1" in html
    assert "auc" in html
    data = mv.to_dict()
    assert data["digest"] == mv.digest
    assert data["manifest"]["metrics"] == {"auc": 0.9}
    assert "churn v1" in mv.summary()
    assert hash(mv) == hash(registry.get("churn", 1))


def test_a_missing_registry_is_not_created_when_create_is_false(tmp_path: Path) -> None:
    with pytest.raises(mp.ConfigurationError, match="No model registry"):
        mp.ModelRegistry(tmp_path / "nothing", create=False)
    with pytest.raises(mp.ConfigurationError, match="artifacts="):
        mp.ModelRegistry("sqlite:///" + str(tmp_path / "x.db"))
    with pytest.raises(mp.ConfigurationError, match="neither a local folder"):
        mp.ModelRegistry("s3://bucket/registry")


def test_a_sql_url_with_fsspec_artifacts_works(tmp_path: Path) -> None:
    reg = mp.ModelRegistry(
        "sqlite:///" + str(tmp_path / "meta.db"), artifacts="memory://mlprod-test-artifacts"
    )
    reg.register("churn", {"w": 1})
    assert reg.load("churn", 1) == {"w": 1}
    assert reg.verify().ok
    reg.close()


def test_parents_must_belong_to_this_registry(make_registry: Any, tmp_path: Path) -> None:
    reg = make_registry()
    other = mp.ModelRegistry(tmp_path / "other")
    foreign = other.register("churn", {"w": "elsewhere"})
    reg.register("churn", {"w": 1})
    with pytest.raises(mp.ConfigurationError, match="not the version of that name"):
        reg.register("churn", {"w": 2}, parents=[foreign])
    with pytest.raises(mp.NotFound):
        reg.register("churn", {"w": 2}, parents=["churn:9"])
    other.close()


def test_model_versions_pickle_and_deepcopy(registry: mp.ModelRegistry) -> None:
    import copy
    import pickle

    mv = registry.register("churn", {"w": 1}, metrics={"auc": 0.9}, tags={"t": 1})
    for clone in (pickle.loads(pickle.dumps(mv)), copy.deepcopy(mv)):
        assert clone == mv
        assert clone.metrics == {"auc": 0.9}
        assert clone.manifest == mv.manifest


def test_threads_sharing_one_registry_get_distinct_versions(registry: mp.ModelRegistry) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> list[int]:
        return [registry.register("churn", {"w": worker, "i": i}).version for i in range(10)]

    with ThreadPoolExecutor(4) as pool:
        results = [v for vs in pool.map(work, range(4)) for v in vs]
    assert sorted(results) == list(range(1, 41))
    assert registry.verify().ok


def test_reading_a_tampered_version_raises_instead_of_returning_it(
    registry: mp.ModelRegistry,
) -> None:
    registry.register("churn", {"w": 1}, metrics={"auc": 0.7})
    t = registry._t
    with registry._sql.engine.begin() as conn:
        text = conn.execute(t.versions.select()).one().manifest
        conn.execute(t.versions.update().values(manifest=text.replace("0.7", "0.9")))
    for read in (
        lambda: registry.get("churn", 1),
        lambda: registry.versions("churn"),
        lambda: registry.search("churn"),
        lambda: registry.lineage("churn", 1),
    ):
        with pytest.raises(mp.IntegrityError, match="changed in the database"):
            read()


def test_a_single_frame_with_a_name_column_is_recorded_as_data(registry: mp.ModelRegistry) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("mlprod.data.fingerprint")
    frame = pd.DataFrame({"name": ["a", "b"], "x": [1, 2]})
    assert list(registry.register("m", {"w": 1}, datasets=frame).datasets) == ["data"]


def test_a_tag_without_a_json_form_is_named_as_a_tag(registry: mp.ModelRegistry) -> None:
    with pytest.raises(mp.ConfigurationError, match=r"tags\['owner'\]") as info:
        registry.register("churn", {"w": 1}, tags={"owner": object()})
    assert info.value.parameter == "tags.owner"
    registry.register("churn", {"w": 1})
    with pytest.raises(mp.ConfigurationError, match=r"tags\['owner'\]") as info:
        registry.set_tag("churn", 1, "owner", object())
    assert info.value.parameter == "tags.owner"
    assert registry.get("churn", 1).tags == {}


@pytest.mark.postgres
def test_a_missing_registry_error_does_not_carry_the_password(tmp_path: Path) -> None:
    import os

    base = os.environ.get("MLPROD_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("set MLPROD_TEST_POSTGRES_URL (bash .ci/postgres.sh prints one)")
    import sqlalchemy as sa

    url = sa.engine.make_url(base).set(
        password="s3cret", query={"options": "-csearch_path=no_such_schema"}
    )
    with pytest.raises(mp.ConfigurationError, match="No model registry") as info:
        mp.ModelRegistry(
            url.render_as_string(hide_password=False), artifacts=tmp_path, create=False
        )
    assert "s3cret" not in str(info.value.to_dict())


def test_sql_urls_that_sqlalchemy_cannot_open_say_how_to_fix_them(tmp_path: Path) -> None:
    with pytest.raises(mp.ConfigurationError, match="mysql") as info:
        mp.ModelRegistry("mysql+nosuchdriver://u:pw@host/db", artifacts=tmp_path)
    assert info.value.parameter == "location"
    assert "pw" not in str(info.value.to_dict())
    with pytest.raises(mp.ConfigurationError, match="artifacts=") as info:
        mp.ModelRegistry("postgresql+psycopg://u:pw@host/db")
    assert "pw" not in str(info.value.to_dict())
    with pytest.raises(mp.ConfigurationError, match="notaport"):
        mp.ModelRegistry("postgresql+psycopg://u@host:notaport/db", artifacts=tmp_path)


@pytest.mark.postgres
def test_a_postgres_scheme_url_opens_postgresql(tmp_path: Path) -> None:
    import os

    base = os.environ.get("MLPROD_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("set MLPROD_TEST_POSTGRES_URL (bash .ci/postgres.sh prints one)")
    import sqlalchemy as sa

    # The scheme Heroku and many tools print; SQLAlchemy knows only postgresql.
    url = sa.engine.make_url(base).set(
        drivername="postgres", query={"options": "-csearch_path=no_such_schema"}
    )
    with pytest.raises(mp.ConfigurationError, match="No model registry"):
        mp.ModelRegistry(
            url.render_as_string(hide_password=False), artifacts=tmp_path, create=False
        )


def test_a_registry_written_by_a_newer_schema_is_refused(make_registry: Any) -> None:
    reg = make_registry()
    with reg._sql.engine.begin() as conn:
        conn.execute(reg._t.meta.update().values(schema_version=99))
    with pytest.raises(mp.ConfigurationError, match="schema version 99") as info:
        make_registry()
    assert info.value.value == 99


def test_a_tampered_record_error_names_the_version_and_what_changed(
    registry: mp.ModelRegistry,
) -> None:
    registry.register("churn", {"w": 1}, metrics={"auc": 0.7})
    registry.register("churn", {"w": 2})
    t = registry._t
    with registry._sql.engine.begin() as conn:
        v = t.versions
        text = conn.execute(v.select().where(v.c.version == 1)).one().manifest
        conn.execute(v.update().where(v.c.version == 1).values(manifest=text.replace("0.7", "0.9")))
        conn.execute(v.update().where(v.c.version == 2).values(tags="{not json"))
    with pytest.raises(mp.IntegrityError) as info:
        registry.get("churn", 1)
    assert "churn:1" in str(info.value)
    assert "manifest now hashes to" in str(info.value)
    with pytest.raises(mp.IntegrityError) as info:
        registry.get("churn", 2)
    assert "churn:2" in str(info.value)
    assert "tags are not JSON" in str(info.value)
    assert "hashes" not in str(info.value)


def test_a_string_that_is_not_a_fingerprint_is_not_recorded_as_one(
    registry: mp.ModelRegistry,
) -> None:
    with pytest.raises(mp.ConfigurationError, match=r"datasets\['train'\] = 'train\.csv'") as info:
        registry.register("churn", {"w": 1}, datasets={"train": "train.csv"})
    assert info.value.parameter == "datasets.train"
    assert "mp.fingerprint" in str(info.value)
    with pytest.raises(mp.ConfigurationError, match=r"datasets\['eval'\]"):
        registry.register("churn", {"w": 1}, datasets={"eval": 42})
    assert registry.names() == []
    mv = registry.register("churn", {"w": 1}, datasets={"train": "0123abcd" * 4})
    assert mv.datasets["train"] == {"kind": "fingerprint", "fingerprint": "0123abcd" * 4}


def _search_by_hand(
    registry: mp.ModelRegistry,
    tags: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    order_by: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """What search() means, spelled out over every version: the reference it must equal."""
    from mlprod.models import _inputs  # the conditions' parser, not the filtering

    every = [mv for name in registry.names() for mv in registry.versions(name)]
    conditions = {k: _inputs.condition(k, c) for k, c in (metrics or {}).items()}
    found = [
        mv
        for mv in every
        if all(k in mv.tags and (w is None or mv.tags[k] == w) for k, w in (tags or {}).items())
        and all(k in mv.metrics and cond(mv.metrics[k]) for k, cond in conditions.items())
    ]
    if order_by:
        desc, key = order_by.startswith("-"), order_by.lstrip("-")
        if key.startswith("metrics."):
            metric = key.split(".", 1)[1]
            have = [mv for mv in found if metric in mv.metrics]
            found = sorted(have, key=lambda mv: mv.metrics[metric], reverse=desc) + [
                mv for mv in found if metric not in mv.metrics
            ]
        else:
            by = (
                (lambda mv: (mv.name, mv.version))
                if key == "version"
                else (lambda mv: mv.created_at)
            )
            found = sorted(found, key=by, reverse=desc)
    return [mv.ref for mv in (found[:limit] if limit is not None else found)]


def test_search_answers_as_a_filter_over_every_version_would(registry: mp.ModelRegistry) -> None:
    # Tag values chosen to trip a filter pushed into SQL: LIKE wildcards and its
    # escape character, quotes, case (SQLite's LIKE ignores it), non-ASCII, numbers
    # equal across types, nested values, and a key that also appears as a value.
    tag_sets: list[dict[str, Any]] = [
        {"team": "risk", "pct": "50%", "under": "a_b"},
        {"team": "Risk", "pct": "50x", "under": "axb", "slash": "a\\b"},
        {"team": "risk", "quote": 'say "hi"', "n": 1, "flag": True},
        {"team": "rïsk", "n": 1.0, "nested": {"team": "risk"}, "list": [1, "risk"]},
        {"owner": "team", "n": 2, "flag": False},
        {},
    ]
    for i, tags in enumerate(tag_sets * 2):
        registry.register(
            "churn" if i % 3 else "fraud",
            {"i": i},
            tags=tags,
            metrics={"auc": 0.5 + i / 40, **({"f1": i / 20} if i % 2 else {})},
        )
    queries: list[dict[str, Any]] = [
        {},
        {"tags": {"team": "risk"}},
        {"tags": {"team": "Risk"}},
        {"tags": {"team": "rïsk"}},
        {"tags": {"team": None}},
        {"tags": {"pct": "50%"}},
        {"tags": {"under": "a_b"}},
        {"tags": {"slash": "a\\b"}},
        {"tags": {"quote": 'say "hi"'}},
        {"tags": {"n": 1}},
        {"tags": {"n": True}},
        {"tags": {"flag": 1}},
        {"tags": {"nested": {"team": "risk"}}},
        {"tags": {"list": [1, "risk"]}},
        {"tags": {"owner": "team"}},
        {"tags": {"team": "risk", "n": 1}},
        {"tags": {"missing": None}},
        {"metrics": {"auc": ">= 0.7"}},
        {"metrics": {"f1": "< 0.4"}, "tags": {"team": None}},
        {"limit": 3},
        {"limit": 0},
        {"tags": {"team": "risk"}, "limit": 2},
        {"order_by": "-metrics.f1", "limit": 4},
        {"order_by": "metrics.f1"},
        {"order_by": "-metrics.f1", "limit": 9},
        {"order_by": "-created_at", "limit": 5},
        {"order_by": "created_at"},
        {"order_by": "-version", "limit": 3, "tags": {"team": None}},
        {"order_by": "version", "limit": 20},
        {"order_by": "", "limit": 2},
    ]
    for query in queries:
        found = [mv.ref for mv in registry.search(**query)]
        assert found == _search_by_hand(registry, **query), query
        pattern = [mv.ref for mv in registry.search("chu*", **query)]
        assert (
            pattern
            == [
                r
                for r in _search_by_hand(registry, **{**query, "limit": None})
                if r.startswith("churn:")
            ][: query.get("limit")]
        ), query


def test_search_reads_only_the_versions_it_returns(
    registry: mp.ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        registry.register("churn", {"i": i}, tags={"slot": str(i)}, metrics={"auc": i / 30})
    built: list[str] = []
    original = mp.ModelVersion._from_row.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, *args: Any) -> Any:
        mv = original(cls, *args)
        built.append(mv.ref)
        return mv

    monkeypatch.setattr(mp.ModelVersion, "_from_row", classmethod(counting))
    assert [mv.ref for mv in registry.search("churn", tags={"slot": "7"})] == ["churn:8"]
    assert built == ["churn:8"]  # the tag filter ran in the database
    built.clear()
    assert [mv.version for mv in registry.search("churn", limit=2)] == [1, 2]
    assert built == ["churn:1", "churn:2"]  # reading stopped at the limit
    assert [mv.version for mv in registry.search(order_by="-metrics.auc", limit=2)] == [30, 29]


def test_a_frame_as_signature_stands_for_its_inferred_schema(registry: mp.ModelRegistry) -> None:
    frame = pd.DataFrame({"age": [31, 45], "plan": pd.Series(["a", "b"], dtype="category")})
    mv = registry.register("churn", {"w": 1}, signature=frame)
    assert registry.get("churn", mv.version).signature == mp.infer_schema(frame)
    both = registry.register("churn", {"w": 1}, signature={"inputs": frame, "outputs": frame})
    assert both.output_signature == mp.infer_schema(frame)


def test_a_frame_without_a_schema_is_refused_naming_why(registry: mp.ModelRegistry) -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(mp.ConfigurationError, match="'a'"):
        registry.register("churn", {"w": 1}, signature=frame)
    assert registry.search() == []  # nothing half-registered
