"""Checks on what :func:`mlprod.explain` is given: each failure names its argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlprod.errors import ConfigurationError

__all__ = ["check_background", "check_model", "check_nan", "check_x", "columns_of"]


def check_model(model: Any) -> None:
    """Refuse an object that cannot predict."""
    if not callable(getattr(model, "predict", None)):
        raise ConfigurationError(
            f"model: {type(model).__name__} has no predict method; pass a fitted model "
            "(any object with predict(X))",
            parameter="model",
            value=type(model).__name__,
        )


def _names(data: Any) -> list[str] | None:
    cols = getattr(data, "columns", None)
    return None if cols is None else [str(c) for c in cols]


def columns_of(model: Any, X: Any) -> list[str]:
    """The feature names the model was fitted on (or X's, or ``x0..``)."""
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None:
        return [str(c) for c in fitted]
    names = _names(X) if X is not None else None
    if names is not None:
        return names
    width = getattr(model, "n_features_in_", None)
    if width is None and X is not None:
        width = np.shape(X)[1]
    if width is None:
        raise ConfigurationError(
            "cannot tell the model's features: it records none and no data was given; "
            "pass background= (rows like the model's input)",
            parameter="background",
        )
    return [f"x{i}" for i in range(int(width))]


def check_x(model: Any, X: Any, *, parameter: str = "X") -> list[str]:
    """Refuse data whose columns are not the model's; returns the feature names."""
    if np.ndim(X) != 2:
        raise ConfigurationError(
            f"{parameter} must be 2-D (rows × features), got {np.ndim(X)} dimension(s)",
            parameter=parameter,
        )
    if len(X) == 0:
        raise ConfigurationError(f"{parameter} has no rows", parameter=parameter)
    fitted = getattr(model, "feature_names_in_", None)
    names = _names(X)
    if fitted is not None and names is not None:
        want = [str(c) for c in fitted]
        if names != want:
            unknown = [c for c in names if c not in want]
            missing = [c for c in want if c not in names]
            what = []
            if unknown:
                what.append(f"columns the model was not fitted on: {unknown[:10]}")
            if missing:
                what.append(f"missing columns: {missing[:10]}")
            if not what:
                what.append("the columns are in a different order")
            raise ConfigurationError(
                f"{parameter} does not match the model's features ({'; '.join(what)}); "
                f"select them with {parameter}[model.feature_names_in_]",
                parameter=parameter,
                value={"unknown": unknown, "missing": missing},
            )
        return want
    width = getattr(model, "n_features_in_", None)
    if width is not None and np.shape(X)[1] != width:
        raise ConfigurationError(
            f"{parameter} has {np.shape(X)[1]} columns but the model was fitted on {width}",
            parameter=parameter,
            value=np.shape(X)[1],
        )
    if fitted is not None:
        return [str(c) for c in fitted]  # a bare array is taken in the fitted column order
    return names if names is not None else [f"x{i}" for i in range(np.shape(X)[1])]


def check_background(model: Any, background: Any, columns: Sequence[str]) -> None:
    """Refuse a background whose width or columns differ from the model's."""
    if np.ndim(background) != 2 or np.shape(background)[1] != len(columns):
        width = np.shape(background)[1] if np.ndim(background) == 2 else np.ndim(background)
        raise ConfigurationError(
            f"background has {width} columns but the model takes {len(columns)} "
            f"({list(columns)[:10]}); pass rows with the same columns as X",
            parameter="background",
            value=width,
        )
    names = _names(background)
    if names is not None and names != list(columns):
        raise ConfigurationError(
            f"background's columns {names[:10]} are not the model's {list(columns)[:10]}",
            parameter="background",
        )
    if len(background) == 0:
        raise ConfigurationError("background has no rows", parameter="background")


# Tree ensembles whose own split rules route missing values.
_NAN_TREES = ("HistGradientBoosting", "XGB", "LGBM", "Booster")


def check_nan(data: Any, *, parameter: str, method: str, estimator: Any) -> None:
    """Refuse missing values where the chosen explainer cannot take them."""
    name = type(estimator).__name__
    if method == "tree" and name.startswith(_NAN_TREES):
        return
    if method == "permutation":
        return  # the model itself sees the rows; if it takes NaN, so does the explainer
    if hasattr(data, "select_dtypes"):
        numeric = data.select_dtypes("number").to_numpy(dtype=float)
    else:
        arr = np.asarray(data)
        numeric = arr.astype(float) if arr.dtype.kind in "biuf" else np.zeros((0, 0))
    if numeric.size and not np.isfinite(numeric.sum()):  # cheap check first
        rows = np.flatnonzero(~np.isfinite(numeric).all(axis=1))
        raise ConfigurationError(
            f"{parameter} has missing or infinite values in {len(rows)} row(s) "
            f"(positions {rows[:5].tolist()}), which the {method} explainer for {name} cannot "
            f"take; impute them (or put a SimpleImputer in the pipeline), or drop those rows",
            parameter=parameter,
            value=rows[:20].tolist(),
        )
