"""The small protocols through which mlprod's pieces meet each other and your code.

Nothing here is a base class to inherit: any object with the right methods
satisfies a protocol. A fitted scikit-learn estimator is a :class:`Predictor`
as it is; a function returning a boolean mask is a :class:`Check`; an object
with ``append`` is an :class:`AuditSink`.

Protocols are ``runtime_checkable`` where mlprod dispatches on them
(:class:`Predictor`, :class:`ProbabilisticPredictor`, :class:`AuditSink`,
:class:`Clock`).

Examples
--------
>>> import mlprod as mp
>>> class Constant:
...     def predict(self, X):
...         return [0] * len(X)
>>> isinstance(Constant(), mp.protocols.Predictor)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ArtifactStore",
    "AuditSink",
    "Check",
    "Clock",
    "Explainer",
    "Gate",
    "GateVerdict",
    "ModelRef",
    "OutputRule",
    "Predictor",
    "ProbabilisticPredictor",
    "Serializer",
    "ValidationOutcome",
    "Validator",
]


@runtime_checkable
class Predictor(Protocol):
    """Anything with ``predict(X)``: a model.

    Implemented by: your models, scikit-learn estimators, pipelines, wrappers
    around remote endpoints. Called by: :func:`mlprod.guard` (primary, fallback
    and shadow), :func:`mlprod.explain`, registry gates that score a candidate.
    """

    def predict(self, X: Any, /) -> Any:
        """Return one prediction per row of ``X``."""
        ...


@runtime_checkable
class ProbabilisticPredictor(Predictor, Protocol):
    """A :class:`Predictor` that also gives class probabilities.

    Implemented by: classifiers (``LogisticRegression``, gradient boosting, ...).
    Called by: :func:`mlprod.guard` (which then offers ``predict_proba``) and
    reports that need scores.
    """

    def predict_proba(self, X: Any, /) -> Any:
        """Return an ``(n_rows, n_classes)`` array of probabilities."""
        ...


class Check(Protocol):
    """A data check: a callable returning a boolean mask (``True`` = valid) or one bool.

    Implemented by: the built-ins under :mod:`mlprod.checks` and any function
    you write. Called by: :meth:`mlprod.Schema.validate`. A check applied to a
    column receives a ``pandas.Series``; a frame-level check receives the
    whole ``DataFrame``. Give it a ``name`` attribute (or a ``__name__``) so
    failures say which check failed.
    """

    def __call__(self, data: Any, /) -> Any:
        """Return a boolean mask aligned with ``data``, or a single bool."""
        ...


class ArtifactStore(Protocol):
    """Content-addressed storage of bytes.

    Implemented by: the registry's local and fsspec artifact stores, or yours
    (S3 with object lock, an internal blob service). Called by:
    :class:`mlprod.ModelRegistry` to keep model files by their SHA-256 digest.
    ``put`` must be atomic: a failed write leaves nothing under ``digest``.
    """

    def put(self, digest: str, data: bytes, /) -> None:
        """Store ``data`` under ``digest`` (a no-op if it is already there)."""
        ...

    def get(self, digest: str, /) -> bytes:
        """Return the bytes stored under ``digest``; raise ``KeyError`` if absent."""
        ...

    def exists(self, digest: str, /) -> bool:
        """Tell whether ``digest`` is stored."""
        ...


@runtime_checkable
class AuditSink(Protocol):
    """Where audit records go: anything with ``append(record)``.

    Implemented by: :class:`mlprod.AuditLog` (hash-chained JSON lines), a list
    in tests, your log shipper. Called by: :func:`mlprod.guard` once per call,
    and by the registry for every state change.
    """

    def append(self, record: Mapping[str, Any], /) -> Any:
        """Record one event; ``record`` holds only JSON-serialisable values."""
        ...


class Serializer(Protocol):
    """Turns a model into bytes and back.

    Implemented by: the registry's joblib (default) and skops serializers, or
    yours (ONNX, torch.save). Called by: :meth:`mlprod.ModelRegistry.register`
    and :meth:`~mlprod.ModelRegistry.load`, which records ``name`` with each
    version so the same serializer reads it back.
    """

    name: str

    def dumps(self, obj: Any, /) -> bytes:
        """Serialise ``obj`` to bytes."""
        ...

    def loads(self, data: bytes, /) -> Any:
        """Rebuild the object from bytes produced by :meth:`dumps`."""
        ...


class ModelRef(Protocol):
    """What identifies a model version wherever it travels.

    Implemented by: :class:`mlprod.ModelVersion`, or any object with these
    three attributes. Called by: :func:`mlprod.guard` (``model_ref=``) to stamp
    audit records without knowing that a registry exists.
    """

    @property
    def name(self) -> str:
        """The registered model's name."""
        ...

    @property
    def version(self) -> int:
        """The version number within the name."""
        ...

    @property
    def digest(self) -> str:
        """The SHA-256 sealing the version's content."""
        ...


class GateVerdict(Protocol):
    """What a :class:`Gate` returns: passed or not, and the evidence why."""

    @property
    def passed(self) -> bool:
        """``True`` when the gate lets the move happen."""
        ...

    @property
    def gate(self) -> str:
        """The gate's name."""
        ...

    @property
    def evidence(self) -> Mapping[str, Any]:
        """JSON-serialisable facts the decision rested on."""
        ...


class Gate(Protocol):
    """A promotion gate: looks at a candidate and the alias's current holder.

    Implemented by: the registry's built-in gates (metric threshold, beats the
    holder, signature compatibility, four eyes), fairness reports, or yours.
    Called by: :meth:`mlprod.ModelRegistry.set_alias` before moving an alias;
    every verdict is stored with the move.
    """

    name: str

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> GateVerdict:
        """Judge ``candidate`` against ``current`` (``None`` if the alias is new)."""
        ...


@runtime_checkable
class Clock(Protocol):
    """A source of time, injectable so tests run instantly.

    Implemented by: :class:`mlprod.SystemClock` and fake clocks in tests.
    Called by: :class:`mlprod.CircuitBreaker`, cost budgets, the guard.
    """

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock)."""
        ...


class Explainer(Protocol):
    """Turns rows into per-feature contributions: the audit trail's explanation hook.

    Implemented by: the object :func:`mlprod.explainer` returns (SHAP, built
    once for a model and a background), or yours. Called by:
    :func:`mlprod.guard` (``explainer=``, ``explain_every=``) on sampled
    calls, which writes each row's top contributions into its audit record.
    The runtime knows only this protocol, never the reports package.
    """

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the columns contributions are given for, in order."""
        ...

    def explain_rows(self, X: Any, /) -> Any:
        """Return an ``(n_rows, n_features)`` array of contributions to the output."""
        ...


class ValidationOutcome(Protocol):
    """What a :class:`Validator` returns: at least whether the data passed."""

    @property
    def ok(self) -> bool:
        """``True`` when the data satisfied every rule."""
        ...


class Validator(Protocol):
    """Anything with ``validate(X)`` returning an object with ``.ok``.

    Implemented by: :class:`mlprod.Schema` (its ``ValidationReport`` has
    ``.ok`` and ``.failures``), the signature stored with a registered model,
    or yours. Called by: :func:`mlprod.guard` (``input_schema=``) before each
    call; a report with ``failures`` has their count quoted in the reason.
    """

    def validate(self, X: Any, /) -> ValidationOutcome:
        """Check ``X``; never raise for bad data, say so in the result."""
        ...


class OutputRule(Protocol):
    """A rule on a model's answer: ``rule(X, y)`` returns ``True`` when ``y`` is acceptable.

    Implemented by: :class:`mlprod.OutputCheck` (which returns ``None`` or
    the reason instead) and any function you write. Called by:
    :func:`mlprod.guard` (``output_check=``) on every answer of the primary.
    """

    def __call__(self, X: Any, y: Any, /) -> Any:
        """Judge the answer ``y`` given for input ``X``."""
        ...
