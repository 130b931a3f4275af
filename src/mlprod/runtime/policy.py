"""What a guard is told to do, as plain data: budgets, bounds, checks, fallbacks.

The policy is the declaration; :mod:`mlprod.runtime.guard` executes it. The
helpers here turn user-supplied options (a fallback that is a model, a
callable or a constant; an output check) into small uniform objects, and
summarise inputs and outputs for audit records without keeping raw data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlprod._internal.canonical import canonical_json
from mlprod.errors import ConfigurationError

__all__ = [
    "Fallback",
    "GuardPolicy",
    "OutputCheck",
    "fingerprint_input",
    "n_rows",
    "summarize_output",
]

ISOLATIONS = ("thread", "process")


@dataclass(frozen=True)
class GuardPolicy:
    """The declared behaviour of a guard, independent of how it runs.

    Attributes
    ----------
    name:
        Shown in statistics, logs and audit records.
    budget_ms:
        The guard's own latency budget, or ``None`` (the ambient
        :func:`~mlprod.deadline` still applies).
    max_in_flight:
        Slots of the bounded executor: primary calls (orphans included)
        that may run at once; more are shed.
    isolation:
        ``"thread"`` or ``"process"``.
    fallbacks:
        Labels of the fallback chain, in the order they are tried.
    record_inputs:
        Whether audit records carry the raw input (not only its fingerprint).
    cost_budget:
        ``(amount, per_seconds)``, or ``None``.

    Examples
    --------
    >>> import mlprod as mp
    >>> g = mp.guard(lambda X: X, fallback=[0], budget_ms=50, name="churn")
    >>> g.policy.to_dict()["budget_ms"], g.policy.fallbacks
    (50, ('0',))
    """

    __module__ = "mlprod"

    name: str
    budget_ms: float | None = None
    max_in_flight: int = 8
    isolation: str = "thread"
    fallbacks: tuple[str, ...] = ()
    record_inputs: bool = False
    cost_budget: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.budget_ms is not None and (
            not isinstance(self.budget_ms, int | float)
            or not math.isfinite(self.budget_ms)
            or self.budget_ms <= 0
        ):
            raise ConfigurationError(
                f"budget_ms must be a positive number of milliseconds, got {self.budget_ms!r}. "
                "Pass budget_ms=None for no budget of the guard's own.",
                parameter="budget_ms",
                value=self.budget_ms,
            )
        if not isinstance(self.max_in_flight, int) or self.max_in_flight < 1:
            raise ConfigurationError(
                f"max_in_flight must be a positive integer, got {self.max_in_flight!r}",
                parameter="max_in_flight",
                value=self.max_in_flight,
            )
        if self.isolation not in ISOLATIONS:
            raise ConfigurationError(
                f"isolation must be one of {ISOLATIONS}, got {self.isolation!r}. Use 'process' "
                "for models that may hang for good (they are killed on timeout).",
                parameter="isolation",
                value=self.isolation,
            )

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data."""
        return {
            "name": self.name,
            "budget_ms": self.budget_ms,
            "max_in_flight": self.max_in_flight,
            "isolation": self.isolation,
            "fallbacks": list(self.fallbacks),
            "record_inputs": self.record_inputs,
            "cost_budget": list(self.cost_budget) if self.cost_budget else None,
        }


@dataclass(frozen=True)
class OutputCheck:
    """What a primary's output must satisfy before the guard returns it.

    A failed check sends the call to the fallback with outcome
    ``invalid_output``.

    Parameters
    ----------
    finite:
        Reject NaN and infinite values (numeric outputs).
    rows:
        Require one output row per input row.
    low, high:
        Inclusive bounds every numeric value must lie within.
    func:
        Your own check, ``func(X, y)``, returning ``True`` when ``y`` is acceptable.

    Examples
    --------
    >>> import mlprod as mp
    >>> check = mp.OutputCheck(low=0.0, high=1.0)
    >>> check([[1], [2]], [0.2, 1.5])
    '1 of 2 values are outside [0, 1]'
    >>> check([[1], [2]], [0.2, 0.9]) is None
    True
    """

    __module__ = "mlprod"

    finite: bool = True
    rows: bool = True
    low: float | None = None
    high: float | None = None
    func: Callable[[Any, Any], bool] | None = None

    def __call__(self, X: Any, y: Any) -> str | None:
        """Return why ``y`` is unacceptable for input ``X``, or ``None`` when it passes."""
        if self.rows:
            expected = n_rows(X)
            try:
                got = len(y)
            except TypeError:
                got = None
            if expected is not None and got is not None and got != expected:
                return f"the output has {got} rows for {expected} input rows"
        if self.finite or self.low is not None or self.high is not None:
            arr = y if type(y) is np.ndarray else _as_array(y)
            if (
                arr is not None
                and arr.dtype.kind in "fc"
                and self.finite
                and not np.isfinite(arr).all()
            ):
                bad = int((~np.isfinite(arr)).sum())
                return f"{bad} of {arr.size} values are NaN or infinite"
            if (
                arr is not None
                and arr.dtype.kind in "iufb"
                and (self.low is not None or self.high is not None)
            ):
                outside = np.zeros(arr.shape, dtype=bool)
                if self.low is not None:
                    outside |= arr < self.low
                if self.high is not None:
                    outside |= arr > self.high
                if outside.any():
                    return (
                        f"{int(outside.sum())} of {arr.size} values are outside "
                        f"[{self.low:g}, {self.high:g}]"
                        if self.low is not None and self.high is not None
                        else f"{int(outside.sum())} of {arr.size} values are out of range"
                    )
        if self.func is not None and not self.func(X, y):
            name = getattr(self.func, "__name__", type(self.func).__name__)
            return f"the output check {name!r} returned False"
        return None


def _as_array(y: Any) -> np.ndarray[Any, Any] | None:
    to_numpy = getattr(y, "to_numpy", None)
    try:
        arr = to_numpy() if callable(to_numpy) else np.asarray(y)
    except Exception:
        return None
    return arr if isinstance(arr, np.ndarray) else None


def as_output_check(value: Any) -> OutputCheck:
    """Normalise the ``output_check=`` argument."""
    if value is None:
        return OutputCheck()
    if isinstance(value, OutputCheck):
        return value
    if callable(value):
        return OutputCheck(func=value)
    raise ConfigurationError(
        f"output_check must be an mp.OutputCheck or a callable (X, y) -> bool, "
        f"got {type(value).__name__}",
        parameter="output_check",
        value=repr(value),
    )


@dataclass(frozen=True)
class Fallback:
    """One link of the fallback chain: a model, a callable, or a constant."""

    kind: str  # "model", "callable" or "constant"
    target: Any
    label: str

    def run(self, method: str, X: Any) -> Any:
        """Answer ``X`` the way this fallback does."""
        if self.kind == "model":
            return getattr(self.target, method)(X)
        if self.kind == "callable":
            return self.target(X)
        value = np.asarray(self.target)
        rows = n_rows(X)
        return np.broadcast_to(value, (rows if rows is not None else 1, *value.shape)).copy()

    def has(self, method: str) -> bool:
        """Whether this fallback can answer ``method``."""
        return self.kind != "model" or callable(getattr(self.target, method, None))


def _label(obj: Any) -> str:
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return getattr(obj, "__name__", type(obj).__name__)


def as_fallbacks(value: Any) -> tuple[Fallback, ...]:
    """Normalise ``fallback=``: ``None``, one fallback, or a list tried in order."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None:
            raise ConfigurationError(
                "a fallback cannot be None; leave it out of the list instead",
                parameter="fallback",
            )
        if callable(getattr(item, "predict", None)):
            out.append(Fallback("model", item, _label(item)))
        elif callable(item):
            out.append(Fallback("callable", item, _label(item)))
        else:
            try:
                np.asarray(item).dtype  # noqa: B018 - it must become an array to be broadcast
            except Exception as exc:
                raise ConfigurationError(
                    f"fallback {item!r} is neither a model, a callable nor a constant",
                    parameter="fallback",
                ) from exc
            text = repr(item)
            out.append(Fallback("constant", item, text if len(text) <= 40 else text[:37] + "..."))
    return tuple(out)


def n_rows(X: Any) -> int | None:
    """How many rows ``X`` has, or ``None`` when it has no length.

    A mapping (columns by name) has no row count of its own: its length
    counts columns.
    """
    if isinstance(X, Mapping):
        return None
    try:
        return len(X)
    except TypeError:
        return None


def fingerprint_input(X: Any) -> str | None:
    """A stable 128-bit fingerprint of an input for audit records (``None`` if unhashable)."""
    import xxhash

    try:
        h = xxhash.xxh3_128()
        if isinstance(X, np.ndarray) and X.dtype.kind != "O":
            h.update(f"{X.dtype.str}{X.shape}".encode())
            h.update(np.ascontiguousarray(X).tobytes())
        elif hasattr(X, "columns") and hasattr(X, "dtypes"):  # a pandas DataFrame
            import pandas as pd

            h.update(canonical_json([str(c) for c in X.columns]))
            h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
        else:
            h.update(canonical_json(X))
        return "xxh3:" + h.hexdigest()
    except Exception:
        return None


def _values(arr: np.ndarray[Any, Any]) -> Any:
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        return [None if not math.isfinite(v) else v for v in arr.ravel().tolist()]
    return arr.tolist()


def summarize_output(y: Any, *, max_values: int = 8) -> Mapping[str, Any] | None:
    """A small JSON-safe summary of an output: its values when few, else shape and moments."""
    if y is None:
        return None
    arr = y if isinstance(y, np.ndarray) else _as_array(y)
    if arr is None:
        return {"type": type(y).__name__}
    if arr.size <= max_values:
        if arr.dtype.kind in "biufcUS":
            return {"shape": list(arr.shape), "values": _values(arr)}
        return {"shape": list(arr.shape), "values": [str(v) for v in arr.ravel().tolist()]}
    summary: dict[str, Any] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
    if arr.dtype.kind in "biuf":
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        if finite.size:
            summary.update(
                mean=float(finite.mean()), min=float(finite.min()), max=float(finite.max())
            )
        summary["nonfinite"] = int(arr.size - finite.size)
    return summary


def model_ref_dict(ref: Any) -> dict[str, Any] | None:
    """The ``name``/``version``/``digest`` of a model reference as plain data."""
    if ref is None:
        return None
    try:
        return {"name": str(ref.name), "version": ref.version, "digest": str(ref.digest)}
    except AttributeError as exc:
        raise ConfigurationError(
            f"model_ref must have name, version and digest attributes (like mp.ModelVersion); "
            f"{type(ref).__name__} lacks {exc.name!r}",
            parameter="model_ref",
            value=repr(ref),
        ) from None


def fallback_labels(chain: Sequence[Fallback]) -> tuple[str, ...]:
    """The labels of a fallback chain, for the policy."""
    return tuple(f.label for f in chain)
