"""The search behind every property: draw inputs, find a failure, shrink it.

Each behaviour check is a function ``fails(example) -> str | None`` (a
description of what went wrong, or ``None``) searched over a hypothesis
strategy with :func:`hypothesis.find`, which shrinks the first failure to the
smallest input that still fails and saves it in hypothesis' example database
under a key naming the check, the model's type and the data, so a rerun
replays the saved counterexample before drawing anything new.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mlprod._internal.lazy import optional_import
from mlprod.errors import ConfigurationError

__all__ = ["configure", "report_dir", "search", "search_settings", "searching"]

# Set by @behaviour and the pytest plugin; explicit arguments win over it.
_OVERRIDES: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "mlprod_testing_overrides", default=None
)


# Session-wide defaults set by the pytest plugin (below the per-call overrides).
_DEFAULTS: dict[str, Any] = {}


def configure(**defaults: Any) -> None:
    """Set session defaults (``max_examples``, ``database``, ``report_dir``); ``None`` clears."""
    for key, value in defaults.items():
        if value is None:
            _DEFAULTS.pop(key, None)
        else:
            _DEFAULTS[key] = value


def report_dir() -> Any:
    """Where @behaviour writes reports by default (the plugin's ``--mlprod-report-dir``)."""
    return (_OVERRIDES.get() or {}).get("report_dir", _DEFAULTS.get("report_dir"))


@contextlib.contextmanager
def searching(**overrides: Any) -> Iterator[None]:
    """Run the enclosed checks with ``max_examples=``/``database=`` overrides."""
    merged = {**(_OVERRIDES.get() or {}), **{k: v for k, v in overrides.items() if v is not None}}
    token = _OVERRIDES.set(merged)
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


def search_settings(max_examples: int | None = None, database: Any = None) -> Any:
    """The hypothesis settings a search runs under.

    ``max_examples`` and ``database`` default to the overrides in effect, then
    to hypothesis' loaded profile. ``database`` may be a directory path, a
    hypothesis database object, or ``False`` for none. The deadline is off: a
    slow model is not a behaviour failure (time it with a benchmark).
    """
    hyp = optional_import("hypothesis", feature="mlprod.testing", extra="testing")
    overrides = {**_DEFAULTS, **(_OVERRIDES.get() or {})}
    if max_examples is None:
        max_examples = overrides.get("max_examples")
    if database is None:
        database = overrides.get("database")
    base = hyp.settings.default
    n = base.max_examples if max_examples is None else max_examples
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigurationError(
            f"max_examples must be a positive integer, got {n!r}.",
            parameter="max_examples",
            value=n,
        )
    if database is None:
        db = base.database
    elif database is False:
        db = None
    elif isinstance(database, str | os.PathLike):
        db = optional_import(
            "hypothesis.database", feature="mlprod.testing", extra="testing"
        ).DirectoryBasedExampleDatabase(os.fspath(database))
    else:
        db = database
    # No explain phase: it reruns the shrunk example many times to annotate a
    # traceback nobody sees here, and dominates the cost of a failing check.
    phases = [p for p in base.phases if p is not hyp.Phase.explain]
    return hyp.settings(
        base,
        max_examples=n,
        database=db,
        deadline=None,
        phases=phases,
        verbosity=hyp.Verbosity.quiet,
    )


@dataclass(frozen=True)
class Outcome:
    """What a search found: the minimal failing example (or none) and the effort."""

    example: Any
    problem: str | None
    examples: int


def database_key(*parts: Any) -> bytes:
    """A stable key for the example database from the parts naming a search."""
    text = "\x1f".join(str(p) for p in ("mlprod.testing", *parts))
    return hashlib.sha256(text.encode("utf-8")).digest()


def search(
    strategy: Any,
    fails: Callable[[Any], str | None],
    *,
    key: bytes,
    settings: Any,
) -> Outcome:
    """Search ``strategy`` for an example where ``fails`` returns a description.

    An :class:`~mlprod.ConfigurationError` raised by ``fails`` (a bad
    argument discovered on a drawn example, such as a perturbation that
    changes the frame's shape) stops the search and is re-raised.
    """
    hyp = optional_import("hypothesis", feature="mlprod.testing", extra="testing")
    calls = 0
    problem: list[str | None] = [None]
    bad_argument: list[ConfigurationError] = []

    def condition(example: Any) -> bool:
        nonlocal calls
        calls += 1
        if bad_argument:
            return True  # collapse the search at once; the error is re-raised below
        try:
            found = fails(example)
        except ConfigurationError as exc:
            bad_argument.append(exc)
            return True
        if found is None:
            return False
        problem[0] = found
        return True

    try:
        example = hyp.find(strategy, condition, settings=settings, database_key=key)
    except hyp.errors.NoSuchExample:
        if calls == 0:
            # a pass over no input would be coverage that never happened
            raise ConfigurationError(
                "The data strategy produced no input at all (it is empty, or its filters "
                "reject everything), so nothing was tested. Pass a DataFrame of real rows or "
                "a strategy that yields frames, e.g. mt.frames(schema).",
                parameter="data",
                value=repr(strategy)[:200],
            ) from None
        return Outcome(None, None, calls)
    except hyp.errors.Unsatisfiable as exc:
        raise ConfigurationError(
            f"The data strategy could not produce inputs to test ({type(exc).__name__}: "
            f"{exc}). Loosen the strategy's filters or pass data the model accepts.",
            parameter="data",
            value=repr(strategy)[:200],
        ) from exc
    if bad_argument:
        raise bad_argument[0]
    return Outcome(example, problem[0], calls)
