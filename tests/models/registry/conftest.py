"""Registry fixtures: every test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests read ``MLPROD_TEST_POSTGRES_URL`` (``bash .ci/postgres.sh``
prints one) and skip when it is unset. Each test gets its own schema, dropped
afterwards, so reruns start clean.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mlprod as mp

PG_URL = os.environ.get("MLPROD_TEST_POSTGRES_URL")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Where a registry lives: ``{"location", "artifacts", "kind"}``."""
    if request.param == "sqlite":
        yield {"kind": "sqlite", "location": str(tmp_path / "reg"), "artifacts": None}
        return
    if not PG_URL:
        pytest.skip("set MLPROD_TEST_POSTGRES_URL (bash .ci/postgres.sh prints one)")
    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield {
            "kind": "postgres",
            "location": _pg_schema_url(PG_URL, schema),
            "artifacts": "file://" + str(tmp_path / "artifacts"),
        }
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def make_registry(backend: dict[str, Any]) -> Iterator[Callable[..., mp.ModelRegistry]]:
    """Open (or reopen) the test's registry; every one opened is closed afterwards."""
    opened: list[mp.ModelRegistry] = []

    def make(**kwargs: Any) -> mp.ModelRegistry:
        if backend["artifacts"] is not None:
            kwargs.setdefault("artifacts", backend["artifacts"])
        reg = mp.ModelRegistry(backend["location"], **kwargs)
        opened.append(reg)
        return reg

    yield make
    for reg in opened:
        reg.close()


@pytest.fixture
def registry(make_registry: Callable[..., mp.ModelRegistry]) -> mp.ModelRegistry:
    """A fresh, empty registry."""
    return make_registry()


@pytest.fixture
def clock() -> mp.ManualClock:
    """A manual clock starting at 2026-01-01T00:00:00Z."""
    return mp.ManualClock(1_767_225_600.0)


@pytest.fixture(scope="session")
def fitted_model() -> Any:
    """A fitted 20-feature logistic regression and its training data."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return LogisticRegression().fit(X, y), X
