"""The mlprod pytest plugin: behaviour-test fixtures and ``--mlprod-profile``.

Installed as a ``pytest11`` entry point, so any test run in an environment
with mlprod sees it; it changes nothing unless asked. Options:

* ``--mlprod-profile=ci|deep``: loads a hypothesis profile (``ci``: 25
  examples, no deadline, for noisy CI machines; ``deep``: 500 examples and a
  one-second deadline, for nightly runs). Without it hypothesis' own profile
  stays in force.
* ``--mlprod-report-dir=DIR``: tests decorated with
  :func:`mlprod.testing.behaviour` (and the ``mlprod_check`` fixture) write
  their report there as HTML and JSON.

Fixtures (all named ``mlprod_*``, none autouse): ``mlprod_profile`` (the
active profile's settings), ``mlprod_report_dir`` and ``mlprod_check``
(asserts :func:`~mlprod.testing.check_predictor` and writes its report).

Hypothesis is imported only when a profile is requested or a fixture used,
so the plugin is harmless where the ``testing`` extra is not installed.

Examples
--------
>>> from mlprod.testing.plugin import PROFILES
>>> PROFILES["ci"]["max_examples"], PROFILES["deep"]["max_examples"]
(25, 500)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

__all__ = ["PROFILES"]

# deadline in milliseconds; None switches it off
PROFILES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "ci": MappingProxyType({"max_examples": 25, "deadline": None}),
        "deep": MappingProxyType({"max_examples": 500, "deadline": 1000}),
    }
)


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("mlprod", "mlprod behaviour tests")
    group.addoption(
        "--mlprod-profile",
        choices=sorted(PROFILES),
        default=None,
        help="hypothesis profile for behaviour tests: ci (25 examples, no deadline) or "
        "deep (500 examples, 1 s deadline); default: leave hypothesis' settings alone",
    )
    group.addoption(
        "--mlprod-report-dir",
        default=None,
        help="write the reports of @mlprod.testing.behaviour tests here (HTML and JSON)",
    )


def _load_profile(name: str) -> Any:
    from mlprod._internal.lazy import optional_import

    hyp = optional_import("hypothesis", feature="--mlprod-profile", extra="testing")
    spec = PROFILES[name]
    deadline = spec["deadline"]
    hyp.settings.register_profile(
        f"mlprod-{name}",
        parent=hyp.settings.default,
        max_examples=spec["max_examples"],
        deadline=deadline,
    )
    hyp.settings.load_profile(f"mlprod-{name}")
    return hyp.settings.default


def pytest_configure(config: Any) -> None:
    from mlprod.testing._search import configure

    profile = config.getoption("mlprod_profile", None)
    if profile:
        _load_profile(profile)
    directory = config.getoption("mlprod_report_dir", None)
    if directory:
        configure(report_dir=str(directory))


def pytest_unconfigure(config: Any) -> None:
    from mlprod.testing._search import configure

    configure(report_dir=None)


def pytest_report_header(config: Any) -> list[str]:
    profile = config.getoption("mlprod_profile", None)
    if not profile:
        return []
    spec = PROFILES[profile]
    return [
        f"mlprod: behaviour profile {profile!r} (max_examples={spec['max_examples']}, "
        f"deadline={spec['deadline']})"
    ]


@pytest.fixture
def mlprod_profile(request: Any) -> Mapping[str, Any]:
    """The active search settings: the profile's name, ``max_examples`` and ``deadline``."""
    from mlprod._internal.lazy import optional_import

    hyp = optional_import("hypothesis", feature="mlprod_profile", extra="testing")
    current = hyp.settings.default
    deadline = current.deadline
    return MappingProxyType(
        {
            "name": request.config.getoption("mlprod_profile", None),
            "max_examples": current.max_examples,
            "deadline": None if deadline is None else deadline.total_seconds() * 1000,
        }
    )


@pytest.fixture
def mlprod_report_dir(request: Any, tmp_path: Path) -> Path:
    """The directory reports go to: ``--mlprod-report-dir``, else the test's tmp_path."""
    directory = request.config.getoption("mlprod_report_dir", None)
    path = Path(directory) if directory else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def mlprod_check(request: Any, mlprod_report_dir: Path) -> Callable[..., Any]:
    """``mlprod_check(model, X_sample, **options)``: assert check_predictor, keeping its report.

    The report is written beside the test's others as ``<test>-<n>.html`` and
    ``.json`` (the JSON holds each counterexample), then asserted.
    """
    from mlprod.testing._predictor import check_predictor

    calls = [0]
    stem = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")

    def run(model: Any, X_sample: Any, **options: Any) -> Any:
        calls[0] += 1
        report = check_predictor(model, X_sample, **options)
        base = mlprod_report_dir / f"{stem}-{calls[0]}"
        report.to_html(base.with_suffix(".html"))
        report.to_json(base.with_suffix(".json"))
        return report.assert_ok()

    return run
