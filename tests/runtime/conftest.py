"""Shared fixtures for the runtime guard tests."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import mlprod as mp

# Test models live in a plain module so worker processes (spawned for
# isolation="process") can import them by name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def clock():
    return mp.ManualClock(1000.0)


@pytest.fixture
def testing(clock):
    with mp.set_guard_testing(clock=clock):
        yield clock


@pytest.fixture
def release():
    """An event that hanging test models wait on; set at teardown so no thread lingers."""
    event = threading.Event()
    yield event
    event.set()
