"""What every check of one model shares: the model, its sample, the search settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.errors import ConfigurationError
from mlprod.testing._calls import as_array, describe_error, is_clear_error, public
from mlprod.testing._report import CheckResult
from mlprod.testing._search import database_key, search, search_settings
from mlprod.testing._strategies import rows_like

__all__ = ["Context", "data_strategy"]


def data_strategy(data: Any, *, rows: tuple[int, int] = (1, 5), argument: str = "data") -> Any:
    """A strategy of frames from ``data``: a DataFrame (rows like it) or a strategy as given."""
    if isinstance(data, pd.DataFrame):
        if len(data) == 0:
            raise ConfigurationError(
                f"{argument} has no rows to draw around; pass a sample of real inputs.",
                parameter=argument,
                value=0,
            )
        return rows_like(data, rows=rows)
    st = optional_import("hypothesis.strategies", feature="mlprod.testing", extra="testing")
    if isinstance(data, st.SearchStrategy):
        return data
    raise ConfigurationError(
        f"{argument} must be a DataFrame or a hypothesis strategy of frames "
        f"(mt.frames(schema), mt.rows_like(df)); got {type(data).__name__}.",
        parameter=argument,
        value=type(data).__name__,
    )


def data_name(data: Any) -> str:
    """A stable name of the data, for the example database key."""
    if isinstance(data, pd.DataFrame):
        return str(public("fingerprint")(data))
    return repr(data)


@dataclass
class Context:
    """One model under test, how to feed it a frame, and how to search."""

    model: Any
    sample: pd.DataFrame
    takes_frames: bool
    array_dtype: Any
    subject: str
    settings: Any
    data_key: str

    @classmethod
    def build(
        cls,
        model: Any,
        X: Any,
        *,
        subject: str,
        max_examples: int | None,
        database: Any,
        argument: str = "X_sample",
    ) -> Context:
        if isinstance(X, pd.DataFrame):
            frame, takes_frames, dtype = X, True, None
        elif isinstance(X, np.ndarray) and X.ndim == 2:
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
            takes_frames, dtype = False, X.dtype
        else:
            raise ConfigurationError(
                f"{argument} must be a DataFrame or a 2-D numpy array of real inputs; got "
                f"{type(X).__name__}{getattr(X, 'shape', '')}.",
                parameter=argument,
                value=type(X).__name__,
            )
        if len(frame) == 0 or frame.shape[1] == 0:
            raise ConfigurationError(
                f"{argument} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns); pass a "
                "few rows of real inputs to draw around.",
                parameter=argument,
                value=frame.shape,
            )
        return cls(
            model,
            frame,
            takes_frames,
            dtype,
            subject,
            search_settings(max_examples, database),
            data_name(frame),
        )

    def to_input(self, frame: pd.DataFrame) -> Any:
        """The frame as the model takes it."""
        if self.takes_frames:
            return frame
        return frame.to_numpy(dtype=self.array_dtype)

    def predict(self, frame: pd.DataFrame, model: Any = None) -> np.ndarray:
        return as_array((model or self.model).predict(self.to_input(frame)))

    def frames(self, rows: tuple[int, int] = (1, 5)) -> Any:
        return rows_like(self.sample, rows=rows)

    def run(
        self,
        name: str,
        strategy: Any,
        fails: Callable[[Any], str | None],
        *,
        passed: str,
        shown: Callable[[Any], pd.DataFrame] = lambda example: example,
    ) -> CheckResult:
        """Search ``strategy`` for a failure of ``fails``; a result with the minimal input."""
        key = database_key(name, self.subject, self.data_key)
        outcome = search(strategy, fails, key=key, settings=self.settings)
        if outcome.problem is None:
            return CheckResult(name, "passed", passed, outcome.examples)
        return CheckResult(
            name,
            "failed",
            outcome.problem,
            outcome.examples,
            shown(outcome.example),
        )


def call_or_crash(call: Callable[[], Any]) -> tuple[Any, str | None, bool]:
    """Run ``call``: (result, error description, whether the error was a clear refusal)."""
    try:
        return call(), None, False
    except Exception as exc:
        return None, describe_error(exc), is_clear_error(exc)
