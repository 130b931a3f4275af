"""The checks of :func:`mlprod.testing.check_predictor`, one function each."""

from __future__ import annotations

import functools
import io
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.testing._calls import as_array, differ
from mlprod.testing._context import Context, call_or_crash
from mlprod.testing._report import CheckResult

__all__ = ["CHECKS"]


def _st() -> Any:
    return optional_import("hypothesis.strategies", feature="mlprod.testing", extra="testing")


def output_shape(ctx: Context, reference: np.ndarray, **_: Any) -> CheckResult:
    kind = reference.dtype.kind

    def fails(frame: pd.DataFrame) -> str | None:
        out, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict raised {error} on {len(frame)} row(s) like the sample"
        if out.ndim == 0 or out.shape[0] != len(frame):
            return f"returned output of shape {out.shape} for {len(frame)} row(s)"
        if out.shape[1:] != reference.shape[1:]:
            return f"output shape {out.shape} does not match the sample's {reference.shape}"
        if out.dtype.kind != kind and not {out.dtype.kind, kind} <= set("iu"):
            return f"output dtype {out.dtype} differs from the sample's {reference.dtype}"
        return None

    return ctx.run(
        "output_shape",
        ctx.frames((1, 5)),
        fails,
        passed=f"one output per row, shape {_shape_text(reference.shape)}, "
        f"dtype {reference.dtype}, on 1-5 rows",
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    rest = "".join(f", {n}" for n in shape[1:])
    return f"(n{rest})" if rest else "(n,)"


def one_row(ctx: Context, **_: Any) -> CheckResult:
    def fails(frame: pd.DataFrame) -> str | None:
        out, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict crashed on a single row: {error}"
        if out.ndim == 0 or out.shape[0] != 1:
            return f"a single row gave output of shape {out.shape}"
        return None

    return ctx.run("one_row", ctx.frames((1, 1)), fails, passed="every single row drawn worked")


def empty(ctx: Context, **_: Any) -> CheckResult:
    frame = ctx.sample.iloc[:0]
    out, error, clear = call_or_crash(lambda: ctx.predict(frame))
    if error and clear:
        return CheckResult("empty", "passed", f"an empty batch is refused clearly: {error}", 1)
    if error:
        return CheckResult(
            "empty",
            "failed",
            f"an empty batch crashed the model ({error}); return an empty result or raise "
            "ValueError",
            1,
            frame,
        )
    if out.ndim == 0 or out.shape[0] != 0:
        return CheckResult(
            "empty", "failed", f"0 rows in gave output of shape {out.shape}", 1, frame
        )
    return CheckResult("empty", "passed", f"an empty batch gives an empty result {out.shape}", 1)


def column_order(ctx: Context, **_: Any) -> CheckResult:
    if not ctx.takes_frames:
        return CheckResult("column_order", "skipped", "the model takes arrays: no column names")
    columns = list(ctx.sample.columns)
    if len(columns) < 2:
        return CheckResult("column_order", "skipped", "one column: nothing to reorder")
    st = _st()
    refusals: list[str] = []

    def fails(example: tuple[pd.DataFrame, list[Any]]) -> str | None:
        frame, order = example
        base, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict raised {error}"
        out, error, clear = call_or_crash(lambda: ctx.predict(frame[order]))
        if error and clear:
            refusals.append(error)
            return None
        if error:
            return f"columns in the order {order} crashed the model: {error}"
        found = differ(base, out)
        return None if found is None else f"columns in the order {order} change the output: {found}"

    strategy = st.tuples(
        ctx.frames((1, 5)), st.permutations(columns).filter(lambda p: list(p) != columns)
    )
    result = ctx.run(
        "column_order",
        strategy,
        fails,
        passed="reordered columns give the same output",
        shown=lambda example: example[0],
    )
    if result.ok and refusals:
        return CheckResult(
            "column_order",
            "passed",
            f"reordered columns are refused clearly ({refusals[0]})",
            result.examples,
        )
    return result


def _variants(frame: pd.DataFrame, sample: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The frame with equivalent dtypes: ints as floats, text as object/str/category."""
    out: list[tuple[str, pd.DataFrame]] = []
    ints = [c for c in frame.columns if frame[c].dtype.kind in "iu"]
    if ints:
        out.append((f"int columns {ints} as float64", frame.astype(dict.fromkeys(ints, "float64"))))
    texts = [
        c
        for c in frame.columns
        if isinstance(frame[c].dtype, pd.StringDtype | pd.CategoricalDtype)
        or frame[c].dtype == object
    ]
    for target in ("object", "str", "category"):
        change = [c for c in texts if str(frame[c].dtype) != target]
        if not change:
            continue
        variant = frame.copy()
        for c in change:
            values = frame[c].astype(object)
            if target == "category":
                observed = pd.unique(sample[c].dropna().astype(object))
                variant[c] = pd.Categorical(values, categories=list(observed))
            else:
                variant[c] = values.astype(target)
        out.append((f"text columns {change} as {target}", variant))
    return out


def dtypes(ctx: Context, **_: Any) -> CheckResult:
    if not ctx.takes_frames:
        return CheckResult("dtypes", "skipped", "the model takes arrays: one dtype only")
    kinds = _variants(ctx.sample.head(1), ctx.sample)
    if not kinds:
        return CheckResult("dtypes", "skipped", "no int or text column to respell")
    refusals: list[str] = []

    def fails(frame: pd.DataFrame) -> str | None:
        base, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict raised {error}"
        for label, variant in _variants(frame, ctx.sample):
            out, error, clear = call_or_crash(functools.partial(ctx.predict, variant))
            if error and clear:
                refusals.append(f"{label}: {error}")
                continue
            if error:
                return f"{label} crashed the model: {error}"
            found = differ(base, out)
            if found is not None:
                return f"{label} changes the output: {found}"
        return None

    labels = "; ".join(label for label, _ in kinds)
    result = ctx.run("dtypes", ctx.frames((1, 5)), fails, passed=f"same output with {labels}")
    if result.ok and refusals:
        return CheckResult(
            "dtypes",
            "passed",
            f"same output or a clear refusal ({refusals[0]})",
            result.examples,
        )
    return result


def determinism(ctx: Context, **_: Any) -> CheckResult:
    def fails(frame: pd.DataFrame) -> str | None:
        first, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict raised {error}"
        for _attempt in range(2):
            again = ctx.predict(frame.copy())
            found = differ(first, again)
            if found is not None:
                return f"the same input gave different outputs on a repeated call: {found}"
        return None

    return ctx.run(
        "determinism", ctx.frames((1, 5)), fails, passed="three calls on each input agreed"
    )


def threads(ctx: Context, *, workers: int = 4, rounds: int = 5, **_: Any) -> CheckResult:
    """Concurrent calls on different batches give what sequential calls give.

    A race is not reproducible on demand, so this check does not shrink: the
    counterexample is the row whose output changed under concurrency.
    """
    sample = ctx.sample
    batches = [sample.iloc[i::workers] for i in range(min(workers, len(sample)))]
    if len(batches) < 2:
        batches = [sample, sample]
    expected = [ctx.predict(b) for b in batches]
    calls = 0
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        for _round in range(rounds):
            start = threading.Barrier(len(batches))

            def call(batch: pd.DataFrame, start: threading.Barrier = start) -> Any:
                start.wait(timeout=10)
                return call_or_crash(lambda: ctx.predict(batch))

            results = list(pool.map(call, batches))
            calls += len(batches)
            for batch, want, (got, error, _) in zip(batches, expected, results):
                if error:
                    return CheckResult(
                        "threads",
                        "failed",
                        f"predict raised {error} when called from {len(batches)} threads at once",
                        calls,
                        batch.head(1),
                    )
                found = differ(want, got)
                if found is not None:
                    row = _first_differing_row(want, got)
                    return CheckResult(
                        "threads",
                        "failed",
                        f"{len(batches)} concurrent calls disagree with sequential ones: {found}"
                        " (a race: rerun to see it again; the row below is where it showed)",
                        calls,
                        batch.iloc[[row]],
                    )
    return CheckResult(
        "threads",
        "passed",
        f"{rounds} rounds of {len(batches)} concurrent calls matched sequential outputs",
        calls,
    )


def _first_differing_row(a: np.ndarray, b: np.ndarray) -> int:
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape or x.size == 0:
        return 0
    unequal = np.asarray(x != y).reshape(len(x), -1).any(axis=1)
    if x.dtype.kind == "f":
        unequal &= ~(np.isnan(x) & np.isnan(y)).reshape(len(x), -1).all(axis=1)
    return int(unequal.argmax())


def round_trip(ctx: Context, **_: Any) -> CheckResult:
    joblib = optional_import("joblib", feature="check_predictor")
    copies: list[tuple[str, Any]] = []
    for label, dump, load in (
        ("pickle", pickle.dumps, pickle.loads),
        ("joblib", _joblib_dumps(joblib), _joblib_loads(joblib)),
    ):
        try:
            copies.append((label, load(dump(ctx.model))))
        except Exception as exc:
            return CheckResult(
                "round_trip",
                "failed",
                f"the model does not survive a {label} round trip: {type(exc).__name__}: {exc}",
            )

    def fails(frame: pd.DataFrame) -> str | None:
        base, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return f"predict raised {error}"
        for label, copy in copies:
            out, error, _ = call_or_crash(functools.partial(ctx.predict, frame, copy))
            if error:
                return f"the {label} copy raised {error}"
            found = differ(base, out)
            if found is not None:
                return f"after a {label} round trip, {found}"
        return None

    return ctx.run(
        "round_trip",
        ctx.frames((1, 5)),
        fails,
        passed="pickle and joblib copies give identical outputs",
    )


def _joblib_dumps(joblib: Any) -> Callable[[Any], bytes]:
    def dumps(obj: Any) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        return buffer.getvalue()

    return dumps


def _joblib_loads(joblib: Any) -> Callable[[bytes], Any]:
    return lambda data: joblib.load(io.BytesIO(data))


def predict_proba(ctx: Context, **_: Any) -> CheckResult:
    proba = getattr(ctx.model, "predict_proba", None)
    if not callable(proba):
        return CheckResult("predict_proba", "skipped", "the model has no predict_proba")
    classes = getattr(ctx.model, "classes_", None)

    def fails(frame: pd.DataFrame) -> str | None:
        p, error, _ = call_or_crash(lambda: as_array(proba(ctx.to_input(frame))))
        if error:
            return f"predict_proba raised {error}"
        if p.ndim != 2 or p.shape[0] != len(frame):
            return f"predict_proba returned shape {p.shape} for {len(frame)} row(s)"
        p = p.astype("float64")
        if not np.isfinite(p).all() or (p < -1e-9).any() or (p > 1 + 1e-9).any():
            return "predict_proba returned values outside [0, 1]"
        sums = p.sum(axis=1)
        worst = int(np.abs(sums - 1).argmax())
        if abs(sums[worst] - 1) > 1e-6:
            return f"probabilities of row {worst} sum to {sums[worst]:.6g}, not 1"
        if classes is None:
            return None
        labels = as_array(ctx.predict(frame))
        index = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
        for row, label in enumerate(labels.tolist()):
            column = index.get(label)
            if column is None:
                return f"predict returned {label!r}, which is not in classes_"
            if p[row, column] < p[row].max() - 1e-9:
                best = np.asarray(classes)[int(p[row].argmax())]
                return (
                    f"row {row}: predict says {label!r} but predict_proba favours {best!r} "
                    f"({p[row].max():.4g} vs {p[row, column]:.4g})"
                )
        return None

    agreement = "and agree with predict" if classes is not None else "(no classes_ to compare)"
    return ctx.run(
        "predict_proba",
        ctx.frames((1, 5)),
        fails,
        passed=f"rows are probabilities summing to 1 {agreement}",
    )


def _allows_nan(model: Any) -> bool:
    tags = getattr(model, "__sklearn_tags__", None)
    try:
        return bool(tags().input_tags.allow_nan) if callable(tags) else False
    except Exception:
        return False


def nan_inf(ctx: Context, *, allow_nan: bool | None = None, **_: Any) -> CheckResult:
    numeric = [c for c in ctx.sample.columns if ctx.sample[c].dtype.kind in "iuf"]
    if not numeric:
        return CheckResult("nan_inf", "skipped", "no numeric column to put NaN or inf in")
    allowed = _allows_nan(ctx.model) if allow_nan is None else bool(allow_nan)
    st = _st()

    def spoil(example: tuple[pd.DataFrame, Any, float, int]) -> pd.DataFrame:
        frame, column, value, row = example
        frame = frame.copy()
        if frame[column].dtype.kind != "f":
            frame[column] = frame[column].astype("float64")
        frame.loc[frame.index[row % len(frame)], column] = value
        return frame

    def fails(example: tuple[pd.DataFrame, Any, float, int]) -> str | None:
        frame = spoil(example)
        value, column = example[2], example[1]
        out, error, _ = call_or_crash(lambda: ctx.predict(frame))
        if error:
            return None  # refusing a missing or infinite value is always fine
        if not allowed:
            return (
                f"{value} in column {column!r} gave an output ({out.ravel()[:3].tolist()}) "
                "instead of an error. Reject non-finite inputs, or pass allow_nan=True if "
                "handling them is documented behaviour."
            )
        if out.ndim == 0 or out.shape[0] != len(frame):
            return f"{value} in column {column!r} gave output of shape {out.shape}"
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            return f"{value} in column {column!r} gave a non-finite output"
        return None

    strategy = st.tuples(
        ctx.frames((1, 3)),
        st.sampled_from(numeric),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
        st.integers(0, 2),
    )
    policy = "handled (allow_nan)" if allowed else "refused with an error"
    return ctx.run(
        "nan_inf",
        strategy,
        fails,
        passed=f"NaN and ±inf in {len(numeric)} numeric column(s) are {policy}",
        shown=spoil,
    )


CHECKS: dict[str, Callable[..., CheckResult]] = {
    "output_shape": output_shape,
    "one_row": one_row,
    "empty": empty,
    "column_order": column_order,
    "dtypes": dtypes,
    "determinism": determinism,
    "threads": threads,
    "round_trip": round_trip,
    "predict_proba": predict_proba,
    "nan_inf": nan_inf,
}
