"""The lifecycle, step by step: what ``mlprod demo`` runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import mlprod as mp
from mlprod._internal.lazy import optional_import
from mlprod._internal.render import Document, Link, Rendered, Section, Table
from mlprod.demo import _credit
from mlprod.demo._credit import (
    FEATURES,
    FEATURES_FIXED,
    SENSITIVE,
    TARGET,
    CreditModel,
    encode,
)

__all__ = ["DemoResult", "run_demo"]

STEPS = 9
MODEL = "credit"


@dataclass(frozen=True)
class DemoResult(Rendered):
    """What one run of the demo wrote and found: the answers its tests check.

    Attributes
    ----------
    out:
        The folder everything went to.
    files:
        ``{label: path}`` of every file a reader may open, ``index.html`` first.
    facts:
        The run's key numbers and answers (fingerprint, metrics, which
        version serves ``production``, the traceability answer).
    """

    __module__ = "mlprod.demo"

    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the folder, the files and the facts."""
        return {
            "out": str(self.out),
            "files": {k: str(v) for k, v in self.files.items()},
            "facts": dict(self.facts),
        }

    def _document(self, **options: Any) -> Document:
        rows = [
            [Link(label, os.path.relpath(path, self.out)), _what(label)]
            for label, path in self.files.items()
            if label != "index"
        ]
        return Document(
            "mlprod demo: a credit model from data to production",
            ok=bool(self.facts.get("ok", False)),
            facts={k: v for k, v in self.facts.items() if not isinstance(v, dict | list)},
            sections=[
                Section(
                    "Start here",
                    text=(
                        "Open the fairness report first: it shows the bias injected into the "
                        "training labels, how the gate refused the first model, and why the "
                        "fixed one passed. Then the explanations, the behaviour checks and "
                        "the drift report."
                    ),
                    level="info",
                ),
                Section("Files", table=Table(["file", "what it is"], rows)),
            ],
        )


_DESCRIPTIONS = {
    "fairness (refused model)": "the fairness report that stopped the biased model",
    "fairness (production model)": "the fixed model's fairness report, which passed the gate",
    "explanations": "why the production model decides as it does (SHAP)",
    "behaviour": "behaviour checks of the production model",
    "validation": "the dirty rows caught in the raw data, to the cell",
    "drift": "a drifted production batch against the training profile",
    "registry": "the model registry (SQLite + artifacts)",
    "data store": "the versioned datasets",
    "audit log": "the hash-chained record of every served prediction",
}


def _what(label: str) -> str:
    return _DESCRIPTIONS.get(label, "")


class _Flaky:
    """Wraps a model so some calls are slow and some fail: the faults the guard absorbs."""

    def __init__(self, model: Any, *, slow_every: int, fail_every: int, slow_s: float) -> None:
        self.model = model
        self.slow_every = slow_every
        self.fail_every = fail_every
        self.slow_s = slow_s
        self._calls = 0
        self._lock = threading.Lock()

    def _tick(self) -> None:
        with self._lock:
            self._calls += 1
            n = self._calls
        if n % self.fail_every == 0:
            raise ConnectionError("feature store timed out")  # an injected failure
        if n % self.slow_every == 0:
            time.sleep(self.slow_s)  # an injected slow call

    def predict(self, X: Any) -> Any:
        self._tick()
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        self._tick()
        return self.model.predict_proba(X)


class _Progress:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.step = 0
        self.started = time.perf_counter()
        self.t = self.started

    def __call__(self, step: int, title: str, line: str) -> None:
        self.step = step
        now = time.perf_counter()
        self.echo(f"[{self.step}/{STEPS}] {title:<10} {line}  ({now - self.t:.1f} s)")
        self.t = now

    def detail(self, line: str) -> None:
        self.echo(f"      {line}")


def run_demo(
    out: str | os.PathLike[str] = "mlprod-demo",
    *,
    rows: int = 5_000,
    seed: int = 7,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole lifecycle on a synthetic credit data set; return what was written.

    Data checked and versioned, two models trained, reported on and
    registered with lineage, promoted through gates (one refused for the
    bias injected into its training labels), served behind a guard that
    absorbs injected faults and leaves an audit trail, watched for drift,
    and one prediction traced back to its model and data. Everything lands
    under ``out`` (emptied first), on the embedded defaults: a folder and
    SQLite, nothing to start.

    Parameters
    ----------
    out:
        The folder to write to. Its previous contents are removed.
    rows:
        Applications to generate (at least 1,000; the default takes well
        under a minute on a laptop).
    seed:
        The seed: one seed, the same fingerprints, metrics and report numbers.
    echo:
        Where progress lines go (``print`` by default).

    Examples
    --------
    >>> import tempfile
    >>> from mlprod.demo import run_demo
    >>> result = run_demo(tempfile.mkdtemp(), rows=1_500, echo=lambda line: None)  # doctest: +SKIP
    >>> result.facts["production_version"]  # doctest: +SKIP
    3
    """
    if int(rows) < 1_000:
        raise mp.ConfigurationError(
            f"rows={rows} is too few for the demo: the fairness and drift steps need at least "
            "1,000 rows. Pass rows=1000 or more."
        )
    optional_import("sklearn", feature="mlprod demo", extra="reports")
    optional_import("hypothesis", feature="mlprod demo", extra="testing")
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import mlprod.testing as mt

    root = Path(out)
    if root.exists():
        shutil.rmtree(root)
    (root / "reports").mkdir(parents=True)
    files: dict[str, Path] = {"index": root / "index.html"}
    facts: dict[str, Any] = {"seed": seed, "rows": int(rows)}
    say = _Progress(echo)
    os.environ.setdefault("MLPROD_ACTOR", "demo")

    # 1. data
    clean = _credit.credit_applications(int(rows), seed=seed)
    raw, broken = _credit.dirty(clean, seed=seed)
    female_rate = clean.loc[clean[SENSITIVE] == "female", TARGET].mean()
    male_rate = clean.loc[clean[SENSITIVE] == "male", TARGET].mean()
    say(
        1,
        "data",
        f"{len(raw):,} loan applications, {raw.shape[1]} columns (numbers, categories, text); "
        f"{len(broken)} dirty rows; recorded approval rate female {female_rate:.1%} vs male "
        f"{male_rate:.1%} (bias injected into the labels)",
    )

    # 2. validate: a schema from the data's shape, with the domain's rules on top
    inferred = mp.infer_schema(clean, ranges=False, unique=True)
    rules: dict[str, list[Any]] = {
        "age": [mp.checks.in_range(18, 100)],
        "income": [mp.checks.ge(0)],
        "debt_ratio": [mp.checks.in_range(0, 1)],
        "years_employed": [mp.checks.ge(0)],
        "late_payments": [mp.checks.ge(0)],
    }
    columns = {}
    for name, col in inferred.columns.items():
        spec = col.to_dict()
        columns[name] = mp.Column(
            spec["dtype"],
            nullable=False,
            unique=bool(spec.get("unique", False)),
            checks=rules.get(str(name), []),
            categories=spec.get("categories"),
        )
    schema = mp.Schema(columns, strict=True, name="credit_applications")
    report = schema.validate(raw)
    bad_rows = sorted({int(i) for i in report.failures["index"]})
    report.to_html(root / "reports" / "validation.html")
    files["validation"] = root / "reports" / "validation.html"
    say(2, "validate", f"{report.n_failures} failing cells in rows {bad_rows}; dropped them")
    for _, cell in report.failures.head(6).iterrows():
        say.detail(
            f"row {cell['index']}: {cell['column']} = {cell['value']!r} fails {cell['check']}"
        )
    data = raw.drop(index=bad_rows)
    schema.validate(data).raise_for_failures()
    facts["dirty_rows"] = bad_rows

    # 3. version the clean data
    store = mp.DatasetStore(root / "data-store")
    cut = int(len(data) * 0.6)
    train_df, test_df = data.iloc[:cut], data.iloc[cut:]
    train_v = store.commit(train_df, name="train", message="clean applications, first 60 %")
    test_v = store.commit(test_df, name="test", message="clean applications, last 40 %")
    files["data store"] = root / "data-store"
    facts["train_fingerprint"] = str(train_v.fingerprint)
    say(
        3,
        "version",
        f"train:{train_v.version} ({len(train_df):,} rows) fingerprint "
        f"{train_v.fingerprint}; test:{test_v.version} ({len(test_df):,} rows)",
    )

    # 4. train: a baseline, a gradient-boosted model, and the fixed one
    X_train, X_test = train_df[list(FEATURES)], test_df[list(FEATURES)]
    y_train, y_test = train_df[TARGET].to_numpy(), test_df[TARGET].to_numpy()
    enc_train = encode(train_df, FEATURES)
    baseline = CreditModel(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000)).fit(enc_train, y_train),
        FEATURES,
    )
    gbm = CreditModel(
        HistGradientBoostingClassifier(max_iter=150, random_state=seed).fit(enc_train, y_train),
        FEATURES,
    )
    weights = _credit.reweighing(train_df[SENSITIVE], train_df[TARGET])
    fixed = CreditModel(
        HistGradientBoostingClassifier(max_iter=150, random_state=seed).fit(
            encode(train_df, FEATURES_FIXED), y_train, sample_weight=weights
        ),
        FEATURES_FIXED,
    )
    acc = {
        "baseline": _accuracy(baseline, X_test, y_test),
        "gbm": _accuracy(gbm, X_test, y_test),
        "gbm_fixed": _accuracy(fixed, X_test, y_test),
    }
    facts["accuracy"] = acc
    say(
        4,
        "train",
        f"baseline (logistic regression) accuracy {acc['baseline']:.3f}; gradient boosting "
        f"{acc['gbm']:.3f}; gradient boosting without the proxy, reweighed, {acc['gbm_fixed']:.3f}",
    )

    # 5. reports: fairness of both candidates, explanations and behaviour of the fixed one
    sensitive = test_df[[SENSITIVE]]
    fair = {}
    for label, model in (("gbm", gbm), ("gbm_fixed", fixed)):
        fair[label] = mp.fairness_report(
            y_test,
            model.predict(X_test),
            sensitive_features=sensitive,
            y_score=model.predict_proba(X_test)[:, 1],
            n_boot=200,
            random_state=seed,
        )
    reports = root / "reports"
    fair["gbm"].to_html(reports / "fairness-refused.html")
    fair["gbm_fixed"].to_html(reports / "fairness-production.html")
    files["fairness (refused model)"] = reports / "fairness-refused.html"
    files["fairness (production model)"] = reports / "fairness-production.html"
    ratio = {k: _selection_ratio(r) for k, r in fair.items()}
    facts["selection_rate_ratio"] = ratio
    explained = encode(test_df, FEATURES_FIXED).sample(n=min(300, len(test_df)), random_state=seed)
    explanation = mp.explain(fixed.model, explained, random_state=seed, progress=False)
    explanation.to_html(reports / "explanations.html")
    files["explanations"] = reports / "explanations.html"
    sample = X_test.head(40)

    def suite(model: Any) -> Any:
        return mt.check_predictor(model, sample, allow_nan=True, max_examples=4, database=False)

    behaviour = suite(fixed)
    behaviour.to_html(reports / "behaviour.html")
    files["behaviour"] = reports / "behaviour.html"
    facts["behaviour_ok"] = bool(behaviour.ok)
    say(
        5,
        "report",
        f"selection-rate ratio female/male: gbm {ratio['gbm']:.2f}, fixed "
        f"{ratio['gbm_fixed']:.2f} (four-fifths rule: >= 0.80); explanations by "
        f"{explanation.method} on {len(explained)} rows; behaviour: "
        f"{behaviour.counts['passed']} passed, {behaviour.counts['failed']} failed, "
        f"{behaviour.counts['skipped']} skipped",
    )
    for line in explanation.reasons(explained.index[0], top=3):
        say.detail(f"application {explained.index[0]}: {line}")

    # 6. register and promote through gates
    reg = mp.ModelRegistry(root / "registry")
    files["registry"] = root / "registry"
    sig = mp.infer_schema(X_train, ranges=False, unique=False)
    datasets = {"train": train_v, "test": test_v}
    common: dict[str, Any] = {"datasets": datasets, "signature": sig, "actor": "ana"}
    mv_base = reg.register(
        MODEL,
        baseline,
        params={"model": "LogisticRegression", "features": list(FEATURES)},
        metrics={"accuracy": acc["baseline"]},
        **common,
    )
    mv_gbm = reg.register(
        MODEL,
        gbm,
        params={"model": "HistGradientBoosting", "features": list(FEATURES)},
        metrics={"accuracy": acc["gbm"]},
        parents=[mv_base],
        **common,
    )
    mv_fixed = reg.register(
        MODEL,
        fixed,
        params={
            "model": "HistGradientBoosting",
            "features": list(FEATURES_FIXED),
            "reweighing": "Kamiran-Calders on sex x approved",
        },
        metrics={"accuracy": acc["gbm_fixed"]},
        parents=[mv_gbm],
        **common,
    )
    gates = [
        mp.gates.metric_threshold("accuracy", min=0.7),
        mp.gates.behaviour(suite, load=reg.load),
        mp.gates.fairness(
            X_test,
            y_test,
            sensitive_features=sensitive,
            load=reg.load,
            min_ratio=0.8,
            metrics=["selection_rate"],
            n_boot=200,
            random_state=seed,
        ),
        mp.gates.four_eyes(),
    ]
    refused: list[str] = []
    try:
        reg.set_alias(
            MODEL, "production", mv_gbm.version, gates=gates, actor="ben", reason="best accuracy"
        )
    except mp.GateFailed as exc:
        refused = [v.gate for v in exc.verdicts if not v.passed]
        evidence = [v for v in exc.verdicts if v.gate == "fairness"]
        if evidence:
            facts["fairness_evidence"] = _fairness_evidence(evidence[0])
    facts["refused_gates"] = refused
    try:
        reg.set_alias(
            MODEL,
            "production",
            mv_fixed.version,
            gates=gates,
            actor="ben",
            reason="passes accuracy, behaviour and the four-fifths rule",
        )
    except mp.GateFailed as exc:
        # with few rows the fairness intervals are wide: inconclusive is not a pass
        raise mp.GateFailed(
            f"{exc} With rows={rows} the test split is too small to show the fixed "
            "model within the four-fifths rule; run the demo with more rows (the default "
            "is 5,000).",
            verdicts=exc.verdicts,
        ) from exc
    production = reg.resolve(MODEL, "production")
    facts["production_version"] = production.version
    say(
        6,
        "promote",
        f"registered v{mv_base.version} baseline, v{mv_gbm.version} gbm, "
        f"v{mv_fixed.version} gbm-fixed; v{mv_gbm.version} refused by "
        f"{', '.join(refused) or 'no gate'}; production -> v{production.version}",
    )
    for line in facts.get("fairness_evidence", [])[:2]:
        say.detail(f"evidence: {line}")

    # 7. serve behind a guard, with faults injected and explanations on the audit log
    served = reg.load(MODEL, "production")
    audit_path = root / "audit.jsonl"
    files["audit log"] = audit_path
    audit = mp.AuditLog(audit_path)
    enc_fixed_train = encode(train_df, FEATURES_FIXED)
    fallback = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
    fallback.fit(enc_fixed_train, y_train)
    g = mp.guard(
        _Flaky(served.model, slow_every=19, fail_every=31, slow_s=0.08),
        fallback=fallback,
        budget_ms=40,
        breaker=mp.CircuitBreaker(failure_threshold=10, window=2.0, recovery_s=0.1),
        audit=audit,
        model_ref=production,
        explainer=mp.explainer(served.model, enc_fixed_train.sample(100, random_state=seed)),
        explain_every=10,
        name="credit-production",
    )
    requests = encode(test_df, FEATURES_FIXED).sample(n=min(200, len(test_df)), random_state=seed)
    for i in range(len(requests)):
        g.predict(requests.iloc[i : i + 1])
    audit.close()
    stats = g.stats()
    g.close()
    facts["guard_calls"] = stats.calls
    facts["fallback_rate"] = round(float(stats.fallback_rate), 4)
    say(
        7,
        "serve",
        f"{stats.calls} requests; {stats.fallback_rate:.1%} answered by the fallback "
        "(injected slow and failing calls); every call on the audit log, every 10th with "
        "its explanation",
    )

    # 8. watch: a drifted production batch against the training profile
    reference = mp.profile(train_df[list(FEATURES)])
    monitor = mp.DriftMonitor(reference, window=len(test_df))
    monitor.update(_credit.drifted(test_df[list(FEATURES)], seed=seed))
    window = monitor.reports()[-1]
    window.drift.to_html(reports / "drift.html")
    files["drift"] = reports / "drift.html"
    table = window.drift.to_frame()
    drifted_columns = list(table.loc[table["drifted"].astype(bool), "column"])
    facts["drifted_columns"] = sorted(str(c) for c in drifted_columns)
    say(
        8,
        "watch",
        f"drift in {len(drifted_columns)} of {len(FEATURES)} columns "
        f"({', '.join(map(str, drifted_columns))}); profile of the training data: "
        f"{len(reference.to_json()) / 1024:.0f} kB",
    )

    # 9. lineage, statistics, verification, one prediction traced end to end
    lineage = reg.lineage(production)
    reg_ok = reg.verify()
    audit_ok = mp.verify_audit_log(audit_path)
    facts["registry_verified"] = bool(reg_ok.ok)
    facts["audit_verified"] = bool(audit_ok.ok)
    trace = _trace(reg, audit_path)
    facts["trace"] = trace
    say(
        9,
        "trace",
        f"registry verify: {'ok' if reg_ok.ok else 'FAILED'}; audit log verify: "
        f"{'ok' if audit_ok.ok else 'FAILED'} ({audit_ok.records} records)",
    )
    for line in lineage.to_mermaid().splitlines():
        say.detail(line)
    say.detail(
        f"prediction #{trace['seq']} was decided by {trace['model']} v{trace['version']} "
        f"(digest {trace['digest'][:12]}), trained on train:{trace['train_version']} "
        f"(fingerprint {trace['train_fingerprint']}); production then pointed at "
        f"v{trace['production_then']}"
    )
    facts["ok"] = bool(reg_ok.ok and audit_ok.ok)
    result = DemoResult(root, files, facts)
    result.to_html(files["index"])
    echo("")
    echo(f"Wrote {root}/:")
    for label, path in files.items():
        echo(f"  {os.path.relpath(path, root):<34} {_what(label) or 'open this first'}")
    return result


def _trace(reg: Any, audit_path: Path) -> dict[str, Any]:
    """For the first prediction the primary model answered: who decided, on which data, when."""
    for entry in mp.read_audit_log(audit_path):
        rec = entry.get("record", entry)
        if rec.get("event") == "guard.call" and rec.get("answered_by") == "primary":
            model = rec["model"]
            mv = reg.get(model["name"], model["version"])
            if mv.digest != model["digest"]:
                raise mp.IntegrityError(
                    f"audit record {entry.get('seq')} names {model['name']} v{model['version']} "
                    f"with digest {model['digest']}, but the registry holds {mv.digest}"
                )
            train = mv.manifest["datasets"]["train"]
            at = dt.datetime.fromtimestamp(float(entry["ts"]), tz=dt.UTC)
            then = reg.resolve(model["name"], "production", at=at)
            return {
                "seq": int(entry["seq"]),
                "model": model["name"],
                "version": int(model["version"]),
                "digest": model["digest"],
                "train_version": train.get("version"),
                "train_fingerprint": train.get("fingerprint"),
                "production_then": then.version,
                "at": at.isoformat(),
            }
    raise mp.MlprodError("no prediction answered by the primary model was found on the audit log")


def _accuracy(model: Any, X: Any, y: Any) -> float:
    return float((np.asarray(model.predict(X)) == np.asarray(y)).mean())


def _selection_ratio(report: Any) -> float:
    rates = report.by_group["selection_rate"]
    return float(rates.min() / rates.max())


def _fairness_evidence(verdict: Any) -> list[str]:
    """The fairness gate's findings, in words, from the report sealed as its evidence."""
    from mlprod.reports.fairness import FairnessReport

    evidence = verdict.to_dict()["evidence"]
    report = FairnessReport.from_dict(evidence["report"])
    lines: list[str] = report.findings(limit=5)
    chosen = [line for line in lines if line.startswith("selection rate")]
    return chosen + [line for line in lines if line not in chosen]
