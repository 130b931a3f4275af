"""Normalising what users pass to ``register`` and ``search`` into sealed, plain data."""

from __future__ import annotations

import heapq
import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mlprod._internal.canonical import canonical_json, to_jsonable
from mlprod.errors import ConfigurationError

__all__ = [
    "condition",
    "dataset_keys",
    "datasets",
    "first",
    "json_value",
    "metrics",
    "params",
    "signature",
    "tags",
]


_HEX = re.compile(r"^[0-9a-f]{16,128}$")


def params(value: Mapping[str, Any] | None, *, what: str = "params") -> dict[str, Any]:
    """Training parameters (or tags, with ``what="tags"``) as canonical-JSON-able data."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{what} must be a mapping of name to value, got {type(value).__name__}",
            parameter=what,
            value=repr(value)[:200],
        )
    return {
        str(key): json_value(item, f"{what}[{key!r}]", f"{what}.{key}")
        for key, item in value.items()
    }


def json_value(item: Any, label: str, parameter: str) -> Any:
    """``item`` as JSON data, or a ConfigurationError naming ``label``."""
    try:
        out = to_jsonable(item)
        canonical_json(out)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{label} = {item!r} has no JSON form ({exc}); pass it as a string or number.",
            parameter=parameter,
            value=repr(item)[:200],
        ) from None
    return out


def metrics(value: Mapping[str, Any] | None) -> dict[str, float]:
    """Metrics as finite floats."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"metrics must be a mapping of name to number, got {type(value).__name__}",
            parameter="metrics",
            value=repr(value)[:200],
        )
    out: dict[str, float] = {}
    for key, item in value.items():
        try:
            number = float(item)
        except (TypeError, ValueError):
            number = math.nan
            bad = "is not a number"
        else:
            bad = "is not finite"
        if not math.isfinite(number):
            raise ConfigurationError(
                f"metrics[{key!r}] = {item!r} {bad}: metrics must be finite numbers. "
                "Drop it or put the text in tags.",
                parameter=f"metrics.{key}",
                value=repr(item),
            )
        out[str(key)] = number
    return out


def tags(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """Tags as JSON-able data."""
    return params(value, what="tags")


def _describe(obj: Any, role: str) -> dict[str, Any]:
    if all(hasattr(obj, a) for a in ("name", "version", "fingerprint")) and not isinstance(
        obj, str
    ):
        fp = obj.fingerprint
        out: dict[str, Any] = {
            "kind": "dataset_version",
            "name": str(obj.name),
            "version": to_jsonable(obj.version),
            "fingerprint": str(fp),
        }
        rows = getattr(obj, "rows", None)
        if rows is None:
            rows = getattr(fp, "rows", None)
        if rows is not None:
            out["rows"] = int(rows)
        return out
    if isinstance(obj, str):
        if not _HEX.match(obj):
            raise ConfigurationError(
                f"datasets[{role!r}] = {obj!r} is not a fingerprint (a hex digest such as "
                "mp.fingerprint(df) returns). Pass the data itself, its mp.fingerprint(df), or "
                "a DatasetVersion from mp.DatasetStore.commit.",
                parameter=f"datasets.{role}",
                value=obj[:200],
            )
        out = {"kind": "fingerprint", "fingerprint": str(obj)}
        rows = getattr(obj, "rows", None)
        if rows is not None:
            out["rows"] = int(rows)
        return out
    if hasattr(obj, "columns") and hasattr(obj, "dtypes"):
        from mlprod.data.fingerprint import fingerprint

        return _describe(fingerprint(obj), role)
    raise ConfigurationError(
        f"datasets[{role!r}]: cannot record a dataset of type {type(obj).__name__}. Pass a "
        "DatasetVersion (from mp.DatasetStore.commit), a Fingerprint (mp.fingerprint(df)) or "
        "a DataFrame.",
        parameter=f"datasets.{role}",
        value=repr(obj)[:200],
    )


def _role(obj: Any, default: str) -> str:
    # A frame with a column called "name" answers .name with that column.
    name = getattr(obj, "name", None)
    return name if isinstance(name, str) and name else default


def datasets(value: Any) -> dict[str, dict[str, Any]]:
    """``{role: description}`` from a mapping, a sequence, or one dataset."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = [(_role(d, f"dataset{i}"), d) for i, d in enumerate(value)]
    else:
        items = [(_role(value, "data"), value)]
    return {str(role): _describe(obj, str(role)) for role, obj in items}


def dataset_node_id(d: Mapping[str, Any]) -> str:
    """The lineage id of a dataset description."""
    if d.get("kind") == "dataset_version":
        return f"dataset:{d['name']}@{d['version']}"
    return f"fingerprint:{d['fingerprint']}"


def dataset_keys(described: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(role, key) rows for the inputs index: a dataset is found by version or content."""
    keys: list[tuple[str, str]] = []
    for role, d in described.items():
        keys.append((role, f"fingerprint:{d['fingerprint']}"))
        if d.get("kind") == "dataset_version":
            keys.append((role, dataset_node_id(d)))
    return keys


def _is_frame(obj: Any) -> bool:
    """A pandas DataFrame, without importing pandas."""
    return any(
        c.__name__ == "DataFrame" and c.__module__.startswith("pandas") for c in type(obj).__mro__
    )


def _schema_json(obj: Any, part: str) -> Any:
    if obj is None:
        return None
    if _is_frame(obj):
        # A frame stands for the schema inferred from it (what mp.infer_schema
        # gives): its own to_json would write the data, not a signature. An
        # input it cannot describe raises the ConfigurationError that names
        # the column.
        from mlprod.data.validation import infer_schema

        obj = infer_schema(obj)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        text = to_json()
        return json.loads(text) if isinstance(text, str | bytes) else to_jsonable(text)
    if isinstance(obj, Mapping):
        return to_jsonable(obj)
    if isinstance(obj, str):
        try:
            return json.loads(obj)
        except ValueError:
            pass
    raise ConfigurationError(
        f"signature {part} must be an mp.Schema, its JSON or a DataFrame to infer it "
        f"from, got {type(obj).__name__}. "
        "Build one with mp.infer_schema(X_train).",
        parameter="signature",
        value=repr(obj)[:200],
    )


def signature(value: Any) -> dict[str, Any] | None:
    """``{"inputs": schema JSON, "outputs": schema JSON | None}`` or ``None``."""
    if value is None:
        return None
    if isinstance(value, Mapping) and set(value) <= {"inputs", "outputs"} and value:
        return {
            "inputs": _schema_json(value.get("inputs"), "inputs"),
            "outputs": _schema_json(value.get("outputs"), "outputs"),
        }
    return {"inputs": _schema_json(value, "inputs"), "outputs": None}


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}


def condition(metric: str, spec: Any) -> Callable[[float], bool]:
    """A predicate on a metric value from ``">= 0.8"``, a number, a tuple or a callable."""
    if callable(spec):
        return spec  # type: ignore[no-any-return]
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        target = float(spec)
        return lambda v: v == target
    if isinstance(spec, tuple) and len(spec) == 2:
        spec = f"{spec[0]} {spec[1]}"
    if isinstance(spec, str):
        text = spec.strip()
        for symbol in sorted(_OPS, key=len, reverse=True):
            if text.startswith(symbol):
                try:
                    bound = float(text[len(symbol) :])
                except ValueError:
                    break
                op = _OPS[symbol]
                return lambda v: op(v, bound)
    raise ConfigurationError(
        f"Cannot read the condition {spec!r} on metric {metric!r}: write it as '>= 0.8', "
        "'< 0.3', '== 1', a number, or a callable taking the value.",
        parameter=f"metrics.{metric}",
        value=repr(spec),
    )


def _ranking(order_by: str) -> tuple[Callable[[int, Any], Any], bool]:
    """(sort key of a version at a position, descending?) for ``order_by``."""
    desc = order_by.startswith("-")
    key = order_by.lstrip("-+")
    if key == "version":
        return (lambda _i, v: (v.name, v.version)), desc
    if key == "created_at":
        return (lambda _i, v: v.created_at), desc
    if key.startswith("metrics."):
        metric = key.split(".", 1)[1]
        # Versions without the metric come last either way, in the order found.
        if desc:
            return (lambda i, v: (1, v.metrics[metric]) if metric in v.metrics else (0, -i)), True
        return (lambda i, v: (0, v.metrics[metric]) if metric in v.metrics else (1, i)), False
    raise ConfigurationError(
        f"Cannot order by {order_by!r}: use 'version', 'created_at' or 'metrics.<name>', "
        "with '-' in front for descending.",
        parameter="order_by",
        value=order_by,
    )


def first(found: Iterable[Any], order_by: str | None, limit: int | None) -> list[Any]:
    """The first ``limit`` versions of ``found`` sorted by ``order_by``.

    Sorts by ``version``, ``created_at`` or ``metrics.<name>`` (``-`` for
    descending), stably. With a limit, at most that many versions are held
    while ``found`` is read, and without an order reading stops there.
    """
    if not order_by:
        return list(found if limit is None else itertools.islice(found, limit))
    rank, desc = _ranking(order_by)
    if limit is None:
        ranked = sorted(enumerate(found), key=lambda p: rank(*p), reverse=desc)
    else:
        # Documented as sorted(...)[:limit], ties included, in O(limit) memory.
        pick = heapq.nlargest if desc else heapq.nsmallest
        ranked = pick(limit, enumerate(found), key=lambda p: rank(*p))
    return [v for _, v in ranked]
