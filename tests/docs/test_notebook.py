"""The walkthrough notebook runs end to end and its reports render inline."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "examples" / "walkthrough.ipynb"
SRC = ROOT / "src"


def _cell(nb, marker):
    """The one code cell whose source contains ``marker``."""
    found = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {marker!r}"
    return found[0]


def _html(cell):
    return [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]


def _text(cell):
    parts = []
    for o in cell.outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif "text/plain" in o.get("data", {}):
            parts.append(o["data"]["text/plain"])
    return "".join(parts)


def test_notebook_is_stored_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 15
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Prove which mlprod the kernel imported: the tree under test, not an installed copy.
    nb.cells.append(nbformat.v4.new_code_cell("import mlprod\nprint(mlprod.__file__)"))
    work = tmp_path_factory.mktemp("walkthrough")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["MPLBACKEND"] = "Agg"
    env["TMPDIR"] = str(work)  # the notebook's temporary folder lands in pytest's
    # One OpenMP thread: gradient boosting's thread pool on a busy 2-core machine
    # (the behaviour checks call the model from several threads) is many times slower.
    env["OMP_NUM_THREADS"] = "1"
    client = nbclient.NotebookClient(
        nb,
        timeout=240,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute(env=env)
    return nb


def test_writes_under_its_temporary_folder(executed):
    work = Path(_text(executed.cells[1]).split("'")[1])
    assert work.name.startswith("mlprod-walkthrough-")
    assert (work / "audit.jsonl").is_file()
    assert (work / "registry").is_dir()
    assert (work / "data-store").is_dir()


def test_runs_against_the_tree_under_test(executed):
    path = Path(_text(executed.cells[-1]).strip())
    assert path.resolve().is_relative_to(SRC.resolve())


def test_reports_render_inline(executed):
    html = [h for c in executed.cells if c.cell_type == "code" for h in _html(c)]
    assert len(html) >= 10
    for h in html:
        assert "<script" not in h.lower()
    for marker in (
        "validation = schema.validate(raw)",
        "biased_fairness = mp.fairness_report(",
        "fixed_fairness = mp.fairness_report(",
        "explanation = mp.explain(",
        "behaviour = behaviour_suite(",
        "stats = g.stats()",
        "drift_report = mp.drift(",
        "reg.verify()",
        "mp.verify_audit_log(",
    ):
        assert _html(_cell(executed, marker)), f"no HTML output from the cell with {marker!r}"


def test_the_story_the_outputs_tell(executed):
    validation = _text(_cell(executed, "validation = schema.validate(raw)"))
    assert "6 failures" in validation

    biased = _text(_cell(executed, "biased_fairness = mp.fairness_report("))
    assert "'fail'" in biased

    refused = _cell(executed, "except mp.GateFailed")
    text = _text(refused)
    assert "'fairness': False" in text
    assert "'behaviour': True" in text
    (evidence,) = _html(refused)
    assert "selection_rate" in evidence
    assert "sex=female" in evidence

    promoted = _text(_cell(executed, "production = reg.resolve("))
    assert "version=2" in promoted

    stats = _text(_cell(executed, "stats = g.stats()"))
    assert "calls=40" in stats
    assert "'error':" in stats  # the injected failures, answered by the fallback
    assert "fallback_rate=0.000" not in stats
    assert "DRIFT: 6 of 8 judged columns" in _text(_cell(executed, "drift_report = mp.drift("))
    assert "credit@production" in _text(_cell(executed, "to_mermaid()"))
    assert "ok=True" in _text(_cell(executed, "reg.verify()"))
    assert "ok=True, records=40" in _text(_cell(executed, "mp.verify_audit_log("))
    fingerprint = re.search(
        r"Fingerprint\('([0-9a-f]+)'", _text(_cell(executed, "train_v.fingerprint"))
    )
    assert fingerprint is not None
    trace = _cell(executed, "mp.read_audit_log(")
    assert f"decided by credit v2, trained on train:1 (fingerprint {fingerprint[1]})" in _text(
        trace
    )
    assert "production then pointed at v2" in _text(trace)
    assert "contribution" in _html(trace)[0]

    reasons = _text(_cell(executed, "explanation.reasons(0)"))
    assert "the score" in reasons
