"""Promotion gates: checks that must pass before an alias moves.

A gate is any callable ``gate(candidate, current, *, actor=None)`` returning
a verdict (an object with ``passed``, ``gate`` and ``evidence``; see
:class:`mlprod.protocols.Gate`). ``candidate`` is the
:class:`~mlprod.ModelVersion` about to take the alias, ``current`` the one
holding it now (``None`` for a new alias). Built-ins:

* :func:`metric_threshold` — a metric at or above (or below) a bound;
* :func:`beats_current` — better than the current holder by a margin;
* :func:`signature_compatible` — accepts every input the holder accepted;
* :func:`four_eyes` — the person moving the alias did not register the version.

Examples
--------
>>> import mlprod as mp, tempfile
>>> reg = mp.ModelRegistry(tempfile.mkdtemp())
>>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.81}, actor="ana")
>>> _ = reg.set_alias("churn", "production", 1, actor="bo",
...                   gates=[mp.gates.metric_threshold("auc", min=0.8), mp.gates.four_eyes()])
>>> reg.resolve("churn", "production").version
1
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlprod._internal import render
from mlprod._internal.canonical import to_jsonable
from mlprod.models._frozen import freeze, thaw
from mlprod.protocols import Gate

__all__ = [
    "Verdict",
    "beats_current",
    "compare_signatures",
    "four_eyes",
    "metric_threshold",
    "signature_compatible",
]


@dataclass(frozen=True)
class Verdict(render.Rendered):
    """A gate's decision and the evidence behind it.

    Attributes
    ----------
    gate:
        The gate's name.
    passed:
        ``True`` when the alias may move.
    evidence:
        JSON-serialisable facts: the values compared, the bounds, the diff.
    message:
        One sentence for people.

    Examples
    --------
    >>> from mlprod.models.gates import Verdict
    >>> Verdict("manual", True, {"ticket": "CHG-12"}, "approved").to_dict()["evidence"]
    {'ticket': 'CHG-12'}
    """

    gate: str
    passed: bool
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)  # dicts do not hash
    message: str = ""

    def __post_init__(self) -> None:
        # What was recorded is what the verdict shows: JSON data, read-only at every depth.
        object.__setattr__(self, "evidence", freeze(_plain(self.evidence)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Verdict, (self.gate, self.passed, thaw(self.evidence), self.message))

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "gate": self.gate,
            "passed": bool(self.passed),
            "evidence": _plain(self.evidence),
            "message": self.message,
        }

    def _document(self, **options: Any) -> render.Document:
        return render.Document(
            f"Gate {self.gate}",
            self.passed,
            {"message": self.message},
            [
                render.Section(
                    "Evidence",
                    table=render.Table(
                        ["key", "value"],
                        [[k, json.dumps(v)] for k, v in thaw(self.evidence).items()],
                    ),
                )
            ],
        )

    def __bool__(self) -> bool:
        return bool(self.passed)


def _plain(evidence: Any) -> dict[str, Any]:
    """Evidence as JSON the event log can seal, whatever a gate put in it.

    A gate's evidence is recorded, never acted on, so an object without a JSON
    form is kept as its repr and NaN/infinity as text rather than failing the move.
    """

    def finite(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [finite(v) for v in value]
        return value

    return finite(to_jsonable(thaw(dict(evidence or {})), strict=False))  # type: ignore[no-any-return]


def _metric(version: Any, metric: str) -> float | None:
    value = (getattr(version, "metrics", None) or {}).get(metric)
    return None if value is None else float(value)


class _Gate:
    name = "gate"

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "name")
        return f"gates.{type(self).__name__.lstrip('_')}({fields})"


class _MetricThreshold(_Gate):
    def __init__(self, metric: str, min: float | None, max: float | None) -> None:
        self.metric, self.min, self.max = metric, min, max
        self.name = f"metric_threshold({metric})"

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> Verdict:
        value = _metric(candidate, self.metric)
        evidence: dict[str, Any] = {
            "metric": self.metric,
            "value": value,
            "min": self.min,
            "max": self.max,
        }
        if value is None:
            have = sorted(getattr(candidate, "metrics", {}) or {})
            evidence["available"] = have
            return Verdict(
                self.name,
                False,
                evidence,
                f"{getattr(candidate, 'ref', candidate)} has no metric {self.metric!r} "
                f"(it has {have}); register it with metrics={{{self.metric!r}: ...}}.",
            )
        low_ok = self.min is None or value >= self.min
        high_ok = self.max is None or value <= self.max
        bounds = " and ".join(
            b
            for b in (
                self.min is not None and f">= {self.min}",
                self.max is not None and f"<= {self.max}",
            )
            if b
        )
        word = "meets" if low_ok and high_ok else "fails"
        return Verdict(
            self.name, low_ok and high_ok, evidence, f"{self.metric} = {value:g} {word} {bounds}"
        )


def metric_threshold(metric: str, *, min: float | None = None, max: float | None = None) -> Gate:
    """Gate: the candidate's ``metric`` is ``>= min`` and/or ``<= max``.

    Examples
    --------
    >>> import mlprod as mp
    >>> gate = mp.gates.metric_threshold("auc", min=0.8)
    >>> class V: metrics = {"auc": 0.75}; ref = "churn:2"
    >>> gate(V(), None).passed
    False
    """
    if min is None and max is None:
        from mlprod.errors import ConfigurationError

        raise ConfigurationError(
            "metric_threshold needs min=, max= or both.", parameter="min", value=None
        )
    if min is not None and max is not None and min > max:
        from mlprod.errors import ConfigurationError

        raise ConfigurationError(
            f"metric_threshold({metric!r}, min={min}, max={max}): no value can pass, as min is "
            "above max. Swap them, or for lower-is-better metrics pass only max=.",
            parameter="max",
            value=max,
        )
    return _MetricThreshold(metric, min, max)


class _BeatsCurrent(_Gate):
    def __init__(self, metric: str, margin: float, higher_is_better: bool) -> None:
        self.metric, self.margin, self.higher_is_better = metric, margin, higher_is_better
        self.name = f"beats_current({metric})"

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> Verdict:
        value = _metric(candidate, self.metric)
        evidence: dict[str, Any] = {
            "metric": self.metric,
            "candidate": value,
            "margin": self.margin,
            "higher_is_better": self.higher_is_better,
        }
        if current is None:
            evidence["current"] = None
            return Verdict(self.name, True, evidence, "no current holder: nothing to beat")
        held = _metric(current, self.metric)
        evidence["current"] = held
        evidence["current_version"] = getattr(current, "version", None)
        if value is None or held is None:
            who = "candidate" if value is None else f"current holder v{evidence['current_version']}"
            return Verdict(
                self.name, False, evidence, f"the {who} has no metric {self.metric!r} to compare"
            )
        gain = value - held if self.higher_is_better else held - value
        evidence["improvement"] = gain
        passed = gain >= self.margin and math.isfinite(gain)
        return Verdict(
            self.name,
            passed,
            evidence,
            f"{self.metric}: {value:g} vs {held:g} "
            f"(improvement {gain:+g}, needed {self.margin:+g})",
        )


def beats_current(metric: str, *, margin: float = 0.0, higher_is_better: bool = True) -> Gate:
    """Gate: the candidate beats the alias's current holder on ``metric`` by ``margin``.

    Passes when the alias has no holder yet.

    Examples
    --------
    >>> import mlprod as mp
    >>> gate = mp.gates.beats_current("auc", margin=0.01)
    >>> class New: metrics = {"auc": 0.85}
    >>> class Old: metrics = {"auc": 0.80}; version = 1
    >>> gate(New(), Old()).evidence["improvement"] > 0.01
    True
    """
    return _BeatsCurrent(metric, float(margin), higher_is_better)


def _columns(schema_json: Any) -> dict[str, dict[str, Any]]:
    """Column name -> {"dtype", "nullable"} from a schema's JSON, whatever its layout."""
    if isinstance(schema_json, str):
        schema_json = json.loads(schema_json)
    cols = (
        schema_json.get("columns", schema_json) if isinstance(schema_json, Mapping) else schema_json
    )
    out: dict[str, dict[str, Any]] = {}
    items: Any
    if isinstance(cols, Mapping):
        items = cols.items()
    else:
        items = [(c.get("name"), c) for c in cols or ()]
    for name, spec in items:
        spec = spec if isinstance(spec, Mapping) else {"dtype": spec}
        out[str(name)] = {
            "dtype": spec.get("dtype", spec.get("type")),
            "nullable": bool(spec.get("nullable", False)),
            "required": bool(spec.get("required", True)),
        }
    return out


def compare_signatures(old: Any, new: Any) -> dict[str, Any]:
    """What a caller of ``old`` would break on if served by ``new``.

    Returns ``missing`` (columns callers send that ``new`` lacks), ``added``
    (columns ``new`` requires that callers do not send), ``dtype_changed`` and
    ``nullability_tightened`` (nulls the holder accepted and ``new`` rejects).

    Examples
    --------
    >>> from mlprod.models.gates import compare_signatures
    >>> old = {"columns": {"age": {"dtype": "int64", "nullable": True}}}
    >>> new = {"columns": {"age": {"dtype": "float64", "nullable": False}}}
    >>> d = compare_signatures(old, new)
    >>> d["dtype_changed"], d["nullability_tightened"]
    ([{'column': 'age', 'current': 'int64', 'candidate': 'float64'}], ['age'])
    """
    a, b = _columns(old), _columns(new)
    return {
        "missing": sorted(set(a) - set(b)),
        "added": sorted(c for c in set(b) - set(a) if b[c]["required"] and not b[c]["nullable"]),
        "dtype_changed": [
            {"column": c, "current": a[c]["dtype"], "candidate": b[c]["dtype"]}
            for c in sorted(set(a) & set(b))
            if a[c]["dtype"] != b[c]["dtype"]
        ],
        "nullability_tightened": sorted(
            c for c in set(a) & set(b) if a[c]["nullable"] and not b[c]["nullable"]
        ),
    }


class _SignatureCompatible(_Gate):
    def __init__(self, require: bool) -> None:
        self.require = require
        self.name = "signature_compatible"

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> Verdict:
        new = (getattr(candidate, "signature_json", None) or {}).get("inputs")
        if new is None:
            ok = not self.require
            return Verdict(
                self.name,
                ok,
                {"candidate_signature": None},
                "the candidate has no signature"
                + ("" if ok else "; register it with signature=schema"),
            )
        if current is None:
            return Verdict(self.name, True, {"current": None}, "no current holder to compare with")
        old = (getattr(current, "signature_json", None) or {}).get("inputs")
        if old is None:
            return Verdict(
                self.name,
                True,
                {"current_signature": None},
                "the current holder has no signature to compare with",
            )
        diff = compare_signatures(old, new)
        broken = any(diff.values())
        problems = "; ".join(f"{k}: {v}" for k, v in diff.items() if v)
        return Verdict(
            self.name,
            not broken,
            {"current_version": getattr(current, "version", None), **diff},
            f"incompatible with v{getattr(current, 'version', '?')}: {problems}"
            if broken
            else "accepts every input the current holder accepts",
        )


def signature_compatible(*, require: bool = False) -> Gate:
    """Gate: the candidate accepts every input the current holder accepts.

    Compares the input schemas' columns, dtypes and nullability (see
    :func:`compare_signatures`). ``require=True`` also fails a candidate
    registered without a signature.

    Examples
    --------
    >>> import mlprod as mp
    >>> gate = mp.gates.signature_compatible()
    >>> class V: signature_json = {"inputs": {"columns": {"age": {"dtype": "int64"}}}}; version = 1
    >>> gate(V(), V()).passed
    True
    """
    return _SignatureCompatible(require)


class _FourEyes(_Gate):
    def __init__(self) -> None:
        self.name = "four_eyes"

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> Verdict:
        author = getattr(candidate, "registered_by", None)
        evidence = {"actor": actor, "registered_by": author}
        if not actor:
            return Verdict(
                self.name, False, evidence, "four eyes needs actor= naming who moves the alias"
            )
        if not author:
            # Without a registrant there is no second person to tell apart.
            return Verdict(
                self.name,
                False,
                evidence,
                f"{getattr(candidate, 'ref', 'the version')} does not record who registered it, "
                "so four eyes cannot be checked; register versions with actor=",
            )
        if actor.casefold() == str(author).casefold():
            return Verdict(
                self.name,
                False,
                evidence,
                f"{actor!r} registered this version and cannot also promote it; "
                "ask someone else to move the alias",
            )
        return Verdict(self.name, True, evidence, f"{actor!r} reviews {author!r}'s version")


def four_eyes() -> Gate:
    """Gate: whoever moves the alias is not who registered the candidate.

    Fails when either is unknown: a version registered without an actor (and
    with no OS user to default to) cannot pass it.

    Examples
    --------
    >>> import mlprod as mp
    >>> class V: registered_by = "ana"
    >>> mp.gates.four_eyes()(V(), None, actor="ana").passed
    False
    """
    return _FourEyes()


def _takes_actor(gate: Any) -> bool:
    try:
        params = inspect.signature(gate).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "actor" or p.kind is p.VAR_KEYWORD for p in params)


def run_gate(gate: Any, candidate: Any, current: Any | None, actor: str | None) -> Verdict:
    """Call one gate and normalise what it returns (a verdict, a bool, or an error)."""
    name = str(getattr(gate, "name", None) or getattr(gate, "__name__", None) or repr(gate))
    try:
        result = (
            gate(candidate, current, actor=actor)
            if _takes_actor(gate)
            else gate(candidate, current)
        )
    except Exception as exc:
        return Verdict(
            name,
            False,
            {"error": f"{type(exc).__name__}: {exc}"},
            f"the gate raised {type(exc).__name__}: {exc}",
        )
    if isinstance(result, Verdict):
        return Verdict(result.gate, bool(result.passed), _plain(result.evidence), result.message)
    if _is_bool(result):
        return Verdict(name, bool(result), {}, "passed" if result else "failed")
    passed = getattr(result, "passed", None)
    if passed is None:
        return Verdict(
            name,
            False,
            {"returned": repr(result)[:200]},
            "the gate returned neither a verdict (passed/evidence) nor a bool",
        )
    evidence = getattr(result, "evidence", None)
    if evidence is None and callable(getattr(result, "to_dict", None)):
        evidence = result.to_dict()
    return Verdict(
        str(getattr(result, "gate", name)),
        bool(passed),
        _plain(evidence),
        str(getattr(result, "message", "") or ("passed" if passed else "failed")),
    )


def _is_bool(value: Any) -> bool:
    # numpy comparisons answer numpy.bool_, which is not a bool subclass.
    dtype = getattr(value, "dtype", None)
    return isinstance(value, bool) or (
        getattr(dtype, "kind", None) == "b" and getattr(value, "shape", None) == ()
    )
