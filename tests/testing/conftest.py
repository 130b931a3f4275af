"""Fixtures for the behaviour-testing tests: sample data and fitted scikit-learn models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The test models live in a plain module so pickle finds them by name.
sys.path.insert(0, str(Path(__file__).parent))

from behaviour_models import sample, target


@pytest.fixture(scope="module")
def X():
    return sample()


@pytest.fixture(scope="module")
def sklearn_models(X):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    y = target(X)
    numeric = X[["income", "age"]]
    linear = LogisticRegression().fit(numeric, y)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(numeric, y)
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), ["income", "age"]),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
                    ]
                ),
            ),
            ("clf", LogisticRegression()),
        ]
    ).fit(X, y)
    return {"linear": (linear, numeric), "forest": (forest, numeric), "pipeline": (pipe, X)}
