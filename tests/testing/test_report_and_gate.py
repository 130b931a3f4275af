"""BehaviourReport renders and freezes; behaviour suites gate registry promotions."""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle

import pandas as pd
import pytest
from behaviour_models import Linear, OneRowCrash, OrderSensitive

import mlprod as mp
import mlprod.testing as mt

FAST = {"max_examples": 10, "database": False}


@pytest.fixture(scope="module")
def failing(X):
    return mt.check_predictor(
        OneRowCrash(), X, checks=["one_row", "empty", "predict_proba"], **FAST
    )


def test_report_lists_every_status_and_renders(failing, tmp_path):
    assert not failing.ok
    assert dict(failing.counts) == {"passed": 1, "failed": 1, "skipped": 1}
    text = failing.summary()
    assert "one_row" in text
    assert "failed" in text
    assert "no predict_proba" in text
    md = failing.to_markdown()
    assert "### Failure: one_row" in md
    assert "### Not covered" in md
    page = failing.to_html(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text() == page
    assert "<script" not in page
    assert "http" not in page.split("<body", 1)[1]
    assert "mlprod-callout-bad" in page
    assert failing._repr_html_().startswith("<style>")


def test_report_is_frozen_and_plain(failing):
    with pytest.raises(dataclasses.FrozenInstanceError):
        failing.subject = "other"  # type: ignore[misc]
    ce = failing["one_row"].counterexample
    ce.iloc[0, 0] = -1.0  # a copy: the report keeps its own
    assert failing["one_row"].counterexample.iloc[0, 0] != -1.0
    d = failing.to_dict()
    json.dumps(d)
    assert d["checks"][0]["counterexample"] is not None
    assert json.loads(failing.to_json())["ok"] is False
    assert repr(failing).startswith("BehaviourReport('OneRowCrash', ok=False")
    again = pickle.loads(pickle.dumps(failing))
    assert again.to_dict()["checks"] == d["checks"]
    with pytest.raises(KeyError, match="no check"):
        failing["nope"]


def test_reports_add_up(X, failing):
    other = mt.directional(Linear(), X, "income", **FAST)
    both = failing + other
    assert [c.name for c in both.checks] == [
        *(c.name for c in failing.checks),
        "directional(income)",
    ]
    assert both.subject == "suite"
    assert not both.ok
    with pytest.raises(mp.ConfigurationError):
        mt.BehaviourReport.combine([failing, "x"])


def test_assert_ok_message_shows_the_counterexample_frame(failing):
    with pytest.raises(AssertionError) as exc:
        failing.assert_ok()
    message = str(exc.value)
    assert "one_row" in message
    assert "minimal counterexample" in message
    assert "income" in message
    assert "region" in message


def _registry_with(tmp_path, X):
    reg = mp.ModelRegistry(tmp_path / "reg")
    good = reg.register("scorer", Linear(), actor="ana")
    bad = reg.register("scorer", OrderSensitive(), actor="ana")
    return reg, good, bad


def test_failing_suite_blocks_production_and_passing_one_promotes(tmp_path, X):
    reg, good, bad = _registry_with(tmp_path, X)
    loaded: list[int] = []

    def load(candidate):
        loaded.append(candidate.version)
        return reg.load(candidate)

    def suite(model):
        return mt.check_predictor(model, X, checks=["column_order", "one_row"], **FAST)

    gate = mt.behaviour_gate(suite, load=load)
    change = reg.set_alias("scorer", "production", good.version, gates=[gate], actor="bo")
    evidence = change.verdicts[0]["evidence"]
    assert change.verdicts[0]["passed"]
    assert evidence["report"]["counts"]["passed"] == 2
    assert evidence["digest"] == good.digest
    with pytest.raises(mp.GateFailed) as exc:
        reg.set_alias("scorer", "production", bad.version, gates=[gate], actor="bo")
    verdict = exc.value.failed[0]
    assert verdict.gate == "behaviour"
    assert "column_order" in verdict.message
    checks = {c["name"]: c for c in verdict.evidence["report"]["checks"]}
    assert checks["column_order"]["status"] == "failed"
    assert len(checks["column_order"]["counterexample"]) == 1
    assert reg.resolve("scorer", "production").version == good.version
    assert loaded == [good.version, bad.version]


def test_report_gate_and_a_suite_of_assertions(tmp_path, X):
    reg, _good, bad = _registry_with(tmp_path, X)
    report = mt.check_predictor(OrderSensitive(), X, checks=["column_order"], **FAST)
    with pytest.raises(mp.GateFailed):
        reg.set_alias("scorer", "production", bad.version, gates=[report.gate()])
    asserting = mt.behaviour_gate(
        lambda m: mt.assert_predictor(m, X, checks=["column_order"], **FAST), load=reg.load
    )
    with pytest.raises(mp.GateFailed) as exc:
        reg.set_alias("scorer", "production", bad.version, gates=[asserting])
    assert "column_order" in exc.value.failed[0].evidence["assertion"]


def test_gate_without_a_loader_explains_itself(tmp_path, X):
    reg, good, _ = _registry_with(tmp_path, X)
    gate = mt.behaviour_gate(lambda m: mt.check_predictor(m, X, checks=["empty"]))
    with pytest.raises(mp.GateFailed) as exc:
        reg.set_alias("scorer", "production", good.version, gates=[gate])
    assert "load=reg.load" in exc.value.failed[0].message
    # a model that predicts is its own candidate
    assert gate(Linear(), None).passed
    with pytest.raises(mp.ConfigurationError) as err:
        mt.behaviour_gate("suite")
    assert err.value.parameter == "suite"
    with pytest.raises(mp.ConfigurationError) as err:
        mt.behaviour_gate(lambda m: None, load="reg")
    assert err.value.parameter == "load"


def test_gate_satisfies_the_protocol():
    gate = mt.behaviour_gate(lambda m: mt.BehaviourReport("m"))
    assert isinstance(gate.name, str)
    params = inspect.signature(gate.__call__).parameters
    assert list(params)[:2] == ["candidate", "current"]
    assert "actor" in params
    verdict = gate(Linear(), None, actor="bo")
    assert verdict.passed is True
    assert verdict.gate == "behaviour"
    assert isinstance(verdict.evidence, dict)


def test_behaviour_decorator_asserts_and_writes_reports(tmp_path, X):
    @mt.behaviour(max_examples=5, database=False, report=tmp_path)
    def test_broken():
        return [mt.check_predictor(OneRowCrash(), X, checks=["one_row"])]

    with pytest.raises(AssertionError, match="one_row"):
        test_broken()
    saved = json.loads((tmp_path / "test_broken.json").read_text())
    assert saved["checks"][0]["counterexample"]
    assert (tmp_path / "test_broken.html").exists()

    @mt.behaviour
    def test_fine(model=None):
        return mt.check_predictor(Linear(), X, checks=["empty"])

    test_fine()
    assert list(inspect.signature(test_fine).parameters) == ["model"]

    @mt.behaviour()
    def test_wrong_return():
        return 3

    with pytest.raises(mp.ConfigurationError):
        test_wrong_return()


def test_public_names_have_docstrings_and_the_public_module():
    for name in mt.__all__:
        obj = getattr(mt, name)
        doc = inspect.getdoc(obj)
        assert doc, name
        assert len(doc.split()) >= 3, name
        assert obj.__module__ == "mlprod.testing", name
    assert sorted(mt.__all__) == mt.__all__


def test_import_mlprod_testing_does_not_import_sklearn():
    import subprocess
    import sys

    code = "import mlprod.testing, sys; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_holds_frames_as_read_only_records(X):
    report = mt.check_predictor(OneRowCrash(), X, checks=["one_row"], **FAST)
    frame = report["one_row"].counterexample
    assert isinstance(frame, pd.DataFrame)
    assert frame.dtypes.tolist() == X.dtypes.tolist()
