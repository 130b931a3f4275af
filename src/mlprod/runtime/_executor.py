"""How a guard runs its primary: a bounded thread pool, or worker processes.

A Python thread cannot be killed, so a primary that outlives its deadline
keeps running. The thread pool therefore counts *slots*, not threads: a
call takes a slot before it is handed to a thread and gives it back only
when the primary really returns. A timed-out call becomes an *orphan* that
still holds its slot, and once every slot is held new calls are shed. Each
taken slot has exactly one thread reserved for it, so the pool never holds
more threads than slots, whatever the primary does.

Worker processes can be killed: with ``isolation="process"`` a timed-out
worker is killed and a fresh one started in the background; its slot comes
back once the new worker says it is ready. A restart that fails is tried
again by a later call, after a back-off that doubles up to a bound.
"""

from __future__ import annotations

import _thread
import contextlib
import contextvars
import pickle
import queue
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from mlprod._internal.logging import get_logger
from mlprod.errors import ConfigurationError
from mlprod.runtime.deadline import DeadlineScope

__all__ = ["SHED", "Executor", "Job", "ProcessExecutor", "ThreadExecutor"]

SHED: Any = object()
"""What :meth:`ThreadExecutor.run_here` returns when every slot is taken."""

_log = get_logger("mlprod.runtime.executor")


class Executor(Protocol):
    """What a guard reads from whichever executor runs its primary (threads or processes)."""

    @property
    def in_flight(self) -> int:
        """Slots taken now (orphans included)."""
        ...

    @property
    def orphans(self) -> int:
        """Timed-out calls still running (threads only; a process is killed instead)."""
        ...

    @property
    def orphans_finished(self) -> int:
        """Orphans that have finished since."""
        ...

    @property
    def killed(self) -> int:
        """Workers killed on timeout (processes only)."""
        ...

    @property
    def restart_failures(self) -> int:
        """Failed attempts to replace a killed worker (processes only)."""
        ...

    @property
    def threads(self) -> int:
        """Threads started so far."""
        ...

    def shutdown(self) -> None:
        """Release threads or processes."""
        ...


class Job:
    """One primary call handed to a worker thread."""

    __slots__ = (
        "args",
        "ctx",
        "done",
        "error",
        "finished",
        "fn",
        "on_done",
        "orphaned",
        "result",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        ctx: contextvars.Context,
        on_done: Callable[[Job], None] | None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.ctx = ctx
        self.on_done = on_done
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.orphaned = False
        self.done = _thread.allocate_lock()
        self.done.acquire()


class ThreadExecutor:
    """A pool of at most ``bound`` daemon threads with slot and orphan accounting."""

    def __init__(self, bound: int, *, name: str) -> None:
        self.bound = bound
        self.name = name
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.in_flight = 0
        self.orphans = 0
        self.orphans_finished = 0
        self.threads = 0
        self.killed = 0  # threads cannot be killed; kept so every executor reads alike
        self.restart_failures = 0
        self._idle = 0
        self._closed = False

    def try_submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        ctx: contextvars.Context,
        on_done: Callable[[Job], None] | None = None,
    ) -> Job | None:
        """Run ``fn(*args)`` in ``ctx`` on a worker thread; ``None`` when every slot is taken."""
        with self._lock:
            if self.in_flight >= self.bound or self._closed:
                return None
            self.in_flight += 1
            if self._idle:
                self._idle -= 1
                spawn = False
            else:
                self.threads += 1
                spawn = True
                number = self.threads
        job = Job(fn, args, ctx, on_done)
        self._queue.put(job)
        if spawn:
            threading.Thread(
                target=self._work, name=f"mlprod-guard-{self.name}-{number}", daemon=True
            ).start()
        return job

    def enter(self) -> bool:
        """Take a slot for a call run in the caller's own thread; ``False`` when all are busy."""
        with self._lock:
            if self.in_flight >= self.bound:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        """Give back a slot taken with :meth:`enter`."""
        with self._lock:
            self.in_flight -= 1

    def run_here(self, fn: Callable[[Any], Any], X: Any) -> Any:
        """``fn(X)`` in the caller's thread, holding a slot meanwhile; :data:`SHED` if none is free.

        What :meth:`enter`, the call and :meth:`leave` do, in one step (the
        guard's short path calls it on every call).
        """
        lock = self._lock
        with lock:
            if self.in_flight >= self.bound:
                return SHED
            self.in_flight += 1
        try:
            return fn(X)
        finally:
            with lock:
                self.in_flight -= 1

    def wait(self, job: Job, timeout_s: float | None) -> bool:
        """Wait for ``job`` up to ``timeout_s``; ``False`` (and the job orphaned) on timeout."""
        if timeout_s is None:
            job.done.acquire()
            return True
        if timeout_s > 0 and job.done.acquire(True, timeout_s):
            return True
        return not self.orphan(job)

    def orphan(self, job: Job) -> bool:
        """Give up on ``job`` (an async caller timed out); ``False`` if it already finished."""
        with self._lock:
            if job.finished:
                return False
            job.orphaned = True
            self.orphans += 1
            return True

    def _work(self) -> None:
        get = self._queue.get
        while True:
            job = get()
            if job is None:
                return
            try:
                job.result = job.ctx.run(job.fn, *job.args)
            except BaseException as exc:  # the caller (or the log, for an orphan) gets it
                job.error = exc
            with self._lock:
                job.finished = True
                self.in_flight -= 1
                self._idle += 1
                orphan = job.orphaned
                if orphan:
                    self.orphans -= 1
                    self.orphans_finished += 1
            job.done.release()
            if job.on_done is not None:
                job.on_done(job)
            if orphan and job.error is not None:
                _log.warning(
                    "a timed-out primary call failed after the guard had answered",
                    guard=self.name,
                    error=f"{type(job.error).__name__}: {job.error}",
                )
            job.fn = job.args = job.ctx = None  # type: ignore[assignment]

    def shutdown(self) -> None:
        """Let idle threads exit; threads busy with orphans exit when those return."""
        with self._lock:
            self._closed = True
            count = self.threads
        for _ in range(count):
            self._queue.put(None)


def _process_main(conn: Connection, payload: bytes) -> None:
    """Entry point of a worker process: load the model, then answer calls until told to stop."""
    try:
        model = pickle.loads(payload)
    except BaseException as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        method, X, budget_s = message
        # The parent's deadline lives in its own context variable: only the time
        # left crosses the pipe, so a model that reads mp.remaining_ms() here sees it.
        scope = contextlib.nullcontext() if budget_s is None else DeadlineScope(budget_s * 1000)
        try:
            with scope:
                value = getattr(model, method)(X)
            conn.send(("ok", value))
        except BaseException as exc:
            conn.send(("error", _portable(exc)))


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if the parent can rebuild it, else a RuntimeError carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        # Many exceptions pickle but cannot be rebuilt (an __init__ with other arguments):
        # the parent would see only the rebuild's TypeError, not what went wrong. A
        # BaseException stays one, so the parent lets it through as it would here.
        kind = RuntimeError if isinstance(exc, Exception) else BaseException
        return kind(f"{type(exc).__name__}: {exc}")
    return exc


class _Worker:
    __slots__ = ("conn", "process")

    def __init__(self, conn: Connection, process: Any) -> None:
        self.conn = conn
        self.process = process


class ProcessExecutor:
    """``bound`` worker processes, each with a copy of the model; killed and replaced on timeout."""

    def __init__(
        self,
        model: Any,
        bound: int,
        *,
        name: str,
        start: bool = True,
        start_timeout_s: float = 120.0,
        restart_backoff_s: float = 0.5,
        restart_backoff_max_s: float = 60.0,
    ) -> None:
        import multiprocessing

        try:
            self._payload = pickle.dumps(model)
        except Exception as exc:
            raise ConfigurationError(
                f"isolation='process' sends the model to worker processes, but it does not "
                f"pickle: {type(exc).__name__}: {exc}. Define the model's class at module "
                "level (not in a notebook cell or a function), or use isolation='thread'.",
                parameter="isolation",
                value="process",
            ) from exc
        self.bound = bound
        self.name = name
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._free: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self.in_flight = 0
        self.killed = 0
        self.restart_failures = 0
        self.start_timeout_s = start_timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.restart_backoff_max_s = restart_backoff_max_s
        self._down = 0  # workers killed and not yet replaced
        self._restarting = False
        self._retry_at = 0.0
        self._backoff_s = restart_backoff_s
        self._started = False
        self._start_lock = threading.Lock()
        if start:
            self.start()

    def start(self) -> None:
        """Start the workers and wait until each has loaded the model (once)."""
        with self._start_lock:
            if self._started:
                return
            starting = [self._start() for _ in range(self.bound)]
            for worker in starting:
                self._await_ready(worker)
            self._started = True

    @property
    def orphans(self) -> int:
        return 0

    @property
    def orphans_finished(self) -> int:
        return 0

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_process_main,
            args=(child, self._payload),
            name=f"mlprod-guard-{self.name}",
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(parent, process)

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.conn.poll(self.start_timeout_s):
            self._discard(worker)
            raise ConfigurationError(
                f"guard {self.name!r}: a worker process did not start within "
                f"{self.start_timeout_s:g} s",
                parameter="isolation",
                value="process",
            )
        try:
            status, info = worker.conn.recv()
        except (EOFError, OSError):
            self._discard(worker)
            raise ConfigurationError(
                f"guard {self.name!r}: the worker process exited while starting (exit code "
                f"{worker.process.exitcode}). Worker processes are spawned and re-import "
                "your main module: in a script, create the guard under "
                "'if __name__ == \"__main__\":', and define the model's class in an "
                "importable module.",
                parameter="isolation",
                value="process",
            ) from None
        if status != "ready":
            self._discard(worker)
            raise ConfigurationError(
                f"guard {self.name!r}: the worker process could not load the model: {info}. "
                "Make sure the model's module is importable in a fresh interpreter.",
                parameter="isolation",
                value="process",
            )
        with self._lock:
            if self._closed:
                self._stop(worker)
                return
            self._free.append(worker)

    @staticmethod
    def _discard(worker: _Worker) -> None:
        # Joined and closed, so that restarts retried for hours leak no zombies or pipes.
        worker.process.kill()
        worker.process.join()
        worker.conn.close()

    def _claim_restart(self) -> bool:
        """Under ``self._lock``: whether this caller should start the missing workers now."""
        if not self._down or self._restarting or self._closed:
            return False
        if time.monotonic() < self._retry_at:
            return False
        self._restarting = True
        return True

    def _respawn(self, dead: _Worker | None, restart: bool) -> None:
        """Reap ``dead``; with ``restart``, start workers until none is missing or one fails."""
        if dead is not None:
            dead.process.join()  # reap it: a killed child left unjoined stays a zombie
        while restart:
            try:
                self._await_ready(self._start())
                error = None
            except Exception as exc:
                error = exc
            with self._lock:
                if error is None:
                    self._down -= 1
                    self._backoff_s = self.restart_backoff_s
                    restart = self._down > 0 and not self._closed
                else:
                    self.restart_failures += 1
                    delay, down = self._backoff_s, self._down
                    self._retry_at = time.monotonic() + delay
                    self._backoff_s = min(2 * delay, self.restart_backoff_max_s)
                    restart = False
                if not restart:
                    self._restarting = False
            if error is not None:
                _log.error(
                    "could not restart a guard worker process; a call after the back-off "
                    "tries again",
                    guard=self.name,
                    error=str(error),
                    workers_down=down,
                    retry_in_s=delay,
                )

    def _respawn_in_background(self, dead: _Worker | None, restart: bool) -> None:
        threading.Thread(
            target=self._respawn,
            args=(dead, restart),
            name=f"mlprod-guard-{self.name}-respawn",
            daemon=True,
        ).start()

    def call(self, method: str, X: Any, timeout_s: float | None) -> tuple[str, Any]:
        """Run ``model.<method>(X)`` in a worker, under a deadline of ``timeout_s`` there too.

        Returns ``("ok", y)``, ``("error", exc)``, ``("timeout", None)`` or ``("shed", None)``.
        """
        if not self._started:
            self.start()
        with self._lock:
            restart = self._claim_restart()
            worker = self._free.pop() if self._free else None
            if worker is not None:
                self._busy.add(worker)
                self.in_flight += 1
        if restart:
            self._respawn_in_background(None, True)
        if worker is None:
            return "shed", None
        try:
            worker.conn.send((method, X, timeout_s))
            if timeout_s is None or worker.conn.poll(max(0.0, timeout_s)):
                status, value = worker.conn.recv()
                self._give_back(worker)
                return status, value
        except (EOFError, OSError) as exc:  # the worker died under us
            status, value = "error", exc
        except Exception as exc:
            # The input did not pickle (nothing was sent), or the answer did not
            # unpickle here (it was read whole): the worker is fine and keeps its slot.
            self._give_back(worker)
            return "error", exc
        else:
            status, value = "timeout", None
        worker.process.kill()
        worker.conn.close()
        with self._lock:
            self._busy.discard(worker)
            self.in_flight -= 1
            replace = not self._closed
            if replace:
                self.killed += 1
                self._down += 1
                restart = self._claim_restart()
        if not replace:  # shut down under us
            worker.process.join()
            return status, value
        _log.warning("killed a guard worker process", guard=self.name, reason=status)
        self._respawn_in_background(worker, restart)
        return status, value

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            self.in_flight -= 1
            if not self._closed:
                self._free.append(worker)
                return
        self._stop(worker)

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.conn.send(None)
        worker.process.join(1.0)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def shutdown(self) -> None:
        """Stop every idle worker; kill busy ones (their callers get an error)."""
        with self._lock:
            self._closed = True
            free, self._free = self._free, []
            busy = list(self._busy)
        for worker in busy:
            worker.process.kill()
            worker.process.join()
        for worker in free:
            self._stop(worker)

    @property
    def threads(self) -> int:
        return 0
