"""Deliberately broken models, each with one production bug the checks must catch."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def sample(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.uniform(10.0, 100.0, n).round(2),
            "age": rng.integers(18, 80, n),
            "region": pd.Series(rng.choice(["north", "south", "east"], n), dtype="str"),
        }
    )


def target(X: pd.DataFrame) -> np.ndarray:
    return ((X["income"] > 55) ^ (X["age"] > 60)).astype(int).to_numpy()


class Linear:
    """Well behaved: a score rising with income, by name."""

    def predict(self, X):
        return X["income"].to_numpy(dtype="float64") * 0.5 + X["age"].to_numpy(dtype="float64")


class OrderSensitive:
    """Reads columns by position, so reordering them changes the answer silently."""

    def predict(self, X):
        values = X.select_dtypes("number").to_numpy(dtype="float64")
        return values[:, 0] * 2.0 + values[:, 1]


class NonMonotoneInSlice:
    """Score rises with income everywhere except in the north, above an income of 50."""

    def predict(self, X):
        income = X["income"].to_numpy(dtype="float64")
        north = (X["region"] == "north").to_numpy()
        falling = north & (income > 50)
        return np.where(falling, 100.0 - income, income)


class SharedState:
    """Keeps the batch's first value on the instance: concurrent calls read each other's."""

    def predict(self, X):
        self._first = float(X["income"].iloc[0])
        time.sleep(0.002)  # the window in which another thread overwrites _first
        return np.full(len(X), self._first)


class Noisy:
    """Adds random noise to every answer."""

    def __init__(self):
        self._rng = np.random.default_rng()

    def predict(self, X):
        return X["income"].to_numpy(dtype="float64") + self._rng.normal(0, 1e-3, len(X))


class OneRowCrash:
    """Standardises by the batch's spread, which one row does not have."""

    def predict(self, X):
        income = X["income"].to_numpy(dtype="float64")
        if len(income) == 0:
            return income
        if len(income) == 1:
            raise IndexError("index 1 is out of bounds for axis 0 with size 1")
        return (income - income.mean()) / (income.std() + 1.0)


class BadProba:
    """predict_proba rows sum to 1 only when income is below 80."""

    classes_ = np.array([0, 1])

    def predict(self, X):
        return (X["income"].to_numpy() > 55).astype(int)

    def predict_proba(self, X):
        income = X["income"].to_numpy(dtype="float64")
        p1 = (income > 55).astype(float) * 0.8 + 0.1
        p0 = np.where(income < 80, 1 - p1, 0.5)
        return np.column_stack([p0, p1])


class ChangesWhenPickled:
    """Rounds its weight on unpickling, so a round trip changes outputs."""

    def __init__(self, weight: float = 0.123456789):
        self.weight = weight

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.weight = round(self.weight, 3)

    def predict(self, X):
        return X["income"].to_numpy(dtype="float64") * self.weight


class NoPredict:
    def transform(self, X):
        return X
