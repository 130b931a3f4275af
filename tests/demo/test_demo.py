"""`mlprod demo` end to end on a small data set: what it writes and what it answers."""

from __future__ import annotations

import re

import pytest

import mlprod as mp
from mlprod.cli import main
from mlprod.demo import run_demo

pytest.importorskip("sklearn")

ROWS = 2_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    lines: list[str] = []
    result = run_demo(tmp_path_factory.mktemp("demo") / "out", rows=ROWS, seed=7, echo=lines.append)
    return result, lines


def test_every_step_reports_progress(demo):
    _, lines = demo
    steps = [int(m.group(1)) for line in lines if (m := re.match(r"\[(\d)/9\]", line))]
    assert steps == sorted(steps)
    assert steps[0] == 1
    assert steps[-1] == 9


def test_reports_are_self_contained_html(demo):
    result, _ = demo
    pages = [p for p in result.files.values() if p.suffix == ".html"]
    assert result.files["index"] in pages
    assert len(pages) >= 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!doctype html>")
        assert "<script" not in text.lower()
        # xmlns declarations name namespaces; nothing is fetched from them
        urls = re.findall(r'(?:src|href)="(https?:)?//', text)
        assert urls == [], page


def test_dirty_rows_are_caught_to_the_cell(demo):
    result, _ = demo
    assert len(result.facts["dirty_rows"]) == 6


def test_registry_and_audit_log_verify(demo):
    result, _ = demo
    assert result.facts["registry_verified"]
    assert result.facts["audit_verified"]
    reg = mp.ModelRegistry(result.out / "registry")
    assert reg.verify().ok
    assert mp.verify_audit_log(result.out / "audit.jsonl").ok


def test_production_is_the_fixed_model(demo):
    result, _ = demo
    reg = mp.ModelRegistry(result.out / "registry")
    production = reg.resolve("credit", "production")
    assert production.version == result.facts["production_version"] == 3
    assert "part_time" not in production.manifest["params"]["features"]


def test_trace_names_the_version_and_the_training_data(demo):
    result, _ = demo
    trace = result.facts["trace"]
    reg = mp.ModelRegistry(result.out / "registry")
    mv = reg.get("credit", trace["version"])
    assert trace["digest"] == mv.digest
    assert trace["train_fingerprint"] == result.facts["train_fingerprint"]
    assert trace["production_then"] == 3


def test_same_seed_same_numbers(demo, tmp_path):
    result, _ = demo
    again = run_demo(tmp_path / "again", rows=ROWS, seed=7, echo=lambda _: None)
    for key in ("train_fingerprint", "accuracy", "dirty_rows", "production_version"):
        assert again.facts[key] == result.facts[key]


def test_too_few_rows_is_a_clear_error(tmp_path):
    with pytest.raises(mp.ConfigurationError, match="rows=10"):
        run_demo(tmp_path, rows=10, echo=lambda _: None)


def test_cli_runs_the_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "cli"), "--rows", str(ROWS), "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "index.html" in out
    assert "[9/9]" in out


def test_index_page_is_not_blank_in_a_browser(demo, tmp_path):
    from browser import ink, screenshot

    result, _ = demo
    png = screenshot(result.files["index"], tmp_path / "index.png", height=900)
    assert ink(png) > 0.01


def test_the_fairness_gate_catches_the_injected_bias(demo):
    result, _ = demo
    assert result.facts["refused_gates"] == ["fairness"]
    evidence = " ".join(result.facts["fairness_evidence"])
    assert "selection rate" in evidence
    assert "sex=female" in evidence
    assert "fails the 0.8–1.25 ratio rule" in evidence
    assert (
        result.facts["selection_rate_ratio"]["gbm"]
        < 0.8
        <= result.facts["selection_rate_ratio"]["gbm_fixed"]
    )


def test_the_refusal_and_the_promotion_are_on_the_registry_chain(demo):
    result, _ = demo
    reg = mp.ModelRegistry(result.out / "registry")
    history = reg.alias_history("credit", "production")
    assert [change.version for change in history] == [3]
    events = reg.events(name="credit")
    kinds = [e["record"]["event"] for e in events]
    assert kinds[-2:] == ["alias.refused", "alias.set"]


def test_the_drifted_batch_is_flagged(demo):
    result, _ = demo
    assert {"income", "debt_ratio", "purpose"} <= set(result.facts["drifted_columns"])
    assert (result.out / "reports" / "drift.html").exists()


def test_behaviour_suite_passes_for_the_production_model(demo):
    result, _ = demo
    assert result.facts["behaviour_ok"]
