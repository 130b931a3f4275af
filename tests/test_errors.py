"""One error hierarchy, with facts as attributes and messages that say how to fix."""

from __future__ import annotations

import pytest

import mlprod as mp
from mlprod._internal.lazy import optional_import


def test_hierarchy_roots_at_mlprod_error():
    for cls in (
        mp.SchemaError,
        mp.IntegrityError,
        mp.GateFailed,
        mp.BudgetExceeded,
        mp.MissingDependency,
        mp.NotFound,
        mp.ConfigurationError,
        mp.SerializationError,
    ):
        assert issubclass(cls, mp.MlprodError)
    # familiar built-in bases so generic handlers still work
    assert issubclass(mp.MissingDependency, ImportError)
    assert issubclass(mp.NotFound, LookupError)
    assert issubclass(mp.BudgetExceeded, TimeoutError)


def test_missing_dependency_names_the_extra():
    with pytest.raises(mp.MissingDependency) as info:
        optional_import("surely_not_installed_pkg", feature="fairness_report", extra="reports")
    err = info.value
    assert err.package == "surely_not_installed_pkg"
    assert err.extra == "reports"
    assert "pip install 'mlprod[reports]'" in str(err)
    assert "fairness_report needs surely_not_installed_pkg" in str(err)


def test_optional_import_guesses_the_extra_from_the_package():
    err = mp.MissingDependency("fairlearn", extra="reports")
    assert err.to_dict()["extra"] == "reports"


def test_optional_import_returns_the_module():
    assert optional_import("json.decoder", feature="x").__name__ == "json.decoder"


def test_not_found_suggests_close_names():
    err = mp.NotFound("model", "chrun", candidates=["churn", "fraud", "churn-v2"])
    assert err.closest[0] == "churn"
    assert "Did you mean 'churn'" in str(err)
    assert err.kind == "model"
    assert err.key == "chrun"


def test_not_found_lists_existing_when_nothing_is_close():
    err = mp.NotFound("alias", "zzz", candidates=["production", "staging"])
    assert err.closest == []
    assert "'production'" in str(err)


def test_gate_failed_keeps_every_verdict():
    class V:
        def __init__(self, passed):
            self.passed = passed

    err = mp.GateFailed("no", verdicts=[V(True), V(False)])
    assert len(err.verdicts) == 2
    assert [v.passed for v in err.failed] == [False]


def test_to_dict_carries_facts():
    err = mp.IntegrityError("bad", path="a.bin", expected="x", actual="y")
    assert err.to_dict() == {
        "type": "IntegrityError",
        "message": "bad",
        "path": "a.bin",
        "expected": "x",
        "actual": "y",
    }


def test_to_dict_is_json_ready_for_rich_facts():
    import json

    class Verdict:
        passed = False

        def to_dict(self):
            return {"gate": "g", "passed": False}

    err = mp.GateFailed("refused", verdicts=[Verdict(), object()])
    data = json.loads(json.dumps(err.to_dict()))
    assert data["verdicts"][0] == {"gate": "g", "passed": False}
    assert data["type"] == "GateFailed"
