"""A synthetic credit-scoring data set with a documented, deliberately injected bias.

The demo needs data that looks like a lender's: numbers, categories and free
text, a protected attribute, a few dirty rows, and a bias a fairness report
should catch. Everything is generated from one seed, so two runs agree to
the byte.

How the bias is made
--------------------
Whether an applicant would repay (``repaid_true``) depends only on their
finances. The *recorded* label ``approved`` is what past loan officers
decided: for ``sex == "female"`` half of the applicants who would have
repaid was refused anyway. The column ``part_time`` is far more common among
women (85 % against 8 %) and says nothing about repayment: it is a proxy.
A model trained on ``approved`` with ``part_time`` among its features learns
to refuse women more often even though ``sex`` is not an input. The fix the
demo applies: drop the proxy and reweigh the training rows so that label
and group are independent (Kamiran and Calders, 2012).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "FEATURES_FIXED", "SENSITIVE", "TARGET", "credit_applications", "dirty"]

SENSITIVE = "sex"
TARGET = "approved"
FEATURES = (
    "age",
    "income",
    "debt_ratio",
    "years_employed",
    "late_payments",
    "part_time",
    "purpose",
    "region",
)
# The fixed model leaves the proxy out.
FEATURES_FIXED = tuple(f for f in FEATURES if f != "part_time")

_PURPOSES = ("car", "home", "education", "business", "medical")
_REGIONS = ("north", "south", "east", "west")
_EMPLOYERS = ("Acme Corp", "city council", "self-employed", "Globex", "hospital", "university")


def credit_applications(rows: int, *, seed: int) -> pd.DataFrame:
    """``rows`` clean loan applications with the bias described in the module docstring.

    Examples
    --------
    >>> from mlprod.demo._credit import credit_applications
    >>> df = credit_applications(500, seed=0)
    >>> df.shape
    (500, 12)
    >>> bool((df["age"] >= 18).all())
    True
    """
    rng = np.random.default_rng(seed)
    n = int(rows)
    sex = rng.choice(np.array(["female", "male"]), n, p=[0.45, 0.55])
    female = sex == "female"
    age = rng.integers(18, 76, n)
    income = np.round(rng.lognormal(10.6, 0.45, n), -1)
    debt_ratio = np.round(np.clip(rng.beta(2.0, 5.0, n), 0.0, 0.95), 3)
    years_employed = np.minimum(rng.poisson(np.clip((age - 18) / 5.0, 0.2, None)), age - 18)
    late_payments = rng.poisson(0.6 + 1.8 * debt_ratio, n)
    part_time = rng.random(n) < np.where(female, 0.85, 0.08)
    purpose = rng.choice(np.array(_PURPOSES), n, p=[0.3, 0.3, 0.15, 0.15, 0.1])
    region = rng.choice(np.array(_REGIONS), n)
    employer = rng.choice(np.array(_EMPLOYERS), n)
    # repayment depends on finances only
    score = (
        1.6 * (np.log(income) - 10.6)
        - 4.0 * (debt_ratio - 0.3)
        + 0.06 * (years_employed - 4)
        - 0.55 * late_payments
        + 0.35
        + rng.normal(0.0, 0.6, n)
    )
    repaid = score > 0
    # the recorded decisions: half of the good female applicants were refused
    refused_anyway = female & repaid & (rng.random(n) < 0.5)
    approved = repaid & ~refused_anyway
    return pd.DataFrame(
        {
            "applicant_id": np.arange(1, n + 1, dtype="int64"),
            "age": age.astype("int64"),
            "income": income.astype("float64"),
            "debt_ratio": debt_ratio.astype("float64"),
            "years_employed": years_employed.astype("int64"),
            "late_payments": late_payments.astype("int64"),
            "part_time": part_time,
            "purpose": pd.Categorical(purpose, categories=_PURPOSES),
            "region": pd.Categorical(region, categories=_REGIONS),
            "employer": pd.array(employer, dtype="string"),
            SENSITIVE: pd.Categorical(sex, categories=["female", "male"]),
            TARGET: approved.astype("int64"),
        }
    )


def dirty(df: pd.DataFrame, *, seed: int) -> tuple[pd.DataFrame, dict[int, str]]:
    """A copy of ``df`` with a few broken cells, and what was broken where (by index label).

    Examples
    --------
    >>> from mlprod.demo._credit import credit_applications, dirty
    >>> broken, where = dirty(credit_applications(200, seed=0), seed=0)
    >>> len(where)
    6
    """
    rng = np.random.default_rng(seed + 1)
    out = df.copy()
    picks = rng.choice(len(df), 6, replace=False)
    idx = [int(df.index[i]) for i in picks]
    out.loc[idx[0], "age"] = 7
    out.loc[idx[1], "age"] = 212
    out.loc[idx[2], "income"] = -2500.0
    out.loc[idx[3], "debt_ratio"] = 3.5
    out.loc[idx[4], "income"] = np.nan
    out.loc[idx[5], "late_payments"] = -1
    where = {
        idx[0]: "age 7 (below 18)",
        idx[1]: "age 212 (typo)",
        idx[2]: "negative income",
        idx[3]: "debt ratio 3.5 (above 1)",
        idx[4]: "income missing",
        idx[5]: "late payments -1",
    }
    return out, where


_CATEGORIES = {"purpose": _PURPOSES, "region": _REGIONS}


def encode(df: pd.DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    """The model's input frame: numbers as floats, categories one-hot (``purpose=car``).

    Every known category gets its column whether or not it occurs in ``df``
    (an unknown one sets none), and categories are matched by their text
    whatever the column's dtype (categorical, ``str``, object), so training,
    serving and drifted batches share one layout.
    """
    names: list[str] = []
    columns: list[np.ndarray] = []
    for col in features:
        s = df[col]
        if col in _CATEGORIES:
            if isinstance(s.dtype, pd.CategoricalDtype):
                labels = np.asarray(s.cat.categories.astype(str), dtype=object)
                codes = s.cat.codes.to_numpy()
                text = np.where(codes >= 0, labels[np.maximum(codes, 0)], "")
            else:
                text = s.astype("object").to_numpy()
            for cat in _CATEGORIES[col]:
                names.append(f"{col}={cat}")
                columns.append((text == cat).astype("float64"))
        else:
            names.append(col)
            columns.append(s.to_numpy(dtype="float64", na_value=np.nan))
    matrix = np.column_stack(columns) if columns else np.empty((len(df), 0))
    return pd.DataFrame(matrix, index=df.index, columns=names)


class CreditModel:
    """A fitted model behind the encoding: takes application rows as the lender stores them.

    What the registry holds and the gates judge: every version takes the same
    raw frame, whatever features it uses. ``model`` is the fitted estimator
    on the encoded frame (what the explanations look inside).
    """

    def __init__(self, model: object, features: tuple[str, ...]) -> None:
        self.model = model
        self.features = tuple(features)

    def encode(self, X: pd.DataFrame) -> pd.DataFrame:
        """The estimator's input for application rows ``X``."""
        return encode(X, self.features)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Approve (1) or refuse (0) each application."""
        return np.asarray(self.model.predict(self.encode(X)))  # type: ignore[attr-defined]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The probability of each class, refuse then approve."""
        return np.asarray(self.model.predict_proba(self.encode(X)))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"CreditModel({type(self.model).__name__}, features={list(self.features)})"


def reweighing(group: pd.Series, label: pd.Series) -> np.ndarray:
    """Kamiran–Calders weights making ``label`` independent of ``group`` in the weighted data.

    Each row weighs ``P(group) P(label) / P(group, label)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlprod.demo._credit import reweighing
    >>> w = reweighing(pd.Series(list("aabb")), pd.Series([1, 1, 1, 0]))
    >>> [round(float(v), 3) for v in w]
    [0.75, 0.75, 1.5, 0.5]
    """
    g = pd.Series(np.asarray(group), dtype="object")
    y = pd.Series(np.asarray(label))
    n = len(g)
    p_g = g.map(g.value_counts() / n)
    p_y = y.map(y.value_counts() / n)
    joint = pd.Series(list(zip(g, y)))
    p_gy = joint.map(joint.value_counts() / n)
    return np.asarray(p_g * p_y / p_gy, dtype="float64")


def drifted(df: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """A production batch six months on: lower incomes, more debt, a new loan purpose.

    Incomes fall by a fifth, debt ratios rise by 0.08, late payments double
    for a third of applicants, a tenth of loans are for ``"crypto"`` (a
    purpose the model never saw), and the region mix tilts north.

    Examples
    --------
    >>> from mlprod.demo._credit import credit_applications, drifted
    >>> batch = drifted(credit_applications(500, seed=0), seed=0)
    >>> "crypto" in set(batch["purpose"].astype(str))
    True
    """
    rng = np.random.default_rng(seed + 2)
    out = df.copy()
    n = len(out)
    out["income"] = np.round(out["income"] * 0.8, -1)
    out["debt_ratio"] = np.clip(out["debt_ratio"] + 0.08, 0.0, 0.95)
    late = out["late_payments"].to_numpy().copy()
    bump = rng.random(n) < 1 / 3
    late[bump] = late[bump] * 2 + 1
    out["late_payments"] = late.astype("int64")
    purpose = out["purpose"].astype("object").to_numpy().copy()
    purpose[rng.random(n) < 0.1] = "crypto"
    out["purpose"] = pd.Categorical(purpose, categories=[*_PURPOSES, "crypto"])
    region = out["region"].astype("object").to_numpy().copy()
    region[rng.random(n) < 0.3] = "north"
    out["region"] = pd.Categorical(region, categories=_REGIONS)
    return out
