"""What a guard is told to do, as plain data: budgets, bounds, checks, fallbacks.

The policy is the declaration; :mod:`mlprod.runtime.guard` executes it. The
helpers here turn user-supplied options (a fallback that is a model, a
callable or a constant; an output check) into small uniform objects, and
summarise inputs and outputs for audit records without keeping raw data.
"""

from __future__ import annotations

import cmath
import math
import numbers
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
            isinstance(self.budget_ms, bool)
            or not isinstance(self.budget_ms, int | float)
            or not math.isfinite(self.budget_ms)
            or self.budget_ms <= 0
        ):
            raise ConfigurationError(
                f"budget_ms must be a positive number of milliseconds, got {self.budget_ms!r}. "
                "Pass budget_ms=None for no budget of the guard's own.",
                parameter="budget_ms",
                value=self.budget_ms,
            )
        if (
            isinstance(self.max_in_flight, bool)
            or not isinstance(self.max_in_flight, int)
            or self.max_in_flight < 1
        ):
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


def _setting_number(name: str, value: Any) -> None:
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(value)
    ):
        raise ConfigurationError(
            f"OutputCheck {name} must be a finite number or None, got {value!r}",
            parameter=name,
            value=value,
        )


@dataclass(frozen=True)
class OutputCheck:
    """What a primary's output must satisfy before the guard returns it.

    A failed check sends the call to the fallback with outcome
    ``invalid_output``. By default an output must be *finite, with one row
    per input row*: an array-like (a numpy array, a list, a pandas object)
    whose first dimension is the number of input rows, holding no NaN,
    infinity or missing value (``None``, ``pd.NA``, ``NaT``,
    ``Decimal("NaN")``). ``None``, a scalar, a string, a mapping, a generator
    (it has no rows and can be read once) and ragged nested lists fail it.
    Text and other non-numeric labels pass when nothing is missing.

    Parameters
    ----------
    finite:
        Reject NaN, infinite and missing values.
    rows:
        Require one output row per input row (skipped when the input has no
        row count, such as a mapping of columns).
    low, high:
        Inclusive bounds every numeric value must lie within.
    func:
        Your own check, ``func(X, y)``, returning ``True`` when ``y`` is acceptable.

    Raises
    ------
    ConfigurationError
        When a bound is not a finite number, ``low > high``, or ``func`` is
        not callable: at construction, not at the first call.

    Examples
    --------
    >>> import mlprod as mp
    >>> check = mp.OutputCheck(low=0.0, high=1.0)
    >>> check([[1], [2]], [0.2, 1.5])
    '1 of 2 values are outside [0, 1]'
    >>> check([[1], [2]], [0.2, 0.9]) is None
    True
    >>> check([[1], [2]], [0.2, None])
    '1 of 2 values are NaN, infinite or missing'
    """

    __module__ = "mlprod"

    finite: bool = True
    rows: bool = True
    low: float | None = None
    high: float | None = None
    func: Callable[[Any, Any], bool] | None = None

    def __post_init__(self) -> None:
        for name in ("finite", "rows"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(
                    f"OutputCheck {name} must be True or False, got {getattr(self, name)!r}",
                    parameter=name,
                    value=getattr(self, name),
                )
        _setting_number("low", self.low)
        _setting_number("high", self.high)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigurationError(
                f"OutputCheck low={self.low!r} is above high={self.high!r}: no value could "
                "pass. Swap them, or leave one out for a one-sided bound.",
                parameter="low",
                value=(self.low, self.high),
            )
        if self.func is not None and not callable(self.func):
            raise ConfigurationError(
                f"OutputCheck func must be a callable (X, y) -> bool, got "
                f"{type(self.func).__name__}",
                parameter="func",
                value=repr(self.func),
            )
        plain = self.finite and self.rows and self.low is None and self.high is None
        object.__setattr__(self, "_plain", plain and self.func is None)

    def __call__(self, X: Any, y: Any) -> str | None:
        """Return why ``y`` is unacceptable for input ``X``, or ``None`` when it passes."""
        # The hot path, the default check of a small 1-d float array: a few attribute
        # reads and one pass of math.isfinite. Anything else takes the general path.
        if self._plain and type(y) is np.ndarray:  # type: ignore[attr-defined]
            shape, dtype = y.shape, y.dtype
            if len(shape) == 1 and n_rows(X) == shape[0]:
                if dtype is _FLOAT64 and shape[0] <= _SMALL:
                    for v in y.tolist():
                        if not _isfinite(v):
                            break
                    else:
                        return None
                elif dtype.kind in "iub":  # integers and booleans are always finite
                    return None
        strict = self.finite or self.rows
        # The hot path: a model that returns a numpy array (no conversion, no allocation).
        arr = y if type(y) is np.ndarray else None
        if arr is None:
            arr, why = _as_rows(y)
            if why is not None and strict:
                return why
        if arr is not None:
            if self.rows:
                expected = n_rows(X)
                if expected is not None:
                    if arr.ndim == 0:
                        return (
                            f"the output is a single value ({type(y).__name__}), not one row "
                            f"per input row ({expected})"
                        )
                    if arr.shape[0] != expected:
                        return f"the output has {arr.shape[0]} rows for {expected} input rows"
            why = self._values(arr)
            if why is not None:
                return why
        if self.func is not None and not self.func(X, y):
            name = getattr(self.func, "__name__", type(self.func).__name__)
            return f"the output check {name!r} returned False"
        return None

    def _values(self, arr: np.ndarray[Any, Any]) -> str | None:
        kind = arr.dtype.kind
        if kind == "f" and self.finite and self.low is None and self.high is None:
            # The common case, kept short: float predictions, finite or not.
            if arr.size <= _SMALL:
                values = (arr if arr.ndim == 1 else arr.ravel()).tolist()
                if all(map(math.isfinite, values)):
                    return None
            elif _all_finite(arr):
                return None
            bad = int((~np.isfinite(arr)).sum())
            return f"{bad} of {arr.size} values are NaN or infinite"
        if kind == "O":
            numbers, why = _object_numbers(arr, self.finite)
            if why is not None:
                return why
            if numbers is None:
                return None
            if self.finite and not _all_finite(numbers):
                bad = int((~np.isfinite(numbers)).sum())
                return f"{bad} of {arr.size} values are NaN, infinite or missing"
            arr, kind = numbers, "f"
        if self.finite:
            if kind == "f":
                if not _all_finite(arr):
                    bad = int((~np.isfinite(arr)).sum())
                    return f"{bad} of {arr.size} values are NaN or infinite"
            elif kind == "c":
                if not np.isfinite(arr).all():
                    bad = int((~np.isfinite(arr)).sum())
                    return f"{bad} of {arr.size} values are NaN or infinite"
            elif kind in "mM" and np.isnat(arr).any():
                return f"{int(np.isnat(arr).sum())} of {arr.size} values are missing (NaT)"
        if (self.low is not None or self.high is not None) and kind in "iufb":
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
        return None


# Below this many values, a Python pass over the values beats numpy's per-call overhead.
_SMALL = 16
_FLOAT64 = np.dtype(np.float64)
_isfinite = math.isfinite


def _all_finite(arr: np.ndarray[Any, Any]) -> bool:
    """Whether a float array holds only finite values, cheaply for the common case."""
    if arr.size <= _SMALL:
        return all(map(math.isfinite, arr.ravel().tolist()))
    # A finite sum means every value is finite (NaN and inf propagate); an
    # overflowing sum of finite values is told apart by the exact scan.
    with np.errstate(over="ignore"):
        total = arr.sum()
    return math.isfinite(total) or bool(np.isfinite(arr).all())


def _as_rows(y: Any) -> tuple[np.ndarray[Any, Any] | None, str | None]:
    """``y`` as an array to check, or why it cannot be one row per input row."""
    if y is None:
        return None, "the output is None"
    if isinstance(y, str | bytes):
        return None, f"the output is a {type(y).__name__}, not one row per input row"
    if isinstance(y, Mapping):
        return None, (
            f"the output is a mapping ({type(y).__name__}), not one row per input row; "
            "return an array or a DataFrame"
        )
    to_numpy = getattr(y, "to_numpy", None)
    if callable(to_numpy):  # pandas, polars, pyarrow
        try:
            arr = to_numpy()
        except Exception as exc:
            return None, f"the output ({type(y).__name__}) could not become an array: {exc}"
        if not isinstance(arr, np.ndarray):
            return None, f"the output's to_numpy() gave a {type(arr).__name__}, not an array"
        return arr, None
    if not hasattr(y, "__len__") and not hasattr(y, "__array__") and hasattr(y, "__next__"):
        return None, (
            f"the output is an iterator ({type(y).__name__}): it has no rows and can be "
            "read only once; return a list or an array"
        )
    try:
        arr = np.asarray(y)
    except ValueError:
        return None, "the output is ragged: its rows have different lengths"
    except Exception as exc:
        return None, f"the output ({type(y).__name__}) could not become an array: {exc}"
    return arr, None


def _object_numbers(
    arr: np.ndarray[Any, Any], finite: bool
) -> tuple[np.ndarray[Any, Any] | None, str | None]:
    """An object array as float64 when it holds numbers; else check it value by value.

    Only outputs of dtype object come here (lists with ``None``, Decimals,
    labels): not the numeric hot path.
    """
    try:
        # None and Decimal("NaN") become NaN, which the finite check then counts.
        return arr.astype(np.float64), None
    except (TypeError, ValueError):
        pass
    flat = arr.ravel()
    nested = sum(isinstance(v, list | tuple | np.ndarray | Mapping) for v in flat)
    if nested:
        return None, f"the output is ragged or nested: {nested} of {flat.size} values are sequences"
    if not finite:
        return None, None
    import pandas as pd

    bad = 0
    for v in flat:
        if isinstance(v, numbers.Number):
            try:
                ok = math.isfinite(v)  # type: ignore[arg-type]
            except TypeError:
                ok = cmath.isfinite(v)  # type: ignore[arg-type]
            except ValueError:  # a signalling Decimal NaN refuses conversion
                ok = False
            bad += not ok
        else:
            bad += bool(pd.isna(v))
    if bad:
        return None, f"{bad} of {flat.size} values are NaN, infinite or missing"
    return None, None


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
    cls = type(X)
    if cls is np.ndarray:
        return X.shape[0] if X.ndim else None
    if cls is list or cls is tuple:
        return len(X)
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
