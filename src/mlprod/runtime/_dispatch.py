"""Calling the guard's models: the primary on the guard's executor, then the fallback chain.

The guard decides (admission, the output check, the breaker, the record);
these functions only call, from sync code or from asyncio. The primary runs
inline in test mode, in the caller's thread when there is no deadline, on an
executor thread, or in a worker process, and comes back as ``("ok", answer)``,
``("error", exception)``, ``("timeout", None)`` or ``("shed", None)``. The
fallbacks are tried in order under the call's deadline; the first that
answers names the path, ``fallback[i]:label``.

A ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``,
``SystemExit``, your own subclasses) is never turned into a status: it is
raised in the caller, wherever the model ran (inline, an executor thread, a
worker process), so the guard can count and audit the call and let it go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mlprod.runtime import _testing
from mlprod.runtime._executor import ProcessExecutor, ThreadExecutor
from mlprod.runtime.deadline import _DEADLINE, deadline_at
from mlprod.runtime.policy import Fallback

__all__ = ["fallback_async", "fallback_sync", "primary_async", "primary_sync"]

T = TypeVar("T")
#: Finds the model's callable for a method name (``Guard._callable``).
Resolve = Callable[[str], Any]


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _on_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """``await fn(*args)`` run on a daemon thread of its own.

    Not ``asyncio.to_thread``: the interpreter joins the loop's executor threads at
    exit, so one blocked on a worker process that hangs for good (no budget, the
    caller cancelled) would keep the program from ever exiting.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if fut.done():
            return
        if error is None:
            fut.set_result(value)
        else:
            fut.set_exception(error)

    def run() -> None:
        value, error = None, None
        try:
            value = fn(*args)
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name="mlprod-guard-process-call", daemon=True).start()
    return await fut


# -- the primary ---------------------------------------------------------------------------


def _primary_inline(at: float | None, method: str, X: Any, resolve: Resolve) -> tuple[str, Any]:
    # Test mode: no threads; a timeout is judged after the fact on the test clock.
    clock = _testing.current_clock()
    if at is not None and clock.monotonic() >= at:
        return "timeout", None
    try:
        with deadline_at(at):
            value = resolve(method)(X)
    except Exception as exc:
        return "error", exc
    if at is not None and clock.monotonic() > at:
        return "timeout", None
    return "ok", value


def _context(at: float | None) -> contextvars.Context:
    ctx = contextvars.copy_context()
    if at is not None:
        ctx.run(_DEADLINE.set, at)
    return ctx


def _before_primary(
    at: float | None, method: str, X: Any, resolve: Resolve
) -> tuple[tuple[str, Any] | None, float | None]:
    """What both paths settle before handing off: test mode, or a deadline already past.

    Returns the outcome when the call is already decided, else the seconds left
    (``None`` without a deadline).
    """
    if _testing.is_testing():
        return _primary_inline(at, method, X, resolve), None
    timeout = None if at is None else at - _testing.current_clock().monotonic()
    if timeout is not None and timeout <= 0:
        return ("timeout", None), None
    return None, timeout


def primary_sync(
    ex: ThreadExecutor | ProcessExecutor, at: float | None, method: str, X: Any, resolve: Resolve
) -> tuple[str, Any]:
    """Run the primary's ``method`` on ``X`` by the deadline ``at``; say how it went."""
    if at is None and not _testing._STATE.enabled and type(ex) is ThreadExecutor:
        timeout = None  # the hot path: nothing to settle first
    else:
        early, timeout = _before_primary(at, method, X, resolve)
        if early is not None:
            return early
        if isinstance(ex, ProcessExecutor):
            return _from_process(ex.call(method, X, timeout))
    if timeout is None:
        # No deadline to enforce: run in the caller's thread, holding a slot meanwhile.
        assert isinstance(ex, ThreadExecutor)
        if not ex.enter():
            return "shed", None
        try:
            return "ok", resolve(method)(X)
        except Exception as exc:
            return "error", exc
        finally:
            ex.leave()
    job = ex.try_submit(resolve(method), (X,), _context(at))
    if job is None:
        return "shed", None
    if not ex.wait(job, timeout):
        return "timeout", None
    return _settled(job.error, job.result)


def _settled(error: BaseException | None, result: Any) -> tuple[str, Any]:
    if error is None:
        return "ok", result
    if not isinstance(error, Exception):
        raise error
    return "error", error


def _from_process(outcome: tuple[str, Any]) -> tuple[str, Any]:
    status, value = outcome
    if status == "error" and not isinstance(value, Exception):
        raise value
    return outcome


async def primary_async(
    ex: ThreadExecutor | ProcessExecutor, at: float | None, method: str, X: Any, resolve: Resolve
) -> tuple[str, Any]:
    """:func:`primary_sync` for asyncio code: the event loop is never blocked by the primary."""
    early, timeout = _before_primary(at, method, X, resolve)
    if early is not None:
        return early
    if isinstance(ex, ProcessExecutor):
        return _from_process(await _on_daemon_thread(ex.call, method, X, timeout))
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()

    def on_done(_job: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while an orphan ran
            loop.call_soon_threadsafe(_wake, fut)

    job = ex.try_submit(resolve(method), (X,), _context(at), on_done)
    if job is None:
        return "shed", None
    try:
        await asyncio.wait({fut}, timeout=timeout)
    except asyncio.CancelledError:
        ex.orphan(job)  # the caller went away; the slot stays taken until it ends
        raise
    if not fut.done() and ex.orphan(job):
        return "timeout", None
    return _settled(job.error, job.result)


# -- the fallback chain --------------------------------------------------------------------


def fallback_sync(
    fallbacks: tuple[Fallback, ...], at: float | None, method: str, X: Any
) -> tuple[str, Any, list[str]]:
    """The first answer of ``fallbacks`` as ``(path, answer, failures)``; ``""`` for none."""
    failures: list[str] = []
    with deadline_at(at):
        for i, fb in enumerate(fallbacks):
            if not fb.has(method):
                continue
            try:
                return f"fallback[{i}]:{fb.label}", fb.run(method, X), failures
            except Exception as exc:
                failures.append(f"fallback[{i}]:{fb.label} failed: {type(exc).__name__}: {exc}")
    return "", None, failures


async def fallback_async(
    fallbacks: tuple[Fallback, ...], at: float | None, method: str, X: Any
) -> tuple[str, Any, list[str]]:
    """:func:`fallback_sync` for asyncio code: a model's native ``a<method>`` is awaited."""
    failures: list[str] = []
    async with deadline_at(at):
        for i, fb in enumerate(fallbacks):
            if not fb.has(method):
                continue
            try:
                native = getattr(fb.target, "a" + method, None) if fb.kind == "model" else None
                if native is not None and asyncio.iscoroutinefunction(native):
                    value = await native(X)
                else:
                    value = fb.run(method, X)
                return f"fallback[{i}]:{fb.label}", value, failures
            except Exception as exc:
                failures.append(f"fallback[{i}]:{fb.label} failed: {type(exc).__name__}: {exc}")
    return "", None, failures
