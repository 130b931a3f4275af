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
