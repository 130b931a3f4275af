"""Calling a model and comparing what it returns."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import ConfigurationError

__all__ = [
    "as_array",
    "check_model",
    "describe_error",
    "differ",
    "is_clear_error",
    "public",
    "score",
    "subject_of",
]

# Exceptions a model raises on purpose to refuse an input; anything else is a crash.
_CLEAR = (ValueError, TypeError)


def public(name: str) -> Any:
    """The public ``mlprod.<name>`` (``Schema``, ``fingerprint``), resolved on first use.

    By the public name rather than the defining module, so data/'s internal
    layout can change; the root's lazy table imports only the module behind
    ``name``, never a sibling layer.
    """
    return getattr(importlib.import_module("mlprod"), name)


def check_model(model: Any, argument: str = "model") -> None:
    """Refuse an object without a callable ``predict``."""
    if not callable(getattr(model, "predict", None)):
        raise ConfigurationError(
            f"{argument} must have a predict(X) method; got {type(model).__name__}. "
            "Pass a fitted estimator or any object with predict().",
            parameter=argument,
            value=type(model).__name__,
        )


def subject_of(model: Any) -> str:
    """A short name for the model in reports."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return "Pipeline(" + ", ".join(type(s[1]).__name__ for s in steps) + ")"
    return type(model).__name__


def is_clear_error(exc: BaseException) -> bool:
    """A deliberate refusal (``ValueError``/``TypeError``, mlprod's errors) rather than a crash."""
    from mlprod.errors import MlprodError

    return isinstance(exc, (*_CLEAR, MlprodError))


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def as_array(output: Any) -> np.ndarray:
    """A model's output as a numpy array (Series/DataFrame/list accepted)."""
    if isinstance(output, pd.DataFrame | pd.Series):
        output = output.to_numpy()
    return np.asarray(output)


def differ(a: Any, b: Any, tolerance: float = 0.0) -> str | None:
    """How two outputs differ (``None`` when they agree within ``tolerance``)."""
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape:
        return f"output shapes differ: {x.shape} vs {y.shape}"
    if x.size == 0:
        return None
    if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
        xf, yf = x.astype("float64"), y.astype("float64")
        both_nan = np.isnan(xf) & np.isnan(yf)
        gap = np.where(both_nan, 0.0, np.abs(xf - yf))
        gap = np.where(np.isnan(gap), np.inf, gap)
        worst = float(gap.max())
        if worst > tolerance:
            where = np.unravel_index(int(gap.argmax()), gap.shape)
            return (
                f"outputs differ by {worst:.6g} (tolerance {tolerance:g}) at "
                f"{tuple(map(int, where))}:"
                f" {xf[where].item()!r} vs {yf[where].item()!r}"
            )
        return None
    unequal = np.asarray(x != y, dtype=bool)
    if unequal.any():
        where = np.unravel_index(int(unequal.argmax()), unequal.shape)
        a_value, b_value = _plain(x[where]), _plain(y[where])
        return f"outputs differ at {tuple(map(int, where))}: {a_value!r} vs {b_value!r}"
    return None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def score(model: Any, X: Any) -> np.ndarray:
    """One number per row: the last class's probability for classifiers, else ``predict``."""
    proba = getattr(model, "predict_proba", None)
    if callable(proba):
        p = as_array(proba(X))
        if p.ndim == 2 and p.shape[1] >= 1:
            return p[:, -1].astype("float64")
    out = as_array(model.predict(X))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.dtype.kind not in "fiub":
        raise ConfigurationError(
            f"The model's predictions have dtype {out.dtype}, which has no order; directional "
            "checks need a numeric output or predict_proba.",
            parameter="model",
            value=str(out.dtype),
        )
    return out.astype("float64")
