"""The registry's public face: one vocabulary, references, frozen results, one renderer."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import mlprod as mp


def test_listing_pair_and_the_old_spellings(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1})
    registry.register("churn", {"w": 2})
    assert registry.names() == ["churn"]
    assert [v.version for v in registry.versions("churn")] == [1, 2]
    with pytest.warns(DeprecationWarning, match=r"use names\(\)"):
        assert registry.list_models() == ["churn"]
    with pytest.warns(DeprecationWarning, match=r"use versions\(name\)"):
        assert [v.version for v in registry.list_versions("churn")] == [1, 2]
    with pytest.raises(mp.NotFound):
        registry.versions("chrn")


def test_references_name_version_and_name_at_alias(registry: mp.ModelRegistry) -> None:
    registry.register("churn", {"w": 1})
    registry.register("churn", {"w": 2})
    registry.set_alias("churn", "production", 1)
    assert registry.get("churn:2").version == 2
    assert registry.get("churn@production").version == 1
    assert registry.load("churn@production") == {"w": 1}
    assert registry.get("churn:production").version == 1  # the older spelling still reads
    with pytest.raises(mp.NotFound):
        registry.get("churn@staging")


def _results(registry: mp.ModelRegistry) -> list[Any]:
    mv = registry.register("churn", {"w": 1}, params={"layers": [1, {"a": 2}]}, tags={"t": "x"})
    change = registry.set_alias("churn", "production", 1, gates=[mp.gates.four_eyes()], actor="b")
    with pytest.raises(mp.GateFailed) as info:
        registry.set_alias("churn", "staging", 1, gates=[mp.gates.metric_threshold("auc", min=1)])
    verdict = info.value.failed[0]
    return [mv, change, verdict, registry.lineage(mv), registry.verify(), registry.gc()]


def test_every_result_renders_through_one_mixin(registry: mp.ModelRegistry, tmp_path: Path) -> None:
    from mlprod._internal.render import Rendered

    for result in _results(registry):
        assert isinstance(result, Rendered), type(result)
        html = result.to_html()
        assert html.startswith("<")
        assert "<script" not in html
        page = tmp_path / f"{type(result).__name__}.html"
        written = result.to_html(page)
        assert page.read_text(encoding="utf-8") == written
        assert "<html" in written.lower()
        assert result.to_markdown().startswith("#")
        assert result.summary()
        assert result._repr_html_() == html
        assert pickle.loads(pickle.dumps(result)).to_dict() == result.to_dict()


def test_results_are_frozen_all_the_way_down(registry: mp.ModelRegistry) -> None:
    mv, change, verdict, _graph, check, _gc = _results(registry)
    assert isinstance(mv.params, Mapping)
    assert isinstance(mv.params["layers"], tuple)
    assert isinstance(mv.params["layers"][1], Mapping)
    with pytest.raises(TypeError):
        mv.params["layers"][1]["a"] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        mv.tags["t"] = "y"  # type: ignore[index]
    assert isinstance(change.verdicts, tuple)
    with pytest.raises(TypeError):
        change.verdicts[0]["passed"] = False  # type: ignore[index]
    assert isinstance(verdict.evidence, Mapping)
    with pytest.raises(TypeError):
        verdict.evidence["min"] = 0  # type: ignore[index]
    assert isinstance(check.chain, MappingProxyType)
    # Plain data stays plain.
    assert mv.to_dict()["manifest"]["params"] == {"layers": [1, {"a": 2}]}
    assert change.to_dict()["verdicts"][0]["passed"] is True


def test_public_registry_classes_name_mlprod(registry: mp.ModelRegistry) -> None:
    for cls in (mp.ModelVersion, mp.AliasChange, mp.LineageGraph, mp.RegistryVerification):
        assert cls.__module__ == "mlprod"
        assert getattr(mp, cls.__name__) is cls
    mv = registry.register("churn", {"w": 1})
    assert b"mlprod.models" not in pickle.dumps(mv)
    assert pickle.loads(pickle.dumps(mv)) == mv


def test_gate_factories_return_gates() -> None:
    import typing

    from mlprod.models import gates
    from mlprod.protocols import Gate

    for factory in (
        gates.metric_threshold,
        gates.beats_current,
        gates.signature_compatible,
        gates.four_eyes,
    ):
        assert typing.get_type_hints(factory)["return"] is Gate
