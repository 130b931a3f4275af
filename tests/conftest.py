"""Suite-wide settings: hypothesis profiles and shared fixtures."""

from __future__ import annotations

import os

import pytest
import structlog
from hypothesis import HealthCheck, settings

# 'ci' keeps the suite fast; HYPOTHESIS_PROFILE=deep for a thorough run.
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _reset_structlog():
    """Examples may configure logging; no test leaks that into the next."""
    yield
    structlog.reset_defaults()
