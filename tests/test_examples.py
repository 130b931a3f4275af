"""Every example a user reads runs: docstring examples, README and docs snippets.

Docstrings are run as doctests. Markdown files run their ```python blocks in
order, in one namespace per file, inside a temporary directory (so examples
may write files); blocks fenced as ```text or ```console are prose.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest

import mlprod

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _modules() -> list[str]:
    names = ["mlprod"]
    for info in pkgutil.walk_packages(mlprod.__path__, prefix="mlprod."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    if module_name == "mlprod":
        # Public classes report "mlprod" as their module, so doctest finds their
        # examples here, once each has been loaded into the package namespace.
        for name in mlprod.__all__:
            getattr(mlprod, name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in finder.find(module, module_name):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"


def _markdown_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [f for f in files if f.exists() and _FENCE.search(f.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_snippets_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__snippet__"}
    text = path.read_text(encoding="utf-8")
    for i, match in enumerate(_FENCE.finditer(text)):
        code = match.group(1)
        line = text[: match.start()].count("\n") + 2
        try:
            exec(compile(code, f"{path.name}:block{i}:line{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(
                f"{path.relative_to(ROOT)} block {i} (line {line}) failed: {exc!r}\n{code}"
            ) from exc
    assert os.getcwd() == str(tmp_path)
