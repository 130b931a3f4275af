"""The pytest plugin: --mlprod-profile, report directory, fixtures; harmless when unused."""

from __future__ import annotations

import json

pytest_plugins = ["pytester"]

INNER = """
import pandas as pd
import mlprod.testing as mt
from hypothesis import settings

class Doubler:
    def predict(self, X):
        return X["x"].to_numpy() * 2.0

class Crash:
    def predict(self, X):
        if len(X) == 1:
            raise IndexError("one row")
        return X["x"].to_numpy()

X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})

def test_profile(mlprod_profile):
    print("PROFILE", mlprod_profile["name"], mlprod_profile["max_examples"],
          mlprod_profile["deadline"], settings.default.max_examples)

def test_fixture_check(mlprod_check):
    mlprod_check(Doubler(), X, checks=["one_row", "empty"], database=False)

@mt.behaviour(database=False)
def test_decorated_failure():
    return mt.check_predictor(Crash(), X, checks=["one_row"])
"""


def _load_plugin():
    """``-p mlprod.testing.plugin`` unless the installed entry point already loads it.

    Passing ``-p`` for a plugin pytest also autoloads registers it twice.
    """
    from importlib.metadata import entry_points

    installed = any(ep.value == "mlprod.testing.plugin" for ep in entry_points(group="pytest11"))
    return () if installed else ("-p", "mlprod.testing.plugin")


def _run(pytester, *args):
    pytester.makepyfile(test_inner=INNER)
    return pytester.runpytest_subprocess(*_load_plugin(), "-s", *args)


def test_ci_profile_sets_hypothesis_settings_and_reports_go_to_the_dir(pytester):
    reports = pytester.path / "reports"
    result = _run(pytester, "--mlprod-profile=ci", f"--mlprod-report-dir={reports}")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*mlprod: behaviour profile 'ci'*", "*PROFILE ci 25 None 25*"])
    result.stdout.fnmatch_lines(["*minimal counterexample*"])
    saved = json.loads((reports / "test_decorated_failure.json").read_text())
    assert saved["checks"][0]["status"] == "failed"
    assert saved["checks"][0]["examples"] <= 25
    assert sorted(p.suffix for p in reports.glob("test_fixture_check-1.*")) == [".html", ".json"]


def test_deep_profile_sets_a_deadline(pytester):
    result = _run(pytester, "--mlprod-profile=deep", "-k", "profile")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PROFILE deep 500 1000.0 500*"])


def test_without_options_hypothesis_settings_are_left_alone(pytester):
    result = _run(pytester, "-k", "profile")
    result.assert_outcomes(passed=1)
    # the deadline is hypothesis' own default: 200 ms, or none under its CI=true profile
    result.stdout.fnmatch_lines(["*PROFILE None 100 * 100*"])
    assert any(d in result.stdout.str() for d in (" 200.0 100", " None 100"))
    assert "mlprod: behaviour profile" not in result.stdout.str()


def test_options_are_namespaced_and_validated(pytester):
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess(*_load_plugin(), "--help")
    result.stdout.fnmatch_lines(["*--mlprod-profile*", "*--mlprod-report-dir*"])
    bad = pytester.runpytest_subprocess(*_load_plugin(), "--mlprod-profile=fast")
    assert bad.ret != 0
    bad.stderr.fnmatch_lines(["*invalid choice*"])
