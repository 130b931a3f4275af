"""Small models with known behaviour, for the guard tests (importable by worker processes)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np


class Constant:
    """Predicts ``value`` for every row."""

    def __init__(self, value=1.0):
        self.value = value

    def predict(self, X):
        return np.full(len(X), self.value)


class Classifier:
    """Predicts 1 and probabilities [0.25, 0.75] for every row."""

    def predict(self, X):
        return np.ones(len(X), dtype=int)

    def predict_proba(self, X):
        return np.tile([0.25, 0.75], (len(X), 1))


class Failing:
    def __init__(self, exc=None):
        self.exc = exc if exc is not None else ConnectionError("model server down")
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        raise self.exc


class NaNs:
    def predict(self, X):
        out = np.ones(len(X))
        out[0] = np.nan
        return out


class Sleepy:
    """Sleeps ``seconds`` (for real) then answers."""

    def __init__(self, seconds):
        self.seconds = seconds

    def predict(self, X):
        time.sleep(self.seconds)
        return np.zeros(len(X))


class Hanging:
    """Blocks until ``event`` is set (a primary that hangs 'forever' in a test)."""

    def __init__(self, event: threading.Event, *, fail_after=False):
        self.event = event
        self.fail_after = fail_after
        self.started = 0

    def predict(self, X):
        self.started += 1
        self.event.wait()
        if self.fail_after:
            raise RuntimeError("late failure")
        return np.zeros(len(X))


class AdvancesClock:
    """'Takes' ``seconds`` on a ManualClock, instantly."""

    def __init__(self, clock, seconds):
        self.clock = clock
        self.seconds = seconds

    def predict(self, X):
        self.clock.advance(self.seconds)
        return np.ones(len(X))


class HangsInProcess:
    """Hangs for good when a row's first value is negative; answers with the pid otherwise."""

    def predict(self, X):
        if X[0][0] < 0:
            while True:
                time.sleep(3600)
        return np.full(len(X), os.getpid())


class FakeReport:
    def __init__(self, ok, failures=()):
        self.ok = ok
        self.failures = list(failures)


class FakeSchema:
    """Anything with validate(X) -> .ok: rows must have exactly ``width`` values."""

    def __init__(self, width):
        self.width = width

    def validate(self, X):
        bad = [i for i, row in enumerate(X) if len(row) != self.width]
        return FakeReport(not bad, bad)


class Ref:
    name = "churn"
    version = 3
    digest = "ab" * 32


class TwoArgError(Exception):
    """An exception that pickles but does not unpickle (its __init__ takes two arguments)."""

    def __init__(self, a, b):
        super().__init__(f"{a} {b}")


class RaisesTwoArgError:
    def predict(self, X):
        raise TwoArgError("no", "answer")


class ReportsRemaining:
    """Answers with ``mp.remaining_ms()`` as the model sees it, or -1 without a deadline."""

    def predict(self, X):
        import mlprod as mp

        left = mp.remaining_ms()
        return np.full(len(X), -1.0 if left is None else left)


class LoadsUnless(HangsInProcess):
    """A :class:`HangsInProcess` that no worker can load while the file ``flag`` exists."""

    def __init__(self, flag):
        self.flag = str(flag)

    def __setstate__(self, state):
        if os.path.exists(state["flag"]):
            raise RuntimeError(f"cannot load the model while {state['flag']} exists")
        self.__dict__.update(state)


class Halt(BaseException):
    """A BaseException of the user's own (not an Exception): it must never become a fallback."""


class RaisesBase:
    """Raises ``Halt`` (or ``SystemExit`` with ``exit=True``) from predict."""

    def __init__(self, exit=False):
        self.exit = exit
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        if self.exit:
            raise SystemExit(3)
        raise Halt("operator pulled the plug")
