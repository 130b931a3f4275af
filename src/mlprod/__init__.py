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
    "EncodingError": ("mlprod.errors", "EncodingError"),
    "UntrustedFormat": ("mlprod.errors", "UntrustedFormat"),
    "StorageError": ("mlprod.errors", "StorageError"),
    "UnstorableColumn": ("mlprod.errors", "UnstorableColumn"),
    "DatabaseUnavailable": ("mlprod.errors", "DatabaseUnavailable"),
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
    "Schema": ("mlprod.data.validation", "Schema"),
    "Column": ("mlprod.data.validation", "Column"),
    "checks": ("mlprod.data.checks", ""),
    "infer_schema": ("mlprod.data.validation", "infer_schema"),
    "ValidationReport": ("mlprod.data.validation", "ValidationReport"),
    "CheckFailures": ("mlprod.data.validation", "CheckFailures"),
    # data: fingerprints and snapshots
    "fingerprint": ("mlprod.data.fingerprint", "fingerprint"),
    "fingerprint_files": ("mlprod.data.fingerprint", "fingerprint_files"),
    "Fingerprint": ("mlprod.data.fingerprint", "Fingerprint"),
    "PartialFingerprint": ("mlprod.data.fingerprint", "PartialFingerprint"),
    "DatasetStore": ("mlprod.data.snapshots", "DatasetStore"),
    "DatasetVersion": ("mlprod.data.snapshots", "DatasetVersion"),
    "StoreGcReport": ("mlprod.data.snapshots", "StoreGcReport"),
    "StoreProblem": ("mlprod.data.snapshots", "StoreProblem"),
    "StoreVerification": ("mlprod.data.snapshots", "StoreVerification"),
    "DatasetDiff": ("mlprod.data.snapshots", "DatasetDiff"),
    # data: drift
    "profile": ("mlprod.data.drift", "profile"),
    "profile_files": ("mlprod.data.drift", "profile_files"),
    "Profile": ("mlprod.data.drift", "Profile"),
    "drift": ("mlprod.data.drift", "drift"),
    "DriftReport": ("mlprod.data.drift", "DriftReport"),
    "ColumnDrift": ("mlprod.data.drift", "ColumnDrift"),
    "DriftMonitor": ("mlprod.data.drift", "DriftMonitor"),
    "WindowReport": ("mlprod.data.drift", "WindowReport"),
    # models: registry and lineage
    "ModelRegistry": ("mlprod.models.registry", "ModelRegistry"),
    "ModelVersion": ("mlprod.models.version", "ModelVersion"),
    "GcReport": ("mlprod.models._lifecycle", "GcReport"),
    "AliasChange": ("mlprod.models.version", "AliasChange"),
    "LineageGraph": ("mlprod.models.lineage", "LineageGraph"),
    "LineageNode": ("mlprod.models.lineage", "LineageNode"),
    "LineageEdge": ("mlprod.models.lineage", "LineageEdge"),
    "RegistryVerification": ("mlprod.models.verify", "RegistryVerification"),
    "JoblibSerializer": ("mlprod.models.serializers", "JoblibSerializer"),
    "SkopsSerializer": ("mlprod.models.serializers", "SkopsSerializer"),
    "gates": ("mlprod.gates", ""),
    # runtime: the guard
    "guard": ("mlprod.runtime.factory", "guard"),
    "Guard": ("mlprod.runtime.guard", "Guard"),
    "ProbabilisticGuard": ("mlprod.runtime.guard", "ProbabilisticGuard"),
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
    # reports: fairness
    "fairness_report": ("mlprod.reports.fairness", "fairness_report"),
    "FairnessReport": ("mlprod.reports.fairness", "FairnessReport"),
    "InvalidInput": ("mlprod.errors", "InvalidInput"),
    # reports: explanations
    "explain": ("mlprod.reports.explain", "explain"),
    "explainer": ("mlprod.reports.explain_methods", "explainer"),
    "ExplanationReport": ("mlprod.reports.explain_report", "ExplanationReport"),
    "ModelExplainer": ("mlprod.reports.explain_methods", "ModelExplainer"),
    "Additivity": ("mlprod.reports.explain_stats", "Additivity"),
    "TooCostly": ("mlprod.errors", "TooCostly"),
}

__all__ = ["__version__", *_LAZY]

if _typing.TYPE_CHECKING:  # what type checkers and IDEs see; kept equal to _LAZY by a test
    from mlprod import gates as gates
    from mlprod import protocols as protocols
    from mlprod._internal.clock import ManualClock as ManualClock
    from mlprod._internal.clock import SystemClock as SystemClock
    from mlprod._internal.environment import environment as environment
    from mlprod._internal.logging import configure_logging as configure_logging
    from mlprod.audit import (
        AuditLog as AuditLog,
    )
    from mlprod.audit import (
        AuditVerification as AuditVerification,
    )
    from mlprod.audit import (
        read_audit_log as read_audit_log,
    )
    from mlprod.audit import (
        verify_audit_log as verify_audit_log,
    )
    from mlprod.data import checks as checks
    from mlprod.data.drift import (
        ColumnDrift as ColumnDrift,
    )
    from mlprod.data.drift import (
        DriftMonitor as DriftMonitor,
    )
    from mlprod.data.drift import (
        DriftReport as DriftReport,
    )
    from mlprod.data.drift import (
        Profile as Profile,
    )
    from mlprod.data.drift import (
        WindowReport as WindowReport,
    )
    from mlprod.data.drift import (
        drift as drift,
    )
    from mlprod.data.drift import (
        profile as profile,
    )
    from mlprod.data.drift import (
        profile_files as profile_files,
    )
    from mlprod.data.fingerprint import (
        Fingerprint as Fingerprint,
    )
    from mlprod.data.fingerprint import (
        PartialFingerprint as PartialFingerprint,
    )
    from mlprod.data.fingerprint import (
        fingerprint as fingerprint,
    )
    from mlprod.data.fingerprint import (
        fingerprint_files as fingerprint_files,
    )
    from mlprod.data.snapshots import (
        DatasetDiff as DatasetDiff,
    )
    from mlprod.data.snapshots import (
        DatasetStore as DatasetStore,
    )
    from mlprod.data.snapshots import (
        DatasetVersion as DatasetVersion,
    )
    from mlprod.data.snapshots import (
        StoreGcReport as StoreGcReport,
    )
    from mlprod.data.snapshots import (
        StoreProblem as StoreProblem,
    )
    from mlprod.data.snapshots import (
        StoreVerification as StoreVerification,
    )
    from mlprod.data.validation import (
        CheckFailures as CheckFailures,
    )
    from mlprod.data.validation import (
        Column as Column,
    )
    from mlprod.data.validation import (
        Schema as Schema,
    )
    from mlprod.data.validation import (
        ValidationReport as ValidationReport,
    )
    from mlprod.data.validation import (
        infer_schema as infer_schema,
    )
    from mlprod.errors import (
        BudgetExceeded as BudgetExceeded,
    )
    from mlprod.errors import (
        ConfigurationError as ConfigurationError,
    )
    from mlprod.errors import (
        Conflict as Conflict,
    )
    from mlprod.errors import (
        DatabaseUnavailable as DatabaseUnavailable,
    )
    from mlprod.errors import (
        EncodingError as EncodingError,
    )
    from mlprod.errors import (
        GateFailed as GateFailed,
    )
    from mlprod.errors import (
        IntegrityError as IntegrityError,
    )
    from mlprod.errors import (
        InvalidInput as InvalidInput,
    )
    from mlprod.errors import (
        MissingDependency as MissingDependency,
    )
    from mlprod.errors import (
        MlprodError as MlprodError,
    )
    from mlprod.errors import (
        NotFound as NotFound,
    )
    from mlprod.errors import (
        SchemaError as SchemaError,
    )
    from mlprod.errors import (
        SerializationError as SerializationError,
    )
    from mlprod.errors import (
        StorageError as StorageError,
    )
    from mlprod.errors import (
        TooCostly as TooCostly,
    )
    from mlprod.errors import (
        Unavailable as Unavailable,
    )
    from mlprod.errors import (
        UnstorableColumn as UnstorableColumn,
    )
    from mlprod.errors import (
        UntrustedFormat as UntrustedFormat,
    )
    from mlprod.models._lifecycle import GcReport as GcReport
    from mlprod.models.lineage import (
        LineageEdge as LineageEdge,
    )
    from mlprod.models.lineage import (
        LineageGraph as LineageGraph,
    )
    from mlprod.models.lineage import (
        LineageNode as LineageNode,
    )
    from mlprod.models.registry import ModelRegistry as ModelRegistry
    from mlprod.models.serializers import (
        JoblibSerializer as JoblibSerializer,
    )
    from mlprod.models.serializers import (
        SkopsSerializer as SkopsSerializer,
    )
    from mlprod.models.verify import RegistryVerification as RegistryVerification
    from mlprod.models.version import AliasChange as AliasChange
    from mlprod.models.version import ModelVersion as ModelVersion
    from mlprod.reports.explain import explain as explain
    from mlprod.reports.explain_methods import (
        ModelExplainer as ModelExplainer,
    )
    from mlprod.reports.explain_methods import (
        explainer as explainer,
    )
    from mlprod.reports.explain_report import ExplanationReport as ExplanationReport
    from mlprod.reports.explain_stats import Additivity as Additivity
    from mlprod.reports.fairness import (
        FairnessReport as FairnessReport,
    )
    from mlprod.reports.fairness import (
        fairness_report as fairness_report,
    )
    from mlprod.runtime._testing import set_guard_testing as set_guard_testing
    from mlprod.runtime.breaker import CircuitBreaker as CircuitBreaker
    from mlprod.runtime.deadline import deadline as deadline
    from mlprod.runtime.deadline import remaining_ms as remaining_ms
    from mlprod.runtime.factory import guard as guard
    from mlprod.runtime.guard import Guard as Guard
    from mlprod.runtime.guard import ProbabilisticGuard as ProbabilisticGuard
    from mlprod.runtime.histogram import LatencyHistogram as LatencyHistogram
    from mlprod.runtime.outcome import CallOutcome as CallOutcome
    from mlprod.runtime.policy import GuardPolicy as GuardPolicy
    from mlprod.runtime.policy import OutputCheck as OutputCheck
    from mlprod.runtime.stats import GuardStats as GuardStats
    from mlprod.runtime.stats import prometheus_text as prometheus_text


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
