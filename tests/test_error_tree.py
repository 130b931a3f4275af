"""The error tree drawn in errors.py and docs/architecture.md is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import mlprod as mp
import mlprod.errors as errors

ROOT = Path(__file__).resolve().parents[1]
_NODE = re.compile(r"^[\s│├└─]*([A-Z]\w+)(?: \((\w+)\))?\s*$")


def _drawn(text: str) -> dict[str, str | None]:
    """Error name -> the builtin base drawn beside it, from a box-drawing tree."""
    start = text.index("MlprodError (Exception)")
    out: dict[str, str | None] = {}
    for line in text[start:].splitlines():
        if not line.strip() or line.strip().startswith("```"):
            break
        match = _NODE.match(line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def _actual() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        builtin = [b.__name__ for b in cls.__bases__ if not issubclass(b, mp.MlprodError)]
        assert len(builtin) <= 1, name
        out[name] = builtin[0] if builtin else None
    return out


def test_tree_in_errors_module_is_the_hierarchy():
    assert _drawn(errors.__doc__ or "") == _actual()


def test_tree_in_the_docs_is_the_hierarchy():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert _drawn(text) == _actual()


def test_every_error_is_directly_under_mlprod_error():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if cls is not mp.MlprodError:
            assert mp.MlprodError in cls.__bases__, name
