"""The public surface: __all__, docstrings, the typing block, lazy loading."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import mlprod as mp

HEAVY = ("shap", "fairlearn", "matplotlib", "sklearn", "sqlalchemy", "hypothesis", "dask")


def test_all_equals_public_names():
    for name in mp.__all__:
        getattr(mp, name)  # load everything, so vars() holds every public object
    exposed = {
        n
        for n, v in vars(mp).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    namespaces = {n for n, (_, attr) in mp._LAZY.items() if not attr}
    assert set(mp.__all__) == exposed | namespaces | {"__version__"}
    assert sorted(dir(mp)) == sorted(mp.__all__)
    assert len(mp.__all__) == len(set(mp.__all__))


@pytest.mark.parametrize("name", [n for n in mp.__all__ if n != "__version__"])
def test_every_public_name_resolves_and_has_a_docstring(name):
    obj = getattr(mp, name)
    doc = inspect.getdoc(obj)
    assert doc, f"mlprod.{name} has no docstring"
    assert len(doc.split()) >= 3, f"mlprod.{name} has a too-short docstring: {doc!r}"


def test_typing_block_matches_lazy_table():
    """What IDEs see (the TYPE_CHECKING imports) is exactly what runs (_LAZY)."""
    source = Path(mp.__file__).read_text()
    tree = ast.parse(source)
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
    )
    seen: dict[str, str] = {}
    for node in ast.walk(block):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                seen[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    lazy = mp._LAZY
    assert set(seen) == set(lazy)
    for name, (module, attr) in lazy.items():
        expected = f"{module}.{attr}" if attr else module
        assert seen[name] == expected, name


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mp.nope


def test_version_is_a_string():
    assert mp.__version__ == "0.1.0"


@pytest.mark.parametrize("code", ["import mlprod", "import mlprod as mp; mp.MlprodError"])
def test_import_is_light(code):
    probe = (
        f"{code}\nimport sys\n"
        f"print(','.join(m for m in {HEAVY!r} if any(k == m or k.startswith(m + '.') "
        "for k in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing mlprod pulled in heavy modules: {out}"


def _public_objects():
    for name in mp.__all__:
        obj = getattr(mp, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj


@pytest.mark.parametrize("name", [n for n, _ in _public_objects()])
def test_every_public_class_and_function_reports_the_public_module(name):
    obj = getattr(mp, name)
    assert obj.__module__ == "mlprod", f"mlprod.{name} reports {obj.__module__}"
    assert getattr(mp, obj.__name__) is obj


def test_guard_returns_only_public_types():
    class Proba:
        def predict(self, X):
            return X

        def predict_proba(self, X):
            return X

    for model in (lambda X: X, Proba()):
        kind = type(mp.guard(model))
        assert kind.__name__ in mp.__all__
        assert getattr(mp, kind.__name__) is kind


def _validation_report():
    import pandas as pd

    schema = mp.Schema({"x": mp.Column("int64", checks=[mp.checks.ge(0)])}, name="t")
    return schema.validate(pd.DataFrame({"x": [1, -2, -3]}))


def _dataset_diff():
    import pandas as pd

    a = pd.DataFrame({"id": [1, 2, 3], "x": [1.0, 2.0, 3.0]})
    b = pd.DataFrame({"id": [2, 3, 4], "x": [2.0, 3.5, 4.0]})
    return mp.DatasetDiff.compute(a, b, key="id")


def _fingerprint():
    import pandas as pd

    return mp.fingerprint(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))


def _dataset_version(tmp_path):
    import pandas as pd

    return mp.DatasetStore(tmp_path).commit(pd.DataFrame({"a": [1, 2]}), name="t", message="m")


# Public results: (class, a factory taking tmp_path). Other areas add theirs.
def _registry(tmp_path):
    reg = mp.ModelRegistry(tmp_path / "reg")
    mv = reg.register("m", {"w": 1}, metrics={"auc": 0.9}, actor="ana")
    change = reg.set_alias("m", "production", mv.version, actor="bo")
    return reg, mv, change


def _lineage(tmp_path):
    reg, mv, _ = _registry(tmp_path)
    return reg.lineage(mv)


def _guarded(tmp_path):
    class Constant:
        def predict(self, X):
            return [0.0] * len(X)

    audit = mp.AuditLog(tmp_path / "audit.jsonl")
    g = mp.guard(Constant(), audit=audit)
    g.predict([[1.0]])
    audit.close()
    g.close()
    return g, tmp_path / "audit.jsonl"


def _fairness():
    import numpy as np

    rng = np.random.default_rng(0)
    return mp.fairness_report(
        rng.integers(0, 2, 400),
        rng.integers(0, 2, 400),
        sensitive_features=rng.choice(["a", "b"], 400),
        n_boot=20,
        random_state=0,
    )


def _drift():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ref = mp.profile(pd.DataFrame({"x": rng.normal(size=500)}))
    return mp.drift(ref, pd.DataFrame({"x": rng.normal(1.0, 1.0, size=500)}))


def _explanation():
    import numpy as np
    import pandas as pd
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    model = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, X["a"] * 2 + X["b"])
    return mp.explain(model, X, random_state=0, progress=False)


RESULTS = [
    (mp.ValidationReport, lambda tmp_path: _validation_report()),
    (mp.DatasetDiff, lambda tmp_path: _dataset_diff()),
    (mp.Fingerprint, lambda tmp_path: _fingerprint()),
    (mp.DatasetVersion, _dataset_version),
    (mp.ModelVersion, lambda tmp_path: _registry(tmp_path)[1]),
    (mp.AliasChange, lambda tmp_path: _registry(tmp_path)[2]),
    (mp.RegistryVerification, lambda tmp_path: _registry(tmp_path)[0].verify()),
    (mp.LineageGraph, _lineage),
    (mp.GuardStats, lambda tmp_path: _guarded(tmp_path)[0].stats()),
    (mp.AuditVerification, lambda tmp_path: mp.verify_audit_log(_guarded(tmp_path)[1])),
    (mp.FairnessReport, lambda tmp_path: _fairness()),
    (mp.DriftReport, lambda tmp_path: _drift()),
    (mp.ExplanationReport, lambda tmp_path: _explanation()),
]


@pytest.mark.parametrize(("cls", "make"), RESULTS, ids=[c.__name__ for c, _ in RESULTS])
def test_public_results_pickle_under_the_public_path(cls, make, tmp_path):
    import pickle
    import re

    result = make(tmp_path)
    assert type(result) is cls
    data = pickle.dumps(result)
    paths = set(re.findall(rb"mlprod[\w.]*(?![-\w])", data))
    assert paths <= {b"mlprod", b"mlprod.data.checks"}, paths
    back = pickle.loads(data)
    assert type(back) is cls
    assert back.to_dict() == result.to_dict()


@pytest.mark.parametrize(("cls", "make"), RESULTS, ids=[c.__name__ for c, _ in RESULTS])
def test_public_results_have_the_whole_rendering_set(cls, make, tmp_path):
    import json
    import re

    result = make(tmp_path)
    text = result.summary()
    assert isinstance(text, str)
    assert text.strip()
    markdown = result.to_markdown()
    assert markdown.lstrip().startswith("#")
    html = result.to_html()
    assert html == result.to_html(path=None) == result._repr_html_()
    assert "<h3>" in html
    page = tmp_path / "result.html"
    written = result.to_html(page)
    assert page.read_text(encoding="utf-8") == written
    assert written.startswith("<!DOCTYPE html>") or "<html" in written
    json.dumps(result.to_dict())
    # self-contained: nothing runs, nothing is fetched
    for doc in (html, written):
        assert "<script" not in doc.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", doc, re.I)
        # inline SVG refers to its own clip paths (url(#...)); nothing else
        assert not re.search(r"url\((?!#|data:)", doc, re.I)


def test_a_validation_reports_failures_cannot_be_changed_from_outside():
    import pandas as pd

    report = mp.Schema({"x": mp.Column("int64", checks=[mp.checks.ge(0)])}).validate(
        pd.DataFrame({"x": [-1, 2]})
    )
    frame = report.failures
    frame.loc[0, "value"] = 99
    frame.drop(index=frame.index, inplace=True)
    assert report.failures["value"].tolist() == [-1]
