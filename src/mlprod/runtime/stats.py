"""Guard statistics: what the guard counted, as a frozen value you can export.

A guard records every call under one short lock into a :class:`StatsRecorder`;
:meth:`~mlprod.runtime.guard.Guard.stats` takes a consistent snapshot as a
:class:`GuardStats`, which renders for people (text, Markdown, notebook HTML)
and for machines (``to_dict``, Prometheus text exposition), and merges with
the statistics of other processes.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from mlprod._internal.render import Document, Rendered, Section, Table
from mlprod.errors import ConfigurationError
from mlprod.runtime.histogram import _EMAX, _EMIN, _SIZE, _SUB, LatencyHistogram

_LAST_BUCKET = _SIZE - 1

__all__ = ["OUTCOMES", "GuardStats", "StatsRecorder", "prometheus_text"]

OUTCOMES = (
    "ok",
    "timeout",
    "error",
    "invalid_input",
    "invalid_output",
    "breaker_open",
    "shed",
    "over_budget",
)
"""Every outcome a guarded call can have, in the order of defence."""

_BREAKER_CODE = {None: -1, "closed": 0, "half_open": 1, "open": 2}
_SHADOW_KEYS = ("runs", "disagreements", "errors", "dropped")
_ANSWERS = ("primary", "fallback", "none")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(value: float) -> str:
    """A sample value at full precision (a rounded sum makes rate() jump)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _frozen_counts(counts: Mapping[str, int], keys: tuple[str, ...]) -> Mapping[str, int]:
    return MappingProxyType({k: int(counts.get(k, 0)) for k in keys})


@dataclass(frozen=True, repr=False)
class GuardStats(Rendered):
    """A snapshot of a guard's counters and latency distribution.

    Attributes
    ----------
    name:
        The guard's name.
    calls:
        Calls made so far.
    outcomes:
        Calls per outcome (every outcome present, zeros included).
    answered_by:
        Calls answered by the ``"primary"``, by a ``"fallback"``, or by
        ``"none"`` (the guard raised).
    breaker_state:
        ``"closed"``, ``"open"``, ``"half_open"``, or ``None`` without a breaker.
    in_flight:
        Primary calls running now (orphans included).
    orphans:
        Timed-out primary calls still running in their thread; each holds a slot.
    orphans_finished:
        Orphans that have since finished (their result was discarded).
    workers_killed:
        Worker processes killed on timeout (``isolation="process"``).
    worker_restart_failures:
        Attempts to replace a killed worker that failed; a later call tries again.
    shadow:
        Shadow runs, disagreements, errors and dropped runs.
    cost_spent:
        Cost spent within the current budget window, or ``None`` without a budget.
    cost_errors:
        Answers whose cost could not be counted: the cost function failed or
        returned a negative, NaN or infinite cost (each is logged as an error).
    audit_errors:
        Audit records the sink failed to write (the calls still answered).
    explanations:
        Calls whose audit record carries an explanation (``explainer=``).
    explain_errors:
        Sampled calls whose explainer failed (noted in their audit record;
        the calls still answered).
    latency:
        The latency histogram (milliseconds) of every call, answer included.
        The snapshot holds its own copy, read-only.

    The mappings are read-only views: a snapshot does not change once taken.

    Examples
    --------
    >>> import mlprod as mp
    >>> g = mp.guard(lambda X: [1] * len(X))
    >>> _ = g.predict([[0.0]])
    >>> s = g.stats()
    >>> s.calls, s.outcomes["ok"], s.fallback_rate
    (1, 1, 0.0)
    >>> "mlprod_guard_calls_total" in s.to_prometheus()
    True
    """

    __module__ = "mlprod"

    name: str
    calls: int
    outcomes: Mapping[str, int]
    answered_by: Mapping[str, int]
    breaker_state: str | None
    in_flight: int
    orphans: int
    orphans_finished: int = 0
    workers_killed: int = 0
    worker_restart_failures: int = 0
    shadow: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(_SHADOW_KEYS, 0))
    cost_spent: float | None = None
    audit_errors: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram, repr=False)
    cost_errors: int = 0
    explanations: int = 0
    explain_errors: int = 0

    def __post_init__(self) -> None:
        # Read-only all the way down: a snapshot that callers could edit would not be one.
        object.__setattr__(self, "outcomes", _frozen_counts(self.outcomes, OUTCOMES))
        object.__setattr__(self, "answered_by", _frozen_counts(self.answered_by, _ANSWERS))
        object.__setattr__(self, "shadow", _frozen_counts(self.shadow, _SHADOW_KEYS))
        if not self.latency.frozen:
            object.__setattr__(self, "latency", self.latency.frozen_copy())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Read-only views do not pickle: rebuild from plain dicts, by the public name.
        values = [getattr(self, f.name) for f in fields(self)]
        return type(self), tuple(dict(v) if isinstance(v, Mapping) else v for v in values)

    @property
    def fallback_rate(self) -> float:
        """Share of calls answered by a fallback (0.0 with no calls)."""
        return self.answered_by.get("fallback", 0) / self.calls if self.calls else 0.0

    @property
    def p50_ms(self) -> float:
        """Median latency in milliseconds (NaN with no calls)."""
        return self.latency.quantile(0.5)

    @property
    def p90_ms(self) -> float:
        """90th-percentile latency in milliseconds."""
        return self.latency.quantile(0.9)

    @property
    def p99_ms(self) -> float:
        """99th-percentile latency in milliseconds."""
        return self.latency.quantile(0.99)

    @property
    def p999_ms(self) -> float:
        """99.9th-percentile latency in milliseconds."""
        return self.latency.quantile(0.999)

    def merge(self, other: GuardStats) -> GuardStats:
        """Combine with another snapshot (e.g. from another process): counts add up.

        Gauges (in-flight, orphans) add up too; the breaker state kept is the
        worse of the two.
        """
        worse = max(
            (self.breaker_state, other.breaker_state), key=lambda s: _BREAKER_CODE.get(s, -1)
        )
        spent = None
        if self.cost_spent is not None or other.cost_spent is not None:
            spent = (self.cost_spent or 0.0) + (other.cost_spent or 0.0)
        return GuardStats(
            name=self.name,
            calls=self.calls + other.calls,
            outcomes={k: self.outcomes.get(k, 0) + other.outcomes.get(k, 0) for k in OUTCOMES},
            answered_by={
                k: self.answered_by.get(k, 0) + other.answered_by.get(k, 0)
                for k in ("primary", "fallback", "none")
            },
            breaker_state=worse,
            in_flight=self.in_flight + other.in_flight,
            orphans=self.orphans + other.orphans,
            orphans_finished=self.orphans_finished + other.orphans_finished,
            workers_killed=self.workers_killed + other.workers_killed,
            worker_restart_failures=self.worker_restart_failures + other.worker_restart_failures,
            shadow={k: self.shadow.get(k, 0) + other.shadow.get(k, 0) for k in _SHADOW_KEYS},
            cost_spent=spent,
            audit_errors=self.audit_errors + other.audit_errors,
            latency=self.latency.merged(other.latency),
            cost_errors=self.cost_errors + other.cost_errors,
            explanations=self.explanations + other.explanations,
            explain_errors=self.explain_errors + other.explain_errors,
        )

    def to_dict(self) -> dict[str, Any]:
        """Every counter, the percentiles and the sparse histogram as plain data."""

        def _num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {
            "name": self.name,
            "calls": self.calls,
            "outcomes": dict(self.outcomes),
            "answered_by": dict(self.answered_by),
            "fallback_rate": self.fallback_rate,
            "breaker_state": self.breaker_state,
            "in_flight": self.in_flight,
            "orphans": self.orphans,
            "orphans_finished": self.orphans_finished,
            "workers_killed": self.workers_killed,
            "worker_restart_failures": self.worker_restart_failures,
            "shadow": dict(self.shadow),
            "cost_spent": self.cost_spent,
            "cost_errors": self.cost_errors,
            "audit_errors": self.audit_errors,
            "explanations": self.explanations,
            "explain_errors": self.explain_errors,
            "latency_ms": {
                "p50": _num(self.p50_ms),
                "p90": _num(self.p90_ms),
                "p99": _num(self.p99_ms),
                "p999": _num(self.p999_ms),
                "mean": _num(self.latency.mean),
                "max": self.latency.max,
            },
            "histogram": self.latency.to_dict(),
        }

    def to_prometheus(self, *, prefix: str = "mlprod_guard") -> str:
        """Prometheus text exposition (format 0.0.4) of the counters, gauges and latency summary.

        For several guards on one endpoint use :func:`prometheus_text`: the
        outputs of ``to_prometheus`` cannot be concatenated, as each repeats
        the ``# HELP`` and ``# TYPE`` lines.

        Examples
        --------
        >>> import mlprod as mp
        >>> g = mp.guard(lambda X: [0] * len(X), name="churn")
        >>> _ = g.predict([[1]])
        >>> print(g.stats().to_prometheus().splitlines()[2])
        mlprod_guard_calls_total{guard="churn",outcome="ok"} 1
        """
        return prometheus_text(self, prefix=prefix)

    def _families(self, prefix: str) -> list[tuple[str, str, str, list[str]]]:
        """``(metric, type, help, sample lines)`` of every metric family, in exposition order."""
        label = f'guard="{_label_value(self.name)}"'
        families = [
            (
                f"{prefix}_calls_total",
                "counter",
                "Guarded calls by outcome.",
                [
                    f'{prefix}_calls_total{{{label},outcome="{k}"}} {self.outcomes.get(k, 0)}'
                    for k in OUTCOMES
                ],
            ),
            (
                f"{prefix}_answers_total",
                "counter",
                "Calls by what answered them.",
                [
                    f'{prefix}_answers_total{{{label},path="{k}"}} {self.answered_by.get(k, 0)}'
                    for k in ("primary", "fallback", "none")
                ],
            ),
        ]
        gauges = [
            ("in_flight", "Primary calls running now, orphans included.", self.in_flight),
            ("orphans", "Timed-out calls still running.", self.orphans),
            ("fallback_rate", "Share of calls answered by a fallback.", self.fallback_rate),
            (
                "breaker_state",
                "Breaker state: -1 none, 0 closed, 1 half-open, 2 open.",
                _BREAKER_CODE.get(self.breaker_state, -1),
            ),
        ]
        if self.cost_spent is not None:
            gauges.append(("cost_spent", "Cost spent in the budget window.", self.cost_spent))
        counters = [
            ("orphans_finished_total", "Orphans that finished late.", self.orphans_finished),
            ("workers_killed_total", "Worker processes killed on timeout.", self.workers_killed),
            (
                "worker_restart_failures_total",
                "Failed attempts to replace a killed worker process.",
                self.worker_restart_failures,
            ),
            ("audit_errors_total", "Audit records that could not be written.", self.audit_errors),
            ("cost_errors_total", "Answers whose cost could not be counted.", self.cost_errors),
            ("explanations_total", "Audit records with an explanation.", self.explanations),
            ("explain_errors_total", "Sampled calls whose explainer failed.", self.explain_errors),
        ]
        counters += [
            (f"shadow_{k}_total", f"Shadow model {k}.", self.shadow.get(k, 0)) for k in _SHADOW_KEYS
        ]
        for kind, metrics in (("gauge", gauges), ("counter", counters)):
            families += [
                (
                    f"{prefix}_{metric}",
                    kind,
                    help_text,
                    [f"{prefix}_{metric}{{{label}}} {_sample(value)}"],
                )
                for metric, help_text, value in metrics
            ]
        latency = [
            f'{prefix}_latency_seconds{{{label},quantile="{q:g}"}} '
            f"{_sample(self.latency.quantile(q) / 1000)}"
            for q in (0.5, 0.9, 0.99, 0.999)
        ]
        latency.append(
            f"{prefix}_latency_seconds_sum{{{label}}} {_sample(self.latency.total / 1000)}"
        )
        latency.append(f"{prefix}_latency_seconds_count{{{label}}} {self.latency.count}")
        families.append(
            (f"{prefix}_latency_seconds", "summary", "Call latency, answer included.", latency)
        )
        return families

    def _document(self, **options: Any) -> Document:
        def ms(x: float) -> str:
            return "-" if math.isnan(x) else f"{x:.3g} ms"

        facts: dict[str, Any] = {
            "calls": self.calls,
            "fallback rate": f"{self.fallback_rate:.1%}",
            "breaker": self.breaker_state or "none",
            "in flight": self.in_flight,
            "orphans": self.orphans,
            "latency p50 / p90 / p99 / p99.9": " / ".join(
                ms(v) for v in (self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms)
            ),
        }
        if self.cost_spent is not None:
            facts["cost spent (window)"] = self.cost_spent
        if self.cost_errors:
            facts["costs not counted"] = self.cost_errors
        if self.audit_errors:
            facts["audit records lost"] = self.audit_errors
        if self.explanations or self.explain_errors:
            facts["explanations (failed)"] = f"{self.explanations} ({self.explain_errors})"
        rows = [[k, self.outcomes.get(k, 0)] for k in OUTCOMES if self.outcomes.get(k, 0)]
        sections = [Section("Outcomes", table=Table(["outcome", "calls"], rows))]
        if self.shadow.get("runs", 0) or self.shadow.get("dropped", 0):
            sections.append(
                Section(
                    "Shadow",
                    table=Table(
                        ["runs", "disagreements", "errors", "dropped"],
                        [[self.shadow.get(k, 0) for k in _SHADOW_KEYS]],
                    ),
                )
            )
        healthy = self.breaker_state != "open" and self.fallback_rate < 0.5
        return Document(f"Guard {self.name!r}", ok=healthy, facts=facts, sections=sections)

    def __repr__(self) -> str:
        def ms(x: float) -> str:
            return "nan" if math.isnan(x) else f"{x:.3g}"

        nonzero = {k: v for k, v in self.outcomes.items() if v}
        return (
            f"GuardStats(name={self.name!r}, calls={self.calls}, outcomes={nonzero}, "
            f"fallback_rate={self.fallback_rate:.3f}, breaker_state={self.breaker_state!r}, "
            f"in_flight={self.in_flight}, orphans={self.orphans}, "
            f"p50_ms={ms(self.p50_ms)}, p99_ms={ms(self.p99_ms)})"
        )


def prometheus_text(*stats: GuardStats, prefix: str = "mlprod_guard") -> str:
    """One Prometheus text exposition (format 0.0.4) of several guards' statistics.

    Each metric family gets one ``# HELP`` and one ``# TYPE`` line, followed by
    the samples of every guard, told apart by their ``guard`` label: what one
    ``/metrics`` endpoint serving several guards must return.

    Parameters
    ----------
    *stats:
        Snapshots from :meth:`~mlprod.runtime.guard.Guard.stats`, one per guard.
    prefix:
        The start of every metric name.

    Raises
    ------
    ConfigurationError
        If ``prefix`` would make invalid metric names, or two snapshots carry
        the same guard name (their samples would collide).

    Examples
    --------
    >>> import mlprod as mp
    >>> from mlprod.runtime.stats import prometheus_text
    >>> a = mp.guard(lambda X: [0] * len(X), name="churn")
    >>> b = mp.guard(lambda X: [1] * len(X), name="fraud")
    >>> text = prometheus_text(a.stats(), b.stats())
    >>> text.count("# TYPE mlprod_guard_calls_total counter")
    1
    >>> [line for line in text.splitlines() if line.startswith("mlprod_guard_in_flight")]
    ['mlprod_guard_in_flight{guard="churn"} 0', 'mlprod_guard_in_flight{guard="fraud"} 0']
    """
    if not _METRIC_NAME.fullmatch(prefix):
        raise ConfigurationError(
            f"prefix {prefix!r} would make invalid Prometheus metric names: use letters, "
            "digits, '_' and ':' only, not starting with a digit (e.g. 'myapp_guard')",
            parameter="prefix",
            value=prefix,
        )
    seen: set[str] = set()
    for s in stats:
        if s.name in seen:
            raise ConfigurationError(
                f"two of the statistics are of guards named {s.name!r}: their samples would "
                "carry the same labels. Give each guard its own name=, or merge() the "
                "statistics of one guard's processes into one first.",
                parameter="stats",
                value=s.name,
            )
        seen.add(s.name)
    families: dict[str, tuple[str, str, list[str]]] = {}
    for s in stats:
        for metric, kind, help_text, samples in s._families(prefix):
            families.setdefault(metric, (kind, help_text, []))[2].extend(samples)
    out: list[str] = []
    for metric, (kind, help_text, samples) in families.items():
        out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}", *samples]
    return "\n".join(out) + "\n" if out else ""


class StatsRecorder:
    """The mutable counters behind :class:`GuardStats`; one lock, held briefly per call."""

    __slots__ = (
        "_lock",
        "answered_by",
        "audit_errors",
        "calls",
        "cost_errors",
        "explain_errors",
        "explanations",
        "latency",
        "outcomes",
        "shadow",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.answered_by = {"primary": 0, "fallback": 0, "none": 0}
        self.shadow = dict.fromkeys(_SHADOW_KEYS, 0)
        self.audit_errors = 0
        self.cost_errors = 0
        self.explanations = 0
        self.explain_errors = 0
        self.latency = LatencyHistogram()

    def record(self, outcome: str, answered_by: str, latency_ms: float) -> None:
        """Count one finished call."""
        # The bucket, inlined from histogram.bucket_index (one call less per guarded call),
        # outside the lock: it needs nothing shared.
        if latency_ms <= 0.0:
            index = 0
        else:
            mant, exp = math.frexp(latency_ms)
            if exp < _EMIN:
                index = 0
            elif exp > _EMAX:
                index = _LAST_BUCKET
            else:
                index = (exp - _EMIN) * _SUB + int((mant - 0.5) * 2 * _SUB)
        with self._lock:
            self.calls += 1
            self.outcomes[outcome] += 1
            self.answered_by[answered_by] += 1
            self.latency.add(index, latency_ms)

    def count_shadow(self, key: str) -> None:
        """Count one shadow event (``runs``, ``disagreements``, ``errors`` or ``dropped``)."""
        with self._lock:
            self.shadow[key] += 1

    def count_audit_error(self) -> None:
        """Count one audit record the sink failed to write."""
        with self._lock:
            self.audit_errors += 1

    def count_cost_error(self) -> None:
        """Count one answer whose cost could not be counted."""
        with self._lock:
            self.cost_errors += 1

    def count_explanation(self, *, failed: bool) -> None:
        """Count one explained call (``failed`` when its explainer raised)."""
        with self._lock:
            if failed:
                self.explain_errors += 1
            else:
                self.explanations += 1

    def snapshot(self, **gauges: Any) -> GuardStats:
        """A consistent :class:`GuardStats`, with the given gauges filled in."""
        with self._lock:
            return GuardStats(
                calls=self.calls,
                outcomes=dict(self.outcomes),
                answered_by=dict(self.answered_by),
                shadow=dict(self.shadow),
                audit_errors=self.audit_errors,
                cost_errors=self.cost_errors,
                explanations=self.explanations,
                explain_errors=self.explain_errors,
                latency=self.latency.frozen_copy(),
                **gauges,
            )


# The class reports mlprod as its module, so doctest would not see it as defined here.
__test__ = {"GuardStats": GuardStats}
# Reported, documented and pickled under the public path.
prometheus_text.__module__ = "mlprod"
