"""Which shap explainer a model gets, and the reusable :class:`ModelExplainer`.

``method="auto"`` picks shap's exact TreeExplainer for tree ensembles, the
LinearExplainer for linear models and a bounded permutation explainer for
anything else. A scikit-learn ``Pipeline`` is explained through its final
estimator and mapped back to its input columns when every preprocessing step
keeps track of which input column each output came from (scalers, imputers,
one-hot and ordinal encoders, column transformers of those); contributions of
the outputs of one input column are summed, which SHAP's additivity allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlprod._internal.lazy import optional_import
from mlprod.errors import ConfigurationError

__all__ = ["ModelExplainer", "explainer"]

_TREE_TYPES = (
    "RandomForestRegressor",
    "RandomForestClassifier",
    "ExtraTreesRegressor",
    "ExtraTreesClassifier",
    "GradientBoostingRegressor",
    "GradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
    "IsolationForest",
    "XGBRegressor",
    "XGBClassifier",
    "LGBMRegressor",
    "LGBMClassifier",
    "Booster",
)
# Trees whose shap implementation routes missing values as the model does.
_LINEAR_TYPES = (
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "Lasso",
    "LassoCV",
    "ElasticNet",
    "ElasticNetCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "SGDRegressor",
    "SGDClassifier",
    "HuberRegressor",
    "BayesianRidge",
)
# Preprocessing steps whose j-th output comes from their j-th input alone.
_ELEMENTWISE = (
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "RobustScaler",
    "OrdinalEncoder",
    "PowerTransformer",
    "QuantileTransformer",
    "FunctionTransformer",
    "Normalizer",
)


def _kind(estimator: Any) -> str:
    name = type(estimator).__name__
    if name in _TREE_TYPES:
        return "tree"
    if name in _LINEAR_TYPES:
        return "linear"
    return "permutation"


def _input_map(step: Any, n_inputs: int) -> list[int] | None:
    """For each output column of a fitted ``step``, the input column it came from."""
    name = type(step).__name__
    if step == "passthrough" or step is None:
        return list(range(n_inputs))
    if name == "Pipeline":
        current = list(range(n_inputs))
        for _, sub in step.steps:
            inner = _input_map(sub, len(current))
            if inner is None:
                return None
            current = [current[i] for i in inner]
        return current
    if name in _ELEMENTWISE:
        return list(range(n_inputs))
    if name == "SimpleImputer":
        if getattr(step, "add_indicator", False):
            return None
        stats = np.asarray(getattr(step, "statistics_", []), dtype=object)
        kept = [i for i in range(n_inputs) if not (stats.size and _is_nan(stats[i]))]
        return kept if getattr(step, "keep_empty_features", False) is False else None
    if name == "OneHotEncoder":
        out: list[int] = []
        drop = getattr(step, "drop_idx_", None)
        if getattr(step, "_infrequent_enabled", False):
            return None
        for i, cats in enumerate(step.categories_):
            n = len(cats) - (1 if drop is not None and drop[i] is not None else 0)
            out += [i] * n
        return out
    if name == "ColumnTransformer":
        return None  # handled with column names in _column_transformer_map
    return None


def _is_nan(value: Any) -> bool:
    try:
        return bool(np.isnan(value))
    except TypeError:
        return False


def _column_transformer_map(ct: Any, columns: Sequence[str]) -> list[int] | None:
    out: list[int] = []
    index = {c: i for i, c in enumerate(columns)}
    for _, trans, cols in ct.transformers_:
        if trans == "drop":
            continue
        if isinstance(cols, slice) or np.ndim(cols) == 0:
            return None
        picked = [
            index[c] if isinstance(c, str) else int(c)
            for c in (cols.tolist() if hasattr(cols, "tolist") else cols)
        ]
        if picked and isinstance(picked[0], bool | np.bool_):
            return None
        inner = _input_map(trans, len(picked))
        if inner is None:
            return None
        out += [picked[i] for i in inner]
    return out


@dataclass(frozen=True)
class _Plan:
    """How a model is explained: the estimator shap sees and how to map back."""

    estimator: Any
    preprocess: Any  # fitted transformer, or None
    method: str
    reason: str
    input_map: tuple[int, ...] | None  # transformed column -> input column
    transformed_names: tuple[str, ...]


def plan(model: Any, columns: Sequence[str], method: str) -> _Plan:
    """Decide which estimator shap sees, with which method, and why."""
    estimator, pre = model, None
    mapping: tuple[int, ...] | None = None
    names: tuple[str, ...] = tuple(columns)
    note = ""
    if type(model).__name__ == "Pipeline" and len(model.steps) > 1:
        estimator = model.steps[-1][1]
        inner_kind = _kind(estimator)
        pre = model[:-1]
        got: list[int] | None = []
        current = list(range(len(columns)))
        for _, step in pre.steps:
            if type(step).__name__ == "ColumnTransformer":
                sub = _column_transformer_map(step, [columns[i] for i in current])
            else:
                sub = _input_map(step, len(current))
            if sub is None:
                got = None
                break
            current = [current[i] for i in sub]
        if got is not None:
            got = current
        try:
            names = tuple(str(n) for n in pre.get_feature_names_out())
        except Exception:
            names = tuple(f"x{i}" for i in range(len(got) if got is not None else 0))
        if got is not None:
            mapping = tuple(got)
            note = " (pipeline: contributions mapped back to its input columns)"
        else:
            note = (
                " (pipeline: a preprocessing step mixes columns, so contributions are "
                "given for its transformed features, not its input columns)"
            )
        if method == "auto" and inner_kind == "permutation":
            # a model-agnostic explainer can work on the raw inputs directly
            return _Plan(
                model,
                None,
                "permutation",
                "no exact explainer fits the pipeline's final estimator "
                f"{type(estimator).__name__}; the permutation explainer works on the "
                "pipeline's input columns",
                None,
                tuple(columns),
            )
    kind = _kind(estimator)
    chosen = kind if method == "auto" else method
    if chosen not in ("tree", "linear", "permutation"):
        raise ConfigurationError(
            f"method={method!r} is not one of 'auto', 'tree', 'linear', 'permutation'",
            parameter="method",
            value=method,
        )
    if method == "auto":
        reason = {
            "tree": f"{type(estimator).__name__} is a tree ensemble: shap's TreeExplainer "
            "gives exact SHAP values in polynomial time",
            "linear": f"{type(estimator).__name__} is linear: shap's LinearExplainer gives "
            "exact values from its coefficients, against the background",
            "permutation": f"{type(estimator).__name__} is neither a tree ensemble nor "
            "linear: a permutation explainer with a bounded number of model evaluations",
        }[chosen]
    else:
        reason = f"method={method!r} was asked for"
    if chosen == "permutation" and pre is not None:
        return _Plan(
            model, None, "permutation", reason + " on the pipeline's inputs", None, tuple(columns)
        )
    return _Plan(estimator, pre, chosen, reason + note, mapping, names)


def output_space(estimator: Any, method: str, target: int | None) -> tuple[Any, str]:
    """The function whose value the explanation adds up to, and its name."""
    is_clf = hasattr(estimator, "classes_")
    name = type(estimator).__name__
    if not is_clf:
        return estimator.predict, "prediction"
    # shap explains trees of forests in probability, boosted trees and linear models in
    # their raw margin (log-odds); the check must compare in the same space
    margin = method == "linear" or (
        method == "tree" and ("Boosting" in name or name.startswith(("XGB", "LGBM")))
    )
    n_classes = len(estimator.classes_)
    k = (n_classes - 1) if target is None else target
    if margin and hasattr(estimator, "decision_function"):

        def f_margin(X: Any) -> Any:
            out = np.asarray(estimator.decision_function(X), dtype=float)
            return out if out.ndim == 1 else out[:, k]

        return f_margin, f"decision_function (log-odds) of class {_label(estimator.classes_[k])}"

    def f_proba(X: Any) -> Any:
        return np.asarray(estimator.predict_proba(X), dtype=float)[:, k]

    return f_proba, f"probability of class {_label(estimator.classes_[k])}"


def _select(values: Any, base: Any, n_classes: int | None, target: int | None) -> tuple[Any, Any]:
    v = np.asarray(values, dtype=float)
    b = np.asarray(base, dtype=float)
    if v.ndim == 3:
        k = (v.shape[2] - 1) if target is None else target
        v = v[:, :, k]
        b = b[..., k] if b.ndim and b.shape[-1] == v.shape[0] else np.ravel(b)[k] if b.ndim else b
    if b.ndim == 2:
        k = (b.shape[1] - 1) if target is None else target
        b = b[:, k]
    return v, b


class ModelExplainer:
    """A shap explainer built once for a model and background; satisfies ``Explainer``.

    Returned by :func:`mlprod.explainer`. ``explain_rows(X)`` returns an
    ``(n_rows, n_features)`` array of contributions in the model's output
    space, one column per entry of :attr:`feature_names` (a pipeline's input
    columns when its preprocessing allows). The guard calls it on sampled
    predictions to write their top contributions into the audit log.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> import mlprod as mp
    >>> X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 3})
    >>> model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, X["a"])
    >>> ex = mp.explainer(model)
    >>> ex.feature_names
    ('a', 'b')
    >>> ex.explain_rows(X.head(2)).shape
    (2, 2)
    """

    __module__ = "mlprod"

    def __init__(
        self,
        model: Any,
        background: Any = None,
        *,
        columns: Sequence[str],
        method: str = "auto",
        target_class: int | None = None,
        max_evals: int | None = None,
        random_state: int | None = None,
    ) -> None:
        shap = optional_import("shap", feature="explain")
        self._model = model
        self._columns = tuple(str(c) for c in columns)
        self._plan = plan(model, self._columns, method)
        self._target = target_class
        p = self._plan
        self.method: str = p.method
        self.reason: str = p.reason
        self.output, self.output_name = output_space(p.estimator, p.method, target_class)
        if p.preprocess is not None:
            inner_out = self.output
            pre = p.preprocess
            self.output = lambda X: inner_out(_dense(pre.transform(X)))
        bg = None if background is None else self._prepare(background)
        self._max_evals = max_evals
        if p.method == "tree":
            if bg is None:
                self._shap = shap.TreeExplainer(p.estimator)
            else:
                self._shap = shap.TreeExplainer(
                    p.estimator, data=bg, feature_perturbation="interventional"
                )
            self.background_kind = "none (tree path-dependent)" if bg is None else f"{len(bg)} rows"
        elif p.method == "linear":
            if bg is None:
                raise ConfigurationError(
                    "the linear explainer needs a background (the masker that sets the "
                    "expected value): pass background=X_train.sample(100)",
                    parameter="background",
                )
            self._shap = shap.LinearExplainer(p.estimator, bg)
            self.background_kind = f"{len(bg)} rows"
        else:
            if bg is None:
                raise ConfigurationError(
                    "the permutation explainer needs a background to mask features with: "
                    "pass background=X_train.sample(100)",
                    parameter="background",
                )
            self._frame_like = background
            masker = shap.maskers.Independent(bg, max_samples=len(bg))
            self._shap = shap.PermutationExplainer(self._raw_output, masker, seed=random_state)
            self.background_kind = f"{len(bg)} rows"
        self.n_background = 0 if bg is None else len(bg)

    def _raw_output(self, A: Any) -> Any:
        # shap hands the permutation explainer numpy rows; the model gets its own frame back
        return np.asarray(self.output(_like(A, self._columns, self._frame_like)), dtype=float)

    def _prepare(self, X: Any) -> Any:
        p = self._plan
        if p.method == "permutation":
            return _as_numpy(X)
        if p.preprocess is not None:
            return _dense(p.preprocess.transform(X))
        return _as_numpy(X)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the columns contributions are given for, in order."""
        p = self._plan
        if p.method == "permutation" or p.preprocess is None or p.input_map is not None:
            return self._columns
        return p.transformed_names

    def contributions(self, X: Any, *, max_evals: int | None = None) -> tuple[Any, Any]:
        """Explain ``X``: ``(values (n_rows, n_features), base_values (n_rows,))``."""
        p = self._plan
        data = self._prepare(X)
        n_classes = len(p.estimator.classes_) if hasattr(p.estimator, "classes_") else None
        if p.method == "tree":
            values = self._shap.shap_values(data, check_additivity=False)
            base = self._shap.expected_value
        elif p.method == "linear":
            values = self._shap.shap_values(data)
            base = self._shap.expected_value
        else:
            evals = max_evals or self._max_evals or default_max_evals(data.shape[1])
            exp = self._shap(data, max_evals=evals, silent=True)
            values, base = exp.values, exp.base_values
        v, b = _select(values, base, n_classes, self._target)
        b = np.broadcast_to(np.asarray(b, dtype=float), (v.shape[0],)).copy()
        if p.input_map is not None and p.preprocess is not None:
            mapped = np.zeros((v.shape[0], len(self._columns)))
            np.add.at(mapped.T, np.asarray(p.input_map), v.T)
            v = mapped
        return v, b

    def explain_rows(self, X: Any, /) -> Any:
        """Return an ``(n_rows, n_features)`` array of contributions to the output."""
        return self.contributions(X)[0]

    def __repr__(self) -> str:
        return (
            f"Explainer(method={self.method!r}, features={len(self.feature_names)}, "
            f"background={self.background_kind})"
        )


def default_max_evals(n_features: int) -> int:
    """shap's own default: ten permutations forward and back."""
    return 10 * (2 * n_features + 1)


def _dense(A: Any) -> Any:
    if hasattr(A, "toarray"):
        A = A.toarray()
    return np.asarray(A, dtype=float)


def _as_numpy(X: Any) -> Any:
    if hasattr(X, "to_numpy"):
        dtypes = getattr(X, "dtypes", None)
        if dtypes is not None and all(getattr(d, "kind", "O") in "biuf" for d in dtypes):
            return X.to_numpy(dtype=float)
        return X.to_numpy(dtype=object)
    return np.asarray(X)


def _like(A: Any, columns: Sequence[str], template: Any) -> Any:
    if hasattr(template, "columns"):
        pd = optional_import("pandas", feature="explain")
        frame = pd.DataFrame(A, columns=list(template.columns))
        return frame.astype(template.dtypes.to_dict())
    return A


def explainer(
    model: Any,
    background: Any = None,
    *,
    method: str = "auto",
    target_class: int | None = None,
    max_evals: int | None = None,
    random_state: int | None = None,
) -> ModelExplainer:
    """Build a reusable explainer for ``model`` (the audit trail's ``Explainer``).

    Built once (shap's explainer, the pipeline mapping, the output space);
    each :meth:`~ModelExplainer.explain_rows` call then costs only shap's
    work on those rows. Pass it to ``mp.guard(..., explainer=ex,
    explain_every=N)`` to record sampled predictions with their top
    contributions.

    Parameters
    ----------
    model:
        A fitted model with ``predict`` (scikit-learn estimator or pipeline).
    background:
        Rows standing for "typical" input (100 rows of the training data is
        plenty). Trees without one use shap's path-dependent algorithm; the
        linear and permutation explainers need one.
    method, target_class, max_evals, random_state:
        As for :func:`mlprod.explain`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> import mlprod as mp
    >>> X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 0.5})
    >>> ex = mp.explainer(LinearRegression().fit(X, 2 * X["a"]), X)
    >>> ex.method
    'linear'
    >>> round(float(ex.explain_rows(X.tail(1))[0, 0]), 6)
    19.0
    """
    from mlprod.reports.explain_inputs import check_background, check_model, columns_of

    check_model(model)
    columns = columns_of(model, background)
    if background is not None:
        check_background(model, background, columns)
    return ModelExplainer(
        model,
        background,
        columns=columns,
        method=method,
        target_class=target_class,
        max_evals=max_evals,
        random_state=random_state,
    )


def _label(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


explainer.__module__ = "mlprod"  # documented and reported under its public path
