"""Checking a fairness report's inputs and turning sensitive features into group codes.

Groups come from one factorisation per feature and one combination of the
codes (``ravel_multi_index``), never from ``groupby``: every later count is
a ``bincount`` over these codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import InvalidInput

__all__ = ["MISSING", "Groups", "Labels", "group_codes", "prepare_labels", "prepare_scores"]

MISSING = "<missing>"
_MAX_PRUNED_LISTED = 1000


@dataclass(frozen=True)
class Groups:
    """Rows' group codes ``0..G-1`` and what each group is."""

    codes: np.ndarray[Any, Any]
    features: tuple[str, ...]
    labels: tuple[tuple[Any, ...], ...]
    sizes: np.ndarray[Any, Any]
    pruned: tuple[tuple[Any, ...], ...]
    pruned_count: int
    frame: pd.DataFrame  # the sensitive features as given (for the fingerprint)


def _feature_frame(sensitive_features: Any, data: Any, n: int | None) -> pd.DataFrame:
    sf = sensitive_features
    if isinstance(sf, str) or (
        data is not None and isinstance(sf, Sequence) and sf and all(isinstance(c, str) for c in sf)
    ):
        cols = [sf] if isinstance(sf, str) else list(sf)
        if data is None:
            raise InvalidInput(
                f"sensitive_features={cols!r} names columns, but no data= frame was given to "
                "take them from. Pass data=df, or pass the columns themselves (df[cols]).",
                parameter="sensitive_features",
                found="column names without data=",
            )
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise InvalidInput(
                f"sensitive_features names {missing!r}, which data= does not have "
                f"(it has {list(map(str, data.columns))[:20]}).",
                parameter="sensitive_features",
                found=f"unknown columns {missing}",
            )
        return pd.DataFrame({str(c): data[c].to_numpy() for c in cols})
    if isinstance(sf, pd.DataFrame):
        return pd.DataFrame({str(c): sf[c].to_numpy() for c in sf.columns})
    if isinstance(sf, pd.Series):
        return pd.DataFrame({str(sf.name) if sf.name is not None else "sensitive_feature_0": sf})
    if isinstance(sf, Mapping):
        return pd.DataFrame({str(k): np.asarray(v, dtype=object) for k, v in sf.items()})
    arr = np.asarray(sf, dtype=object)
    if arr.ndim == 1:
        return pd.DataFrame({"sensitive_feature_0": arr})
    if arr.ndim == 2:
        return pd.DataFrame({f"sensitive_feature_{i}": arr[:, i] for i in range(arr.shape[1])})
    raise InvalidInput(
        f"sensitive_features must be 1-D or 2-D, got {arr.ndim} dimensions.",
        parameter="sensitive_features",
        found=f"{arr.ndim}-D array",
    )


def _factorise(values: Any) -> tuple[np.ndarray[Any, Any], list[Any]]:
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed types do not sort; keep first-seen order
        codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    labels = list(np.asarray(uniques, dtype=object).tolist())
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():  # missing values are a group of their own, named so
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING)
    return codes, labels


def group_codes(sensitive_features: Any, *, data: Any = None, n: int) -> Groups:
    """Factorise each feature, cross them, keep the non-empty intersections."""
    frame = _feature_frame(sensitive_features, data, n)
    if frame.shape[1] == 0:
        raise InvalidInput(
            "sensitive_features has no columns.", parameter="sensitive_features", found="0 columns"
        )
    if len(frame) != n:
        raise InvalidInput(
            f"sensitive_features has {len(frame):,} rows but y_true has {n:,}; they must "
            "describe the same rows in the same order.",
            parameter="sensitive_features",
            found=f"{len(frame)} rows, expected {n}",
        )
    per = [_factorise(frame[c]) for c in frame.columns]
    shape = tuple(len(lab) for _, lab in per)
    cells = int(np.prod(shape, dtype=np.float64))
    if len(per) == 1:
        combined = per[0][0]
    elif cells <= max(4 * n, 1 << 20):
        combined = np.ravel_multi_index(tuple(c for c, _ in per), shape)
    else:  # too many possible cells to count densely: unique of the observed ones
        stacked = np.stack([c for c, _ in per], axis=1)
        uniq, combined = np.unique(stacked, axis=0, return_inverse=True)
        labels = tuple(tuple(per[j][1][int(row[j])] for j in range(len(per))) for row in uniq)
        counts = np.bincount(combined.ravel(), minlength=len(uniq))
        return Groups(
            combined.ravel().astype(np.int64),
            tuple(frame.columns),
            labels,
            counts,
            (),
            cells - len(uniq),
            frame,
        )
    counts = np.bincount(combined, minlength=cells)
    present = np.flatnonzero(counts)
    lut = np.full(cells, -1, dtype=np.int64)
    lut[present] = np.arange(len(present))
    empty = np.flatnonzero(counts == 0)

    def cell_labels(cell_ids: np.ndarray[Any, Any]) -> tuple[tuple[Any, ...], ...]:
        idx = np.unravel_index(cell_ids, shape)
        return tuple(
            tuple(per[j][1][int(idx[j][i])] for j in range(len(per))) for i in range(len(cell_ids))
        )

    return Groups(
        lut[combined],
        tuple(frame.columns),
        cell_labels(present),
        counts[present],
        cell_labels(empty[:_MAX_PRUNED_LISTED]),
        len(empty),
        frame,
    )


@dataclass(frozen=True)
class Labels:
    """Targets and predictions as small integer codes (classification) or floats."""

    task: str  # "binary", "multiclass" or "regression"
    y_true: np.ndarray[Any, Any]
    y_pred: np.ndarray[Any, Any]
    classes: tuple[Any, ...]
    pos_label: Any
    note: str


def _array(name: str, values: Any) -> np.ndarray[Any, Any]:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInput(
                f"{name} must be one column, got a frame of {values.shape[1]}.",
                parameter=name,
                found=f"{values.shape[1]} columns",
            )
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series | pd.Index):
        arr = values.to_numpy(dtype=object) if values.hasnans else values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InvalidInput(
            f"{name} must be one value per row (1-D), got shape {arr.shape}.",
            parameter=name,
            found=f"shape {arr.shape}",
        )
    if arr.size == 0:
        raise InvalidInput(
            f"{name} is empty: a fairness report needs at least one row per group.",
            parameter=name,
            found="0 rows",
        )
    return arr


def _check_missing(name: str, arr: np.ndarray[Any, Any]) -> None:
    bad = pd.isna(arr) if arr.dtype.kind not in "iub" else None
    if bad is not None and bad.any():
        rows = np.flatnonzero(bad)
        raise InvalidInput(
            f"{name} has {len(rows):,} missing value(s) (rows {rows[:5].tolist()}"
            f"{' ...' if len(rows) > 5 else ''}); no metric is defined on them. Drop those rows "
            "(from every argument alike) or impute them before calling fairness_report.",
            parameter=name,
            found=f"{len(rows)} missing values",
        )


def _is_continuous(arr: np.ndarray[Any, Any]) -> bool:
    if arr.dtype.kind != "f":
        return False
    return bool((arr != np.round(arr)).any())


def prepare_labels(y_true: Any, y_pred: Any, *, pos_label: Any, task: str | None) -> Labels:
    """Validate targets and predictions and decide the task."""
    yt = _array("y_true", y_true)
    yp = _array("y_pred", y_pred)
    if len(yt) != len(yp):
        raise InvalidInput(
            f"y_true has {len(yt):,} rows but y_pred has {len(yp):,}; pass one prediction per row.",
            parameter="y_pred",
            found=f"{len(yp)} rows, expected {len(yt)}",
        )
    _check_missing("y_true", yt)
    _check_missing("y_pred", yp)
    if task is None:
        task = "regression" if _is_continuous(yt) else "classification"
    if task == "regression":
        try:
            return Labels(
                "regression", yt.astype(np.float64), yp.astype(np.float64), (), None, "regression"
            )
        except (TypeError, ValueError):
            raise InvalidInput(
                "task='regression' needs numeric y_true and y_pred.",
                parameter="y_true",
                found=str(yt.dtype),
            ) from None
    if _is_continuous(yp):
        raise InvalidInput(
            "y_pred holds fractional values but y_true holds class labels: y_pred must be the "
            "predicted class. Pass probabilities as y_score= and thresholded labels as y_pred "
            "(e.g. y_pred=(score >= 0.5)).",
            parameter="y_pred",
            found="continuous values with categorical y_true",
        )
    both = np.concatenate([yt.astype(object), yp.astype(object)])
    codes, uniques = pd.factorize(both, sort=True)
    classes = tuple(np.asarray(uniques, dtype=object).tolist())
    if pos_label is not None:
        if pos_label not in classes:
            raise InvalidInput(
                f"pos_label={pos_label!r} is not among the labels found {list(classes)[:10]}.",
                parameter="pos_label",
                found=f"labels {list(classes)[:10]}",
            )
        t = (yt == pos_label).astype(np.int64)
        p = (yp == pos_label).astype(np.int64)
        note = f"labels binarised: {pos_label!r} is positive, every other label negative"
        return Labels("binary", t, p, (0, 1), pos_label, note)
    if set(classes) <= {0, 1}:
        n = len(yt)
        return Labels(
            "binary",
            codes[:n].astype(np.int64) if classes == (0, 1) else (yt == 1).astype(np.int64),
            codes[n:].astype(np.int64) if classes == (0, 1) else (yp == 1).astype(np.int64),
            (0, 1),
            1,
            "binary labels: 1 is positive",
        )
    if len(classes) <= 2 or task == "binary":
        raise InvalidInput(
            f"y_true/y_pred hold labels {list(classes)[:10]}, not {{0, 1}}, so it is not clear "
            f"which is the positive outcome. Pass pos_label= (e.g. pos_label={classes[-1]!r}).",
            parameter="pos_label",
            found=f"labels {list(classes)[:10]}",
        )
    n = len(yt)
    note = (
        f"multiclass ({len(classes)} classes): accuracy, and per class the selection rate "
        "P(pred = k) and the true positive rate P(pred = k | true = k); pass pos_label= to "
        "binarise instead"
    )
    return Labels("multiclass", codes[:n], codes[n:], classes, None, note)


def prepare_scores(y_score: Any, n: int) -> np.ndarray[Any, Any]:
    """Validate scores: one probability in [0, 1] per row."""
    s = _array("y_score", y_score)
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    if len(s) != n:
        raise InvalidInput(
            f"y_score has {len(s):,} rows but y_true has {n:,}; pass one score per row.",
            parameter="y_score",
            found=f"{len(s)} rows, expected {n}",
        )
    try:
        s = s.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(
            "y_score must be numeric probabilities.", parameter="y_score", found=str(s.dtype)
        ) from None
    if np.isnan(s).any():
        _check_missing("y_score", s)
    outside = (s < 0) | (s > 1)
    if outside.any():
        rows = np.flatnonzero(outside)
        raise InvalidInput(
            f"y_score has {len(rows):,} value(s) outside [0, 1] (e.g. {s[rows[0]]:g} at row "
            f"{rows[0]}); it must be the probability of the positive class. Pass "
            "predict_proba(X)[:, 1], or squash margins with a sigmoid.",
            parameter="y_score",
            found=f"{len(rows)} values outside [0, 1]",
        )
    return s
