"""Text checks give the same failures on every path: per row, per distinct value, per category."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlprod as mp
from mlprod.data.validation import textpath

CHECKS = [
    (mp.checks.str_matches(r"[A-Z]{2}\d"), lambda v: re.match(r"[A-Z]{2}\d", v) is not None),
    (mp.checks.str_contains(r"7$"), lambda v: re.search(r"7$", v) is not None),
    (mp.checks.str_startswith("AB"), lambda v: v.startswith("AB")),
    (mp.checks.str_length(3, 5), lambda v: 3 <= len(v) <= 5),
]


def _expected(values: list[object], rule) -> list[bool]:
    return [v is None or (isinstance(v, str) and rule(v)) for v in values]


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textpath, "MIN_ROWS", 64)
    monkeypatch.setattr(textpath, "SAMPLE", 32)


@pytest.mark.parametrize("distinct", [3, 40, 5_000], ids=["low", "medium", "high"])
@pytest.mark.parametrize("dtype", ["str", "object", "string[pyarrow]", "category"])
def test_every_path_matches_the_rule_row_by_row(
    small_threshold: None, distinct: int, dtype: str
) -> None:
    rng = np.random.default_rng(distinct)
    pool = np.array(
        [f"AB{i}" if i % 3 else f"x{i}7" for i in range(distinct)] + ["Ab", "ABC1234567"],
        dtype=object,
    )
    values = list(pool[rng.integers(0, len(pool), 2_000)])
    values[5] = None
    series = pd.Series(values, dtype=dtype)
    for check, rule in CHECKS:
        assert check(series).tolist() == _expected(values, rule), (check, dtype, distinct)


def test_the_path_follows_the_estimated_cost() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(0)
    few = pa.array([f"v{i}" for i in rng.integers(0, 300, 200_000)])
    many = pa.array([f"v{i}" for i in rng.permutation(200_000)])
    assert textpath.estimate_distinct(few) == 300
    assert textpath.estimate_distinct(many) > 100_000
    assert textpath.use_distinct(few, row_cost_ns=30.0)  # a regex: hash once per distinct
    assert not textpath.use_distinct(few, row_cost_ns=2.0)  # a prefix: cheaper per row
    assert not textpath.use_distinct(many, row_cost_ns=30.0)  # nearly all distinct
    assert not textpath.use_distinct(few[:1000], row_cost_ns=30.0)  # too short to sample


def test_categoricals_check_each_category_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    check = mp.checks.str_matches(r"[a-z]+$")
    original = type(check)._arrow

    def counting(self, strings):  # type: ignore[no-untyped-def]
        seen.append(len(strings))
        return original(self, strings)

    monkeypatch.setattr(type(check), "_arrow", counting)
    cats = pd.Categorical(["ok", "BAD", None, "ok"] * 10_000, categories=["ok", "BAD", "unused"])
    result = check(pd.Series(cats))
    assert seen == [3]
    assert result.tolist() == [True, False, True, True] * 10_000


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text("AB7x1", max_size=6)), min_size=1, max_size=300),
    st.booleans(),
)
def test_paths_agree_on_any_text(values: list[str | None], as_category: bool) -> None:
    series = pd.Series(values, dtype="category" if as_category else "str")
    for check, rule in CHECKS:
        assert check(series).tolist() == _expected(values, rule)
