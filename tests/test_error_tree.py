"""The error tree drawn in errors.py and docs/architecture.md is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import mlprod as mp
import mlprod.errors as errors

ROOT = Path(__file__).resolve().parents[1]
_NODE = re.compile(r"^([\s│├└─]*)([A-Z]\w+)(?: \((\w+)\))?\s*$")


def _drawn(text: str) -> dict[str, tuple[str | None, str | None]]:
    """Error name -> (its parent in the drawing, the builtin base drawn beside it)."""
    start = text.index("MlprodError (Exception)")
    line_start = text.rindex("\n", 0, start) + 1
    margin = start - line_start
    out: dict[str, tuple[str | None, str | None]] = {}
    stack: list[str] = []
    for line in text[line_start:].splitlines():
        if not line.strip() or line.strip().startswith("```"):
            break
        match = _NODE.match(line)
        if not match:
            continue  # a description line
        depth = (len(match.group(1)) - margin) // 4
        del stack[depth:]
        name = match.group(2)
        out[name] = (stack[-1] if stack else None, match.group(3))
        stack.append(name)
    return out


def _actual() -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        ours = [b.__name__ for b in cls.__bases__ if issubclass(b, mp.MlprodError)]
        builtin = [b.__name__ for b in cls.__bases__ if not issubclass(b, mp.MlprodError)]
        assert len(builtin) <= 1, name
        assert len(ours) <= 1, name
        out[name] = (ours[0] if ours else None, builtin[0] if builtin else None)
    return out


def test_tree_in_errors_module_is_the_hierarchy():
    assert _drawn(errors.__doc__ or "") == _actual()


def test_tree_in_the_docs_is_the_hierarchy():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert _drawn(text) == _actual()


def test_every_error_descends_from_mlprod_error():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), mp.MlprodError), name
