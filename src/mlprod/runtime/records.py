"""The audit records a guard writes: one per call, and one per shadow disagreement.

Records hold facts, not data: an input fingerprint instead of the input
(unless ``record_inputs=True``), a summary of the output, the model reference,
the path that answered and why, the latency, and the request id bound in
structlog's context variables when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlprod._internal.canonical import to_jsonable
from mlprod.runtime.policy import fingerprint_input, n_rows, summarize_output

__all__ = ["call_record", "disagreement_record", "request_id"]


def request_id() -> Any:
    """The request id bound with structlog's context variables, or ``None``."""
    import structlog

    bound = structlog.contextvars.get_contextvars()
    for key in ("request_id", "request.id", "requestId"):
        if key in bound:
            return bound[key]
    return None


def call_record(
    *,
    guard: str,
    method: str,
    model_ref: Mapping[str, Any] | None,
    X: Any,
    outcome: str,
    reason: str,
    answered_by: str,
    path: str,
    latency_ms: float,
    value: Any,
    failures: list[str],
    record_inputs: bool,
) -> dict[str, Any]:
    """The ``guard.call`` record of one call.

    Examples
    --------
    >>> from mlprod.runtime.records import call_record
    >>> r = call_record(guard="churn", method="predict", model_ref=None, X=[[1.0]],
    ...                 outcome="ok", reason="", answered_by="primary", path="primary",
    ...                 latency_ms=0.5, value=[1], failures=[], record_inputs=False)
    >>> r["outcome"], r["rows"], r["output"], r["input_fp"][:5]
    ('ok', 1, {'shape': [1], 'values': [1]}, 'xxh3:')
    """
    record: dict[str, Any] = {
        "event": "guard.call",
        "guard": guard,
        "method": method,
        "model": model_ref,
        "input_fp": fingerprint_input(X),
        "rows": n_rows(X),
        "outcome": outcome,
        "answered_by": answered_by,
        "path": path,
        "latency_ms": round(latency_ms, 4),
        "output": summarize_output(value) if answered_by != "none" else None,
    }
    if reason:
        record["reason"] = reason
    if failures:
        record["fallback_failures"] = failures
    rid = request_id()
    if rid is not None:
        record["request_id"] = rid
    if record_inputs:
        try:
            record["input"] = to_jsonable(X)
        except TypeError:
            record["input"] = repr(X)
    return record


def disagreement_record(
    guard: str, model_ref: Mapping[str, Any] | None, info: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``guard.shadow_disagreement`` record: both answers summarised, rows that differ."""
    return {
        "event": "guard.shadow_disagreement",
        "guard": guard,
        "model": model_ref,
        "method": info["method"],
        "input_fp": fingerprint_input(info["X"]),
        "rows": n_rows(info["X"]),
        "rows_disagreeing": info["rows"],
        "output": summarize_output(info["answer"]),
        "challenger_output": summarize_output(info["challenger"]),
    }
