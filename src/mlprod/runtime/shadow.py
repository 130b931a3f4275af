"""Shadow mode: run a challenger beside the primary, off the critical path.

The caller never waits for the challenger: its calls go into a small
bounded queue served by one daemon thread, and when the queue is full the
shadow run is dropped (and counted) rather than slowing anyone down. Each
run compares the challenger's answer with the one the caller got and
counts (and audits) disagreements.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlprod._internal.logging import get_logger

__all__ = ["ShadowRunner", "disagreeing_rows"]

_log = get_logger("mlprod.runtime.shadow")


def disagreeing_rows(a: Any, b: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> int:
    """How many rows of two answers differ (floats compared with a tolerance)."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return max(len(x) if x.ndim else 1, len(y) if y.ndim else 1)
    if x.dtype.kind in "fc" and y.dtype.kind in "fciub":
        same = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
    else:
        same = x == y
    if same.ndim == 0:
        return 0 if bool(same) else 1
    if same.ndim > 1:
        same = same.reshape(same.shape[0], -1).all(axis=1)
    return int((~same).sum())


class ShadowRunner:
    """Runs a challenger on a background thread (or inline in test mode) and reports on it."""

    def __init__(
        self,
        challenger: Any,
        *,
        name: str,
        count: Callable[[str], None],
        on_disagreement: Callable[[Mapping[str, Any]], None],
        max_queue: int = 64,
    ) -> None:
        self.challenger = challenger
        self.name = name
        self._count = count
        self._on_disagreement = on_disagreement
        self._queue: queue.Queue[tuple[str, Any, Any] | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def submit(self, method: str, X: Any, answer: Any, *, inline: bool) -> None:
        """Compare the challenger with ``answer`` on ``X``: now if ``inline``, else later."""
        if inline:
            self._run(method, X, answer)
            return
        if self._closed:
            return
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._work, name=f"mlprod-shadow-{self.name}", daemon=True
                    )
                    self._thread.start()
        try:
            self._queue.put_nowait((method, X, answer))
        except queue.Full:
            self._count("dropped")

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if item[0] == "__drain__":
                item[1]()
            else:
                self._run(*item)
            # close() could not queue its stop mark when the queue was full.
            if self._closed and self._queue.empty():
                return

    def _run(self, method: str, X: Any, answer: Any) -> None:
        try:
            fn = getattr(self.challenger, method, None)
            if fn is None and method == "predict" and callable(self.challenger):
                fn = self.challenger
            if fn is None:
                raise AttributeError(f"the challenger has no {method}()")
            theirs = fn(X)
        except Exception as exc:
            self._count("errors")
            _log.debug("shadow model failed", guard=self.name, error=str(exc))
            return
        self._count("runs")
        rows = disagreeing_rows(answer, theirs)
        if rows:
            self._count("disagreements")
            self._on_disagreement(
                {"method": method, "X": X, "answer": answer, "challenger": theirs, "rows": rows}
            )

    def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait until queued shadow runs are done (for tests and shutdown); ``True`` if drained."""
        done = threading.Event()

        def _mark() -> None:
            done.set()

        if self._thread is None:
            return True
        try:
            self._queue.put(("__drain__", _mark, None), timeout=timeout_s)
        except queue.Full:
            return False
        return done.wait(timeout_s)

    def close(self) -> None:
        """Stop the background thread after the queued runs; later submissions are ignored."""
        self._closed = True
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
