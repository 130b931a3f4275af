"""Aliases with history and time travel; promotion gates with evidence."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import mlprod as mp


@pytest.fixture
def reg(make_registry: Any, clock: mp.ManualClock) -> mp.ModelRegistry:
    registry: mp.ModelRegistry = make_registry(clock=clock)
    for auc in (0.80, 0.82, 0.70):
        registry.register("churn", {"auc": auc}, metrics={"auc": auc}, actor="ana")
        clock.advance(60)
    return registry


def test_alias_moves_are_kept_and_resolvable_at_any_past_moment(
    reg: mp.ModelRegistry, clock: mp.ManualClock
) -> None:
    start = clock.time()
    reg.set_alias("churn", "production", 1, actor="bo", reason="launch")
    clock.advance(3600)
    reg.set_alias("churn", "production", 2, actor="bo", reason="better auc")
    clock.advance(3600)
    reg.delete_alias("churn", "production", actor="cy", reason="incident")
    clock.advance(3600)
    reg.set_alias("churn", "production", 1, actor="cy", reason="rollback")

    at = lambda seconds: dt.datetime.fromtimestamp(start + seconds, dt.UTC)  # noqa: E731
    assert reg.resolve("churn", "production", at=at(10)).version == 1
    assert reg.resolve("churn", "production", at=at(3600)).version == 2
    assert reg.resolve("churn", "production", at=start + 3 * 3600 + 1).version == 1
    assert reg.resolve("churn", "production").version == 1
    with pytest.raises(mp.NotFound, match="deleted"):
        reg.resolve("churn", "production", at=at(2 * 3600 + 5))
    with pytest.raises(mp.NotFound):
        reg.resolve("churn", "production", at=at(-1))
    history = reg.alias_history("churn", "production")
    assert [(c.previous, c.version, c.actor, c.reason) for c in history] == [
        (None, 1, "bo", "launch"),
        (1, 2, "bo", "better auc"),
        (2, None, "cy", "incident"),
        (None, 1, "cy", "rollback"),
    ]
    assert history[2].deleted
    assert history[0].at == at(0)
    assert reg.aliases("churn") == {"production": 1}


def test_resolve_latest_at_a_moment(reg: mp.ModelRegistry, clock: mp.ManualClock) -> None:
    first = reg.get("churn", 1).created_at
    assert reg.resolve("churn", "latest", at=first).version == 1
    assert reg.resolve("churn", "latest", at=first.isoformat()).version == 1
    assert reg.resolve("churn", "latest", at=clock.time()).version == 3
    with pytest.raises(mp.ConfigurationError, match="not a moment"):
        reg.resolve("churn", "latest", at="yesterday-ish")


def test_loading_by_alias_follows_the_alias(reg: mp.ModelRegistry) -> None:
    reg.set_alias("churn", "production", 2)
    assert reg.load("churn", "production") == {"auc": 0.82}
    assert reg.load("churn:production") == {"auc": 0.82}


def test_alias_names_are_checked(reg: mp.ModelRegistry) -> None:
    with pytest.raises(mp.ConfigurationError, match="latest"):
        reg.set_alias("churn", "latest", 1)
    with pytest.raises(mp.ConfigurationError):
        reg.set_alias("churn", "42", 1)
    with pytest.raises(mp.NotFound):
        reg.set_alias("churn", "production", 9)
    with pytest.raises(mp.NotFound) as info:
        reg.delete_alias("churn", "production")
    assert info.value.kind == "alias"


def test_passing_gates_store_their_evidence_with_the_move(reg: mp.ModelRegistry) -> None:
    reg.set_alias("churn", "production", 1, actor="bo")
    change = reg.set_alias(
        "churn",
        "production",
        2,
        actor="bo",
        reason="better",
        gates=[
            mp.gates.metric_threshold("auc", min=0.8),
            mp.gates.beats_current("auc", margin=0.01),
            mp.gates.four_eyes(),
        ],
    )
    assert [v["gate"] for v in change.verdicts] == [
        "metric_threshold(auc)",
        "beats_current(auc)",
        "four_eyes",
    ]
    assert all(v["passed"] for v in change.verdicts)
    beats = change.verdicts[1]["evidence"]
    assert beats["candidate"] == 0.82
    assert beats["current"] == 0.80
    assert beats["improvement"] == pytest.approx(0.02)
    stored = reg.alias_history("churn", "production")[-1]
    assert stored.verdicts == change.verdicts
    event = reg.events()[-1]["record"]
    assert event["event"] == "alias.set"
    assert event["verdicts"] == list(change.verdicts)


def test_a_failing_gate_raises_with_every_verdict_and_moves_nothing(reg: mp.ModelRegistry) -> None:
    reg.set_alias("churn", "production", 2, actor="bo")
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias(
            "churn",
            "production",
            3,
            actor="ana",
            gates=[
                mp.gates.metric_threshold("auc", min=0.6),
                mp.gates.beats_current("auc"),
                mp.gates.four_eyes(),
            ],
        )
    err = info.value
    assert [v.passed for v in err.verdicts] == [True, False, False]
    assert [v.gate for v in err.failed] == ["beats_current(auc)", "four_eyes"]
    assert err.failed[0].evidence["current"] == 0.82
    assert err.failed[1].evidence == {"actor": "ana", "registered_by": "ana"}
    assert "stays at v2" in str(err)
    assert reg.resolve("churn", "production").version == 2
    refused = reg.events()[-1]["record"]
    assert refused["event"] == "alias.refused"
    assert refused["version"] == 3
    assert len(reg.alias_history("churn", "production")) == 1
    assert reg.verify().ok


def test_metric_threshold_reports_a_missing_metric(reg: mp.ModelRegistry) -> None:
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias("churn", "staging", 1, gates=[mp.gates.metric_threshold("f1", max=0.5)])
    verdict = info.value.failed[0]
    assert verdict.evidence["available"] == ("auc",)  # frozen: a tuple
    assert "no metric 'f1'" in verdict.message
    with pytest.raises(mp.ConfigurationError):
        mp.gates.metric_threshold("auc")
    with pytest.raises(mp.ConfigurationError, match="no value can pass") as bounds:
        mp.gates.metric_threshold("auc", min=0.9, max=0.5)
    assert bounds.value.parameter == "max"


def test_beats_current_passes_for_a_new_alias_and_handles_lower_is_better(
    reg: mp.ModelRegistry,
) -> None:
    gate = mp.gates.beats_current("auc", higher_is_better=False)
    reg.set_alias("churn", "cheap", 2, gates=[gate])
    change = reg.set_alias("churn", "cheap", 3, gates=[gate])
    assert change.verdicts[0]["evidence"]["improvement"] == pytest.approx(0.12)


def test_four_eyes_needs_an_actor(reg: mp.ModelRegistry) -> None:
    verdict = mp.gates.four_eyes()(reg.get("churn", 1), None, actor=None)
    assert not verdict.passed
    assert "actor=" in verdict.message


def test_signature_gate_compares_columns_dtypes_and_nullability(
    make_registry: Any,
) -> None:
    schema = pytest.importorskip("mlprod.data.validation")
    reg = make_registry()
    old = schema.Schema(
        {"age": schema.Column("int64"), "city": schema.Column("string", nullable=True)}
    )
    same = schema.Schema(
        {"age": schema.Column("int64"), "city": schema.Column("string", nullable=True)}
    )
    broken = schema.Schema(
        {
            "age": schema.Column("float64"),
            "city": schema.Column("string"),
            "x": schema.Column("int64"),
        }
    )
    reg.register("m", {"v": 1}, signature=old)
    reg.register("m", {"v": 2}, signature=same)
    reg.register("m", {"v": 3}, signature=broken)
    gate = mp.gates.signature_compatible()
    reg.set_alias("m", "production", 1, gates=[gate])
    assert reg.set_alias("m", "production", 2, gates=[gate]).verdicts[0]["passed"]
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias("m", "production", 3, gates=[gate])
    evidence = info.value.failed[0].to_dict()["evidence"]
    assert evidence["dtype_changed"] == [
        {"column": "age", "current": "int64", "candidate": "float64"}
    ]
    assert evidence["nullability_tightened"] == ["city"]
    assert evidence["added"] == ["x"]
    assert evidence["missing"] == []


def test_signature_gate_without_signatures(reg: mp.ModelRegistry) -> None:
    assert reg.set_alias("churn", "a", 1, gates=[mp.gates.signature_compatible()]).verdicts[0][
        "passed"
    ]
    with pytest.raises(mp.GateFailed, match="no signature"):
        reg.set_alias("churn", "b", 1, gates=[mp.gates.signature_compatible(require=True)])


class _Report:
    """Looks like a future fairness report: a verdict object of its own."""

    def __init__(self, passed: bool) -> None:
        self.passed = passed

    def to_dict(self) -> dict[str, Any]:
        return {"max_gap": 0.03, "groups": ["a", "b"]}


def test_any_callable_is_a_gate(reg: mp.ModelRegistry) -> None:
    def always(candidate: Any, current: Any, *, actor: str | None = None) -> bool:
        return candidate.version == 1

    class Fairness:
        name = "fairness"

        def __call__(self, candidate: Any, current: Any, *, actor: str | None = None) -> Any:
            return _Report(True)

    def broken(candidate: Any, current: Any, *, actor: str | None = None) -> bool:
        raise RuntimeError("scorer offline")

    change = reg.set_alias("churn", "production", 1, gates=[always, Fairness()])
    assert change.verdicts[0]["gate"] == "always"
    assert change.to_dict()["verdicts"][1] == {
        "gate": "fairness",
        "passed": True,
        "evidence": {"max_gap": 0.03, "groups": ["a", "b"]},
        "message": "passed",
    }
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias("churn", "production", 2, gates=[broken])
    assert info.value.failed[0].evidence == {"error": "RuntimeError: scorer offline"}


def test_alias_change_presents_itself(reg: mp.ModelRegistry) -> None:
    change = reg.set_alias(
        "churn", "production", 1, actor="bo", gates=[mp.gates.metric_threshold("auc", min=0.5)]
    )
    assert "churn@production: None -> 1" in repr(change)
    assert "metric_threshold(auc)" in change._repr_html_()
    assert change.to_dict()["version"] == 1
    verdict = mp.gates.metric_threshold("auc", min=0.5)(reg.get("churn", 1), None)
    assert "passed" in verdict._repr_html_()
    assert bool(verdict)


def test_the_moments_history_reports_resolve_to_their_own_move(make_registry: Any) -> None:
    reg = make_registry()  # the real clock: sub-microsecond times
    for _ in range(3):
        reg.register("churn", {"w": 1})
    for version in (1, 2, 3):
        reg.set_alias("churn", "production", version)
    for change in reg.alias_history("churn", "production"):
        assert reg.resolve("churn", "production", at=change.at).version == change.version
    latest = reg.get("churn")
    assert reg.resolve("churn", "latest", at=latest.created_at).version == latest.version


def test_a_gate_without_an_actor_parameter_still_runs(reg: mp.ModelRegistry) -> None:
    change = reg.set_alias("churn", "production", 2, gates=[lambda cand, cur: cand.version == 2])
    assert change.verdicts[0]["passed"] is True


def test_a_writer_whose_clock_lags_cannot_make_history_run_backwards(make_registry: Any) -> None:
    # Two hosts on one registry, the second 30 s behind: its later move must not
    # be dated before the first, or resolve(at=now) would name the older version.
    ahead = mp.ManualClock(1_767_225_600.0)
    behind = mp.ManualClock(1_767_225_600.0 - 30)
    a, b = make_registry(clock=ahead), make_registry(clock=behind)
    a.register("churn", {"w": 1})
    b.register("churn", {"w": 2})
    a.set_alias("churn", "production", 1)
    ahead.advance(10)
    behind.advance(10)
    b.set_alias("churn", "production", 2)
    history = a.alias_history("churn", "production")
    assert [c.version for c in history] == [1, 2]
    assert history[0].at < history[1].at
    assert a.get("churn", 1).created_at < a.get("churn", 2).created_at
    assert a.resolve("churn", "production", at=ahead.time()).version == 2
    for change in history:
        assert a.resolve("churn", "production", at=change.at).version == change.version
    assert a.resolve("churn", "latest", at=a.get("churn", 2).created_at).version == 2
    assert a.verify().ok


def test_unknown_models_and_aliases_are_not_found_not_empty(
    reg: mp.ModelRegistry, clock: mp.ManualClock
) -> None:
    reg.set_alias("churn", "production", 1)
    with pytest.raises(mp.NotFound) as info:
        reg.aliases("chrn")
    assert (info.value.kind, info.value.closest) == ("model", ["churn"])
    with pytest.raises(mp.NotFound) as info:
        reg.alias_history("churn", "prodution")
    assert (info.value.kind, info.value.closest) == ("alias", ["production"])
    with pytest.raises(mp.NotFound) as info:
        reg.alias_history("chrn")
    assert info.value.kind == "model"
    with pytest.raises(mp.NotFound) as info:
        reg.resolve("churn", "prodution", at=clock.time())
    assert info.value.closest == ["production"]
    reg.register("fraud", {"w": 1})
    assert reg.aliases("fraud") == {}
    assert reg.alias_history("fraud") == []


def test_resolve_says_whether_the_alias_was_not_yet_set_or_deleted(
    reg: mp.ModelRegistry, clock: mp.ManualClock
) -> None:
    before = clock.time()
    clock.advance(60)
    first = reg.set_alias("churn", "production", 1)
    clock.advance(60)
    gone = reg.delete_alias("churn", "production", actor="cy")
    with pytest.raises(mp.NotFound, match=re.escape(f"first set at {first.at.isoformat()}")):
        reg.resolve("churn", "production", at=before)
    with pytest.raises(mp.NotFound, match=re.escape(f"deleted at {gone.at.isoformat()} by 'cy'")):
        reg.resolve("churn", "production", at=clock.time())
    with pytest.raises(mp.NotFound, match=re.escape("the first was registered at 2026-01-01")):
        reg.resolve("churn", "latest", at=before - 3600)


def test_gates_may_return_numpy_bools_and_evidence_without_a_json_form(
    reg: mp.ModelRegistry,
) -> None:
    import numpy as np

    def above_mean(candidate: Any, current: Any) -> Any:
        return np.float64(candidate.metrics["auc"]) > np.mean([0.7, 0.8])

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    def with_object(candidate: Any, current: Any) -> mp.gates.Verdict:
        evidence = {"report": Opaque(), "n": np.int64(3), "gap": float("nan")}
        return mp.gates.Verdict("with_object", True, evidence)

    change = reg.set_alias("churn", "production", 1, gates=[above_mean, with_object])
    assert [v["passed"] for v in change.verdicts] == [True, True]
    assert change.verdicts[1]["evidence"] == {"report": "<opaque>", "n": 3, "gap": "nan"}
    assert reg.alias_history("churn", "production")[-1].verdicts == change.verdicts
    with pytest.raises(mp.GateFailed):
        reg.set_alias("churn", "production", 3, gates=[above_mean, with_object])
    assert reg.verify().ok


def test_four_eyes_refuses_a_version_whose_registrant_is_unknown(
    reg: mp.ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlprod.models import _core

    monkeypatch.setattr(_core, "_default_actor", lambda: None)
    anonymous = reg.register("churn", {"w": "anon"})
    assert anonymous.registered_by is None
    with pytest.raises(mp.GateFailed, match="who registered") as info:
        reg.set_alias(
            "churn", "production", anonymous.version, actor="bo", gates=[mp.gates.four_eyes()]
        )
    assert info.value.failed[0].evidence == {"actor": "bo", "registered_by": None}
    blank = reg.register("churn", {"w": "blank"}, actor="")
    with pytest.raises(mp.GateFailed, match="who registered"):
        reg.set_alias(
            "churn", "production", blank.version, actor="bo", gates=[mp.gates.four_eyes()]
        )


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Any:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_naive_moments_are_local_time_whatever_their_type(
    reg: mp.ModelRegistry, clock: mp.ManualClock, tokyo: None
) -> None:
    pd = pytest.importorskip("pandas")
    reg.set_alias("churn", "production", 1)
    clock.advance(3600)
    second = reg.set_alias("churn", "production", 2)
    aware = second.at
    local_naive = aware.astimezone().replace(tzinfo=None)
    assert local_naive.hour == (aware.hour + 9) % 24
    just_before = local_naive - dt.timedelta(microseconds=1)
    for moment, version in [
        (aware, 2),
        (local_naive, 2),
        (just_before, 1),
        (pd.Timestamp(local_naive), 2),
        (pd.Timestamp(just_before), 1),
        (pd.Timestamp(aware), 2),
        (aware.isoformat(), 2),
        (aware.isoformat().replace("+00:00", "Z"), 2),
        (local_naive.isoformat(), 2),
        (just_before.isoformat(), 1),
    ]:
        assert reg.resolve("churn", "production", at=moment).version == version, moment


def test_actor_and_reason_must_be_text(reg: mp.ModelRegistry) -> None:
    # A number stored as the actor came back from the history table as text,
    # and verify() then reported the untouched row as tampered.
    for kwargs, parameter in [
        ({"actor": 42}, "actor"),
        ({"reason": None}, "reason"),
        ({"reason": 3}, "reason"),
    ]:
        with pytest.raises(mp.ConfigurationError) as info:
            reg.set_alias("churn", "production", 1, **kwargs)
        assert info.value.parameter == parameter
    reg.set_alias("churn", "production", 1)
    with pytest.raises(mp.ConfigurationError) as info:
        reg.delete_alias("churn", "production", reason=None)  # type: ignore[arg-type]
    assert info.value.parameter == "reason"
    with pytest.raises(mp.ConfigurationError) as info:
        reg.register("churn", {"w": 9}, actor=7)  # type: ignore[arg-type]
    assert info.value.parameter == "actor"
    with pytest.raises(mp.ConfigurationError) as info:
        reg.set_description("churn", 1, None)  # type: ignore[arg-type]
    assert info.value.parameter == "description"
    with pytest.raises(mp.ConfigurationError) as info:
        reg.set_tag("churn", 1, "k", "v", actor=1.5)  # type: ignore[arg-type]
    assert info.value.parameter == "actor"
    assert [v.version for v in reg.versions("churn")] == [1, 2, 3]
    assert reg.verify().ok


def test_an_alias_that_keeps_moving_is_contention_not_a_configuration_error(
    reg: mp.ModelRegistry,
) -> None:
    # A gate that moves the alias itself: every attempt finds a new holder.
    versions = iter([1, 2] * 20)

    def mover(candidate: Any, current: Any, *, actor: str | None) -> bool:
        reg.set_alias("churn", "production", next(versions))
        return True

    with pytest.raises(mp.Conflict, match="retry") as info:
        reg.set_alias("churn", "production", 3, gates=[mover])
    assert not isinstance(info.value, ValueError)
    assert "churn@production" in str(info.value)
    assert (info.value.kind, info.value.key, info.value.attempts) == (
        "alias",
        "churn@production",
        10,
    )
    assert reg.aliases("churn")["production"] != 3
