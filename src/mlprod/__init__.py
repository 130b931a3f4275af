"""mlprod: production-ML building blocks.

Validate data, fingerprint and version datasets, register models with
traceable lineage, report fairness and interpretability, and guard models in
production with fallbacks, latency budgets and a tamper-evident audit log.

>>> import mlprod as mp
>>> mp.__version__
'0.1.0'

Every public name is importable from here; the modules behind them load on
first use, so ``import mlprod`` stays fast and pulls in no heavy dependency.
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

# Public name -> the module that defines it. Submodules exposed as namespaces
# (``mp.checks``, ``mp.protocols``) map to themselves with an empty attribute.
_LAZY: dict[str, tuple[str, str]] = {
    # ground
    "protocols": ("mlprod.protocols", ""),
    "MlprodError": ("mlprod.errors", "MlprodError"),
    "ConfigurationError": ("mlprod.errors", "ConfigurationError"),
    "Conflict": ("mlprod.errors", "Conflict"),
    "MissingDependency": ("mlprod.errors", "MissingDependency"),
    "SchemaError": ("mlprod.errors", "SchemaError"),
    "IntegrityError": ("mlprod.errors", "IntegrityError"),
    "NotFound": ("mlprod.errors", "NotFound"),
    "GateFailed": ("mlprod.errors", "GateFailed"),
    "BudgetExceeded": ("mlprod.errors", "BudgetExceeded"),
    "SerializationError": ("mlprod.errors", "SerializationError"),
    "Unavailable": ("mlprod.errors", "Unavailable"),
    "configure_logging": ("mlprod._internal.logging", "configure_logging"),
    "environment": ("mlprod._internal.environment", "environment"),
    "SystemClock": ("mlprod._internal.clock", "SystemClock"),
    "ManualClock": ("mlprod._internal.clock", "ManualClock"),
    # audit
    "AuditLog": ("mlprod.audit", "AuditLog"),
    "AuditVerification": ("mlprod.audit", "AuditVerification"),
    "verify_audit_log": ("mlprod.audit", "verify_audit_log"),
    "read_audit_log": ("mlprod.audit", "read_audit_log"),
    # data: validation
    "Schema": ("mlprod.data.schema", "Schema"),
    "Column": ("mlprod.data.schema", "Column"),
    "checks": ("mlprod.data.checks", ""),
    "infer_schema": ("mlprod.data.infer", "infer_schema"),
    "ValidationReport": ("mlprod.data.report", "ValidationReport"),
    # data: fingerprints and snapshots
    "fingerprint": ("mlprod.data.fingerprint", "fingerprint"),
    "fingerprint_files": ("mlprod.data.fingerprint_sources", "fingerprint_files"),
    "Fingerprint": ("mlprod.data.fingerprint", "Fingerprint"),
    "DatasetStore": ("mlprod.data.snapshots", "DatasetStore"),
    "DatasetVersion": ("mlprod.data.snapshots", "DatasetVersion"),
    "DatasetDiff": ("mlprod.data._diff", "DatasetDiff"),
    # data: drift
    "profile": ("mlprod.data.drift.profile", "profile"),
    "profile_files": ("mlprod.data.drift.sources", "profile_files"),
    "Profile": ("mlprod.data.drift.profile", "Profile"),
    "drift": ("mlprod.data.drift.compare", "drift"),
    "DriftReport": ("mlprod.data.drift.report", "DriftReport"),
    "DriftMonitor": ("mlprod.data.drift.monitor", "DriftMonitor"),
    "WindowReport": ("mlprod.data.drift.monitor", "WindowReport"),
    # models: registry and lineage
    "ModelRegistry": ("mlprod.models.registry", "ModelRegistry"),
    "ModelVersion": ("mlprod.models.version", "ModelVersion"),
    "AliasChange": ("mlprod.models.version", "AliasChange"),
    "LineageGraph": ("mlprod.models.lineage", "LineageGraph"),
    "RegistryVerification": ("mlprod.models.verify", "RegistryVerification"),
    "JoblibSerializer": ("mlprod.models.serializers", "JoblibSerializer"),
    "SkopsSerializer": ("mlprod.models.serializers", "SkopsSerializer"),
    "gates": ("mlprod.models.gates", ""),
    # runtime: the guard
    "guard": ("mlprod.runtime.factory", "guard"),
    "Guard": ("mlprod.runtime.guard", "Guard"),
    "CallOutcome": ("mlprod.runtime.outcome", "CallOutcome"),
    "GuardPolicy": ("mlprod.runtime.policy", "GuardPolicy"),
    "OutputCheck": ("mlprod.runtime.policy", "OutputCheck"),
    "GuardStats": ("mlprod.runtime.stats", "GuardStats"),
    "prometheus_text": ("mlprod.runtime.stats", "prometheus_text"),
    "LatencyHistogram": ("mlprod.runtime.histogram", "LatencyHistogram"),
    "CircuitBreaker": ("mlprod.runtime.breaker", "CircuitBreaker"),
    "deadline": ("mlprod.runtime.deadline", "deadline"),
    "remaining_ms": ("mlprod.runtime.deadline", "remaining_ms"),
    "set_guard_testing": ("mlprod.runtime._testing", "set_guard_testing"),
}

__all__ = ["__version__", *_LAZY]

if _typing.TYPE_CHECKING:  # what type checkers and IDEs see; kept equal to _LAZY by a test
    from mlprod import protocols
    from mlprod._internal.clock import ManualClock, SystemClock
    from mlprod._internal.environment import environment
    from mlprod._internal.logging import configure_logging
    from mlprod.audit import AuditLog, AuditVerification, read_audit_log, verify_audit_log
    from mlprod.data import checks
    from mlprod.data._diff import DatasetDiff
    from mlprod.data.drift.compare import drift
    from mlprod.data.drift.monitor import DriftMonitor, WindowReport
    from mlprod.data.drift.profile import Profile, profile
    from mlprod.data.drift.report import DriftReport
    from mlprod.data.drift.sources import profile_files
    from mlprod.data.fingerprint import Fingerprint, fingerprint
    from mlprod.data.fingerprint_sources import fingerprint_files
    from mlprod.data.infer import infer_schema
    from mlprod.data.report import ValidationReport
    from mlprod.data.schema import Column, Schema
    from mlprod.data.snapshots import DatasetStore, DatasetVersion
    from mlprod.errors import (
        BudgetExceeded,
        ConfigurationError,
        Conflict,
        GateFailed,
        IntegrityError,
        MissingDependency,
        MlprodError,
        NotFound,
        SchemaError,
        SerializationError,
        Unavailable,
    )
    from mlprod.models import gates
    from mlprod.models.lineage import LineageGraph
    from mlprod.models.registry import ModelRegistry
    from mlprod.models.serializers import JoblibSerializer, SkopsSerializer
    from mlprod.models.verify import RegistryVerification
    from mlprod.models.version import AliasChange, ModelVersion
    from mlprod.runtime._testing import set_guard_testing
    from mlprod.runtime.breaker import CircuitBreaker
    from mlprod.runtime.deadline import deadline, remaining_ms
    from mlprod.runtime.factory import guard
    from mlprod.runtime.guard import Guard
    from mlprod.runtime.histogram import LatencyHistogram
    from mlprod.runtime.outcome import CallOutcome
    from mlprod.runtime.policy import GuardPolicy, OutputCheck
    from mlprod.runtime.stats import GuardStats, prometheus_text


def __getattr__(name: str) -> _typing.Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mlprod' has no attribute {name!r}") from None
    module = _importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
