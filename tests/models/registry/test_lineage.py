"""Lineage: datasets → versions → aliases, parents and children, exports."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import mlprod as mp


class _DatasetVersion:
    def __init__(self, name: str, version: int, fingerprint: str) -> None:
        self.name, self.version, self.fingerprint = name, version, fingerprint


@pytest.fixture
def family(registry: mp.ModelRegistry) -> mp.ModelRegistry:
    train = _DatasetVersion("train", 3, "aa" * 16)
    extra = _DatasetVersion("extra", 1, "bb" * 16)
    base = registry.register("churn", {"w": 1}, datasets={"train": train})
    tuned = registry.register("churn", {"w": 2}, datasets={"train": train}, parents=[base])
    registry.register("churn-distilled", {"w": 3}, datasets={"extra": extra}, parents=["churn:2"])
    registry.register("other", {"w": 4})
    registry.set_alias("churn", "production", tuned.version)
    return registry


def test_upstream_and_downstream_of_a_version(family: mp.ModelRegistry) -> None:
    g = family.lineage("churn", 2)
    assert g.root == "model:churn:2"
    assert [n.id for n in g.upstream()] == ["dataset:train@3", "model:churn:1"]
    assert [n.id for n in g.downstream()] == [
        "model:churn-distilled:1",
        "alias:churn@production",
    ]
    assert g.node("dataset:train@3").attrs["fingerprint"] == "aa" * 16
    relations = {(e.source, e.relation, e.target) for e in g.edges}
    assert ("model:churn:1", "derived_from", "model:churn:2") in relations
    assert ("dataset:train@3", "trained_on", "model:churn:2") in relations
    assert ("model:churn:2", "alias", "alias:churn@production") in relations
    assert "model:other:1" not in {n.id for n in g.nodes}


def test_depth_limits_the_hops(family: mp.ModelRegistry) -> None:
    g = family.lineage("churn-distilled:1", depth=1)
    assert [n.id for n in g.upstream()] == ["dataset:extra@1", "model:churn:2", "dataset:train@3"]
    full = family.lineage("churn-distilled:1")
    assert "model:churn:1" in {n.id for n in full.upstream()}


def test_lineage_from_a_dataset_finds_the_models_trained_on_it(family: mp.ModelRegistry) -> None:
    g = family.lineage(_DatasetVersion("train", 3, "aa" * 16))
    assert g.root == "dataset:train@3"
    assert [n.id for n in g.downstream()] == [
        "model:churn:1",
        "model:churn:2",
        "model:churn-distilled:1",
        "alias:churn@production",
    ]


def test_lineage_from_frame_content(registry: mp.ModelRegistry) -> None:
    pd = pytest.importorskip("pandas")
    fingerprint = pytest.importorskip("mlprod.data.fingerprint").fingerprint
    frame = pd.DataFrame({"x": [1, 2, 3]})
    fp = fingerprint(frame)
    registry.register("m", {"w": 1}, datasets={"train": _DatasetVersion("train", 1, str(fp))})
    g = registry.lineage(fp)
    assert [n.id for n in g.downstream()] == ["dataset:train@1", "model:m:1"]


def test_mermaid_and_dict_exports(family: mp.ModelRegistry) -> None:
    g = family.lineage("churn", 2)
    text = g.to_mermaid()
    assert text.splitlines()[0] == "graph LR"
    assert '[("train v3")]' in text
    assert "-->|derived_from|" in text
    assert '{{"churn@production"}}' in text
    data = g.to_dict()
    assert data["root"] == "model:churn:2"
    assert len(data["nodes"]) == len(g.nodes)
    assert len(data["edges"]) == len(g.edges)
    assert "LineageGraph(root='model:churn:2'" in repr(g)
    assert repr(g.node("model:churn:1")) == (
        "LineageNode(id='model:churn:1', kind='model', label='churn v1')"
    )
    assert "derived_from" in g.summary()
    assert "<table>" in g._repr_html_()


def test_openlineage_run_events(family: mp.ModelRegistry) -> None:
    g = family.lineage("churn", 2)
    events = {e["outputs"][0]["name"]: e for e in g.to_openlineage(namespace="acme")}
    event = events["models/churn/2"]
    mv = family.get("churn", 2)
    assert event["eventType"] == "COMPLETE"
    assert event["run"]["runId"] == str(uuid.UUID(mv.digest[:32]))
    assert event["job"] == {"namespace": "acme", "name": "register.churn"}
    assert event["eventTime"] == mv.manifest["created_at"]
    assert sorted(i["name"] for i in event["inputs"]) == ["models/churn/1", "train"]
    facet = event["outputs"][0]["facets"]["mlprod_modelVersion"]
    assert facet["digest"] == mv.digest
    for e in events.values():
        assert {"eventType", "eventTime", "producer", "schemaURL", "run", "job"} <= set(e)


def test_lineage_takes_every_form_of_version_reference(family: mp.ModelRegistry) -> None:
    forms = [("churn", 2), "churn:2", family.get("churn", 2), "churn:production"]
    assert {family.lineage(ref).root for ref in forms} == {"model:churn:2"}


def test_lineage_of_unknown_version(family: mp.ModelRegistry) -> None:
    with pytest.raises(mp.NotFound):
        family.lineage("churn", 99)
    with pytest.raises(mp.ConfigurationError):
        family.lineage(12345)


def test_lineage_with_a_real_dataset_store(registry: mp.ModelRegistry, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    if not hasattr(mp, "DatasetStore"):
        pytest.skip("mp.DatasetStore is not available yet")
    store = mp.DatasetStore(tmp_path / "data")
    frame = pd.DataFrame({"a": [1, 2, 3]})
    train = store.commit(frame, name="train", message="first cut")
    mv = registry.register("m", {"w": 1}, datasets={"train": train})
    assert mv.datasets["train"] == {
        "kind": "dataset_version",
        "name": "train",
        "version": train.version,
        "fingerprint": str(train.fingerprint),
        "rows": 3,
    }
    assert [n.id for n in registry.lineage(train).downstream()] == ["model:m:1"]
    assert [n.id for n in registry.lineage(mp.fingerprint(frame)).downstream()] == [
        f"dataset:train@{train.version}",
        "model:m:1",
    ]


def test_a_diamond_is_walked_once_with_every_edge(registry: mp.ModelRegistry) -> None:
    registry.register("a", {"w": 0})
    registry.register("b", {"w": 1}, parents=["a:1"])
    registry.register("c", {"w": 2}, parents=["a:1"])
    registry.register("d", {"w": 3}, parents=["b:1", "c:1"])
    down = registry.lineage("a", 1)
    assert [n.id for n in down.downstream()] == ["model:b:1", "model:c:1", "model:d:1"]
    assert sorted((e.source, e.target) for e in down.edges) == [
        ("model:a:1", "model:b:1"),
        ("model:a:1", "model:c:1"),
        ("model:b:1", "model:d:1"),
        ("model:c:1", "model:d:1"),
    ]
    up = registry.lineage("d", 1)
    assert [n.id for n in up.upstream()] == ["model:b:1", "model:c:1", "model:a:1"]
    assert len(up.edges) == 4


def test_graph_parts_and_results_are_hashable_values(family: mp.ModelRegistry) -> None:
    g = family.lineage("churn", 2)
    assert len(set(g.nodes)) == len(g.nodes)
    assert len(set(g.edges)) == len(g.edges)
    assert set(g.upstream()) <= set(g.nodes)
    change = family.alias_history("churn", "production")[0]
    verdict = mp.gates.metric_threshold("auc", min=0.5)(family.get("churn", 1), None)
    for value in (change, verdict, family.verify()):
        assert hash(value) == hash(value)


def test_walking_from_a_node_not_in_the_graph_is_an_error_not_empty(
    family: mp.ModelRegistry,
) -> None:
    g = family.lineage("churn", 2)
    with pytest.raises(KeyError, match="model:churn:9"):
        g.upstream("model:churn:9")
    with pytest.raises(KeyError, match="did you mean 'model:churn:2', 'model:churn:1'"):
        g.downstream("model:churn:0")
    assert [n.id for n in g.upstream("model:churn:1")] == ["dataset:train@3"]
