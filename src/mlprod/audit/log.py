"""The writer: :class:`AuditLog`, one hash chain shared by threads and processes.

See :mod:`mlprod.audit` for the format and what it proves.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import math
import os
import signal
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json
from mlprod.audit.chain import (
    _HEAD,
    _TAIL_LEN,
    GENESIS,
    SEGMENT_END,
    SEGMENT_START,
    AuditVerification,
    _classify_fragment,
    line_hash,
    seal,
    verify_audit_log,
)
from mlprod.errors import ConfigurationError, IntegrityError

try:  # POSIX only; elsewhere each process should keep its own log
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["AuditLog"]


_END_BODY = b'{"event":"%s"}' % SEGMENT_END.encode("ascii")


def _tail_state(fd: int, size: int, path: Path) -> tuple[int, str, int, bool]:
    """Read the end of the file.

    Returns (next seq, last hash, end of the last complete line, whether
    that line ends a segment: the log moved on to a new file).
    """
    block = 4096
    while size:
        start = max(0, size - block)
        buf = os.pread(fd, size - start, start)
        last_nl = buf.rfind(b"\n")
        prev_nl = buf.rfind(b"\n", 0, max(last_nl, 0))
        if start > 0 and prev_nl < 0:
            block *= 2  # the last complete line starts before this block
            continue
        if last_nl < 0:
            return 0, GENESIS, 0, False  # the whole file is one torn fragment
        last = buf[prev_nl + 1 : last_nl]
        head = _HEAD.match(last)
        if (
            head is None
            or len(last) < _TAIL_LEN
            or hashlib.sha256(last[:-_TAIL_LEN]).hexdigest().encode("ascii") != last[-66:-2]
        ):
            raise IntegrityError(
                f"the last complete record of audit log {path} does not verify, so it cannot "
                "be extended without hiding the damage. Run 'mlprod audit verify' on it, keep "
                "it as evidence, and write to a new file.",
                path=str(path),
            )
        ended = last[head.end() : head.end() + len(_END_BODY) + 1] == _END_BODY + b","
        return int(head.group(1)) + 1, line_hash(last), start + last_nl + 1, ended
    return 0, GENESIS, 0, False


_OPEN_LOGS: weakref.WeakSet[AuditLog] = weakref.WeakSet()


def _flush_open_logs() -> None:
    for log in list(_OPEN_LOGS):
        with contextlib.suppress(Exception):  # exiting anyway; never mask the real exit
            log.flush()


def _reopen_after_fork() -> None:
    # The child inherits the parent's unflushed records and maybe a held lock:
    # those records are the parent's to write, and the lock may never be released.
    # It also shares the parent's open file, and flock() locks an open file, not
    # a process: two processes writing through one would not exclude each other.
    # So each child opens the file again and takes locks of its own.
    for log in list(_OPEN_LOGS):
        log._lock = threading.Lock()
        log._pending = []
        log._known_size = -1
        log._reopen_requested = False
        if log._closed:
            continue
        with contextlib.suppress(OSError):
            os.close(log._fd)
        try:
            log._fd = os.open(log.path, _FLAGS, 0o644)
        except OSError as exc:  # the child cannot write it; say so at its first append
            log._closed = True
            log._broken = f"it could not be reopened after fork(): {exc}"


_FLAGS = os.O_RDWR | os.O_CREAT | os.O_APPEND


atexit.register(_flush_open_logs)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reopen_after_fork)


def _config(message: str, parameter: str, value: Any) -> ConfigurationError:
    return ConfigurationError(message, parameter=parameter, value=value)


def _check_settings(path: Any, flush_every: Any, max_delay_s: Any, fsync: Any) -> Path:
    if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
        raise _config(
            f"flush_every must be an integer >= 1, got {flush_every!r}", "flush_every", flush_every
        )
    if max_delay_s is not None and (
        isinstance(max_delay_s, bool)
        or not isinstance(max_delay_s, int | float)
        or not math.isfinite(max_delay_s)
        or max_delay_s <= 0
    ):
        raise _config(
            f"max_delay_s must be a positive number of seconds or None, got {max_delay_s!r}",
            "max_delay_s",
            max_delay_s,
        )
    if not isinstance(fsync, bool):
        raise _config(f"fsync must be True or False, got {fsync!r}", "fsync", fsync)
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise _config(
            f"path must be a file path (str or os.PathLike), got {type(path).__name__} "
            f"{path!r}; pass e.g. 'audit.jsonl'",
            "path",
            repr(path),
        )
    p = Path(path)
    if not str(path) or p.is_dir():
        raise _config(
            f"audit log path {str(p)!r} is a directory; an audit log is one file: pass a "
            f"file path such as {str(p / 'audit.jsonl')!r}",
            "path",
            str(p),
        )
    return p


class AuditLog:
    """An append-only, hash-chained JSON-lines audit log (an :class:`~mlprod.protocols.AuditSink`).

    Several processes may append to the same file and keep one valid chain:
    each write takes an exclusive ``fcntl.flock`` on the file, re-reads the
    tail when another writer moved it, and continues from there. (Where
    ``fcntl`` does not exist, give each process its own file.) A log opened
    before ``fork()`` (gunicorn ``--preload``, ``multiprocessing``) opens
    its file again in the child, so each process locks on its own.

    For logrotate, call :meth:`reopen` after the file was renamed (or
    :meth:`install_sighup_reopen` once, then ``postrotate`` sends SIGHUP):
    the old file gets a last ``audit.segment_end`` record, the new file
    starts with an ``audit.segment_start`` record that continues the chain,
    and :func:`~mlprod.verify_audit_log` checks the segments as one chain.

    Parameters
    ----------
    path:
        The log file; created (with its folder) if missing, continued if present.
    flush_every:
        Records kept in memory before a write. ``1`` (the default) writes
        each record before :meth:`append` returns; larger values batch
        writes for throughput, and a crash then loses at most the unflushed
        records. :meth:`flush` and :meth:`close` (and the context manager,
        and interpreter exit) write the rest. A batch that fails part-way
        (a full disk) keeps the records that were written whole, cuts the
        torn one, and keeps the rest pending: each record is written once.
    max_delay_s:
        With batching, also write once the oldest pending record is this
        old (checked on the next append; no background thread).
    fsync:
        Also ``fsync`` after each write, so records survive a power cut, not
        only a process crash. Slower.

    Raises
    ------
    ConfigurationError
        A setting is invalid, ``path`` is a directory, or the file cannot be
        opened for writing.
    IntegrityError
        The file's last record does not verify, so extending it would hide
        the damage.

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> log = mp.AuditLog(path)
    >>> log.append({"event": "deploy", "model": "churn", "version": 3})
    0
    >>> log.close()
    >>> [r["record"]["event"] for r in mp.read_audit_log(path)]
    ['deploy']
    """

    __module__ = "mlprod"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_every: int = 1,
        max_delay_s: float | None = None,
        fsync: bool = False,
    ) -> None:
        self._closed = True  # until the file is open: __del__ and close() have nothing to do
        self.path = _check_settings(path, flush_every, max_delay_s, fsync)
        self.flush_every = flush_every
        self.max_delay_s = max_delay_s
        self.fsync = fsync
        self._lock = threading.Lock()
        self._pending: list[tuple[float, bytes]] = []  # (ts, canonical record JSON)
        self._reopen_requested = False
        self._broken = ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, _FLAGS, 0o644)
        except OSError as exc:
            raise _config(
                f"cannot open audit log {str(self.path)!r} for appending: {exc.strerror or exc}. "
                "Pass a path in a folder this process may write to.",
                "path",
                str(self.path),
            ) from exc
        self._known_size = -1  # forces a tail read on first write
        self._seq = 0
        self._prev = GENESIS
        self._closed = False
        try:
            self._locked(self._sync_tail)  # fail now, not at the first append, on a bad log
        except BaseException:
            os.close(self._fd)
            self._closed = True
            raise
        _OPEN_LOGS.add(self)

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> int:
        """Add one record; return its sequence number (with batching: its expected one).

        The record must be JSON-serialisable (numpy, pandas and datetime values
        are converted; NaN and infinity are kept as tagged objects and read
        back as floats by :func:`~mlprod.read_audit_log`). Keys that collide
        as strings raise :class:`~mlprod.EncodingError`. Thread-safe. With
        batching, another process appending meanwhile can shift the final
        sequence number.
        """
        body = canonical_json(record, allow_nonfinite=True)
        stamp = time.time()
        with self._lock:
            if self._closed:
                raise self._closed_error()
            if self._reopen_requested:
                self._reopen_locked()
            if self.flush_every == 1 and not self._pending:
                return self._write_one(stamp, body)
            self._pending.append((stamp, body))
            if len(self._pending) >= self.flush_every or (
                self.max_delay_s is not None and stamp - self._pending[0][0] >= self.max_delay_s
            ):
                return self._flush_locked() - 1
            return self._seq + len(self._pending) - 1

    def _closed_error(self) -> ConfigurationError:
        why = self._broken or "it is closed"
        return _config(
            f"audit log {self.path} cannot take records: {why}; open a new AuditLog to keep "
            "writing",
            "path",
            str(self.path),
        )

    def flush(self) -> None:
        """Write every pending record now."""
        with self._lock:
            if self._pending and not self._closed:
                self._flush_locked()

    def _sync_tail(self) -> None:
        """Bring the state to the end of the chain; the caller holds the file's flock.

        When the file's last record ends a segment (another writer rotated
        the log), move to the file now at :attr:`path` and continue there.
        """
        size = os.fstat(self._fd).st_size
        if size == self._known_size:
            return
        seq, prev, end, ended = _tail_state(self._fd, size, self.path)
        if end != size:
            ended = False
            kind, info = _classify_fragment(os.pread(self._fd, size - end, end), seq, prev)
            if kind == "record":  # whole, only the newline was lost
                os.write(self._fd, b"\n")
                seq, prev, size = seq + 1, info, size + 1
            elif kind == "torn":
                # A writer crashed mid-line. Cut the fragment (it never verified)
                # and leave a record of the cut, so the chain stays whole.
                os.ftruncate(self._fd, end)
                line = seal(
                    {"event": "audit.truncated_tail_repaired", "dropped_bytes": size - end},
                    seq=seq,
                    prev=prev,
                )
                os.write(self._fd, line + b"\n")
                seq, prev = seq + 1, line_hash(line)
                size = end + len(line) + 1
            else:
                raise IntegrityError(
                    f"audit log {self.path} ends with bytes no writer produced ({info}); "
                    "refusing to extend it. Run 'mlprod audit verify' on it, keep it as "
                    "evidence, and write to a new file.",
                    path=str(self.path),
                )
        shrank = 0 <= size < self._known_size  # cut under us: copytruncate, or an attacker
        known, known_head = self._known_size, self._prev
        self._seq, self._prev, self._known_size = seq, prev, size
        if shrank:
            # No writer shortens a file it did not tear; leave the evidence in the chain.
            line = seal(
                {
                    "event": "audit.file_shrank",
                    "expected_bytes": known,
                    "found_bytes": size,
                    "last_known_head": known_head,
                },
                seq=seq,
                prev=prev,
            )
            self._write_all(self._fd, line + b"\n")
            self._seq, self._prev = seq + 1, line_hash(line)
            self._known_size = size + len(line) + 1
        if ended:
            self._move_to_new_file()

    def _move_to_new_file(self) -> None:
        """Leave the current (locked, ended or rotated) file for the one at ``path``.

        On return the new file is open, locked, and its chain continues the
        old one: the first writer to reach an empty new file seals an
        ``audit.segment_start`` record there from the old file's head.
        """
        old = self._fd
        try:
            new = os.open(self.path, _FLAGS, 0o644)
        except OSError as exc:
            raise _config(
                f"cannot open the new audit log file {self.path} after rotation: {exc}",
                "path",
                str(self.path),
            ) from exc
        old_st, new_st = os.fstat(old), os.fstat(new)
        if (old_st.st_ino, old_st.st_dev) == (new_st.st_ino, new_st.st_dev):
            os.close(new)  # not rotated after all: keep writing here
            return
        if fcntl is not None:
            fcntl.flock(new, fcntl.LOCK_EX)
        carried_seq, carried_prev = self._seq, self._prev
        self._fd, self._known_size = new, -1
        if fcntl is not None:
            fcntl.flock(old, fcntl.LOCK_UN)
        os.close(old)
        self._sync_tail()
        if self._seq == 0 and self._known_size == 0 and carried_prev != GENESIS:
            line = seal(
                {"event": SEGMENT_START, "previous_head": carried_prev},
                seq=carried_seq,
                prev=carried_prev,
            )
            self._write_all(self._fd, line + b"\n")
            self._seq, self._prev = carried_seq + 1, line_hash(line)
            self._known_size = len(line) + 1

    def _write_all(self, fd: int, data: bytes | bytearray) -> int:
        """Write ``data``; on an error, attach how much was written (``exc.written``)."""
        written = 0
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write: the next call reports why
                written += os.write(fd, data[written:])
        except OSError as exc:
            exc.written = written  # type: ignore[attr-defined]
            raise
        if self.fsync:
            os.fsync(fd)
        return written

    def _write_one(self, stamp: float, body: bytes) -> int:
        # The unbatched path, kept lean: it runs once per guarded call.
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            fd = self._fd
            if os.fstat(fd).st_size != self._known_size:
                self._sync_tail()
                fd = self._fd
            seq = self._seq
            head = b'{"seq":%d,"ts":%r,"prev":"%s","record":%s' % (
                seq,
                stamp,
                self._prev.encode("ascii"),
                body,
            )
            digest = hashlib.sha256(head).hexdigest()
            line = head + b',"hash":"' + digest.encode("ascii") + b'"}\n'
            try:
                written = os.write(fd, line)
            except OSError as exc:
                exc.add_note(f"the audit record {seq} was not written")
                raise
            if written < len(line) or self.fsync:
                try:
                    self._write_all(fd, line[written:])
                except OSError as exc:
                    self._cut(self._known_size, written + exc.written)  # type: ignore[attr-defined]
                    exc.add_note(f"the audit record {seq} was not written")
                    raise
            self._seq, self._prev = seq + 1, digest
            self._known_size += len(line)
            return seq
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _cut(self, start: int, written: int) -> None:
        """After a failed write that began at ``start``: drop a torn line, keep whole ones."""
        if written:
            try:
                os.ftruncate(self._fd, start)
                self._known_size = start
            except OSError:
                self._known_size = -1  # the next writer repairs the torn tail

    def _locked(self, fn: Any) -> Any:
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            return fn()
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _flush_locked(self, end_segment: bool = False) -> int:
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._sync_tail()
            seq, prev = self._seq, self._prev
            out = bytearray()
            ends: list[tuple[int, str]] = []  # (end offset in out, hash) of each line
            items = [(stamp, body) for stamp, body in self._pending]
            if end_segment:
                items.append((time.time(), canonical_json({"event": SEGMENT_END})))
            for stamp, body in items:
                head = b'{"seq":%d,"ts":%r,"prev":"%s","record":%s' % (
                    seq,
                    stamp,
                    prev.encode("ascii"),
                    body,
                )
                prev = hashlib.sha256(head).hexdigest()
                out += head
                out += b',"hash":"'
                out += prev.encode("ascii")
                out += b'"}\n'
                ends.append((len(out), prev))
                seq += 1
            start = self._known_size
            try:
                self._write_all(self._fd, out)
            except OSError as exc:
                self._keep_whole_lines(start, exc.written, ends)  # type: ignore[attr-defined]
                exc.add_note(
                    f"{len(self._pending)} audit record(s) stay pending; every record "
                    "written whole is kept, and the next flush writes the rest once"
                )
                raise
            self._pending.clear()
            self._seq, self._prev = seq, prev
            self._known_size = start + len(out)
            return seq
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _keep_whole_lines(self, start: int, written: int, ends: list[tuple[int, str]]) -> None:
        whole = 0
        while whole < len(ends) and ends[whole][0] <= written:
            whole += 1
        kept = min(whole, len(self._pending))
        if whole:
            self._seq += whole
            self._prev = ends[whole - 1][1]
        del self._pending[:kept]
        done = ends[whole - 1][0] if whole else 0
        self._known_size = start + done
        if written > done:
            self._cut(start + done, written - done)

    # -- rotation --------------------------------------------------------------------------

    def reopen(self) -> None:
        """Continue the log in a new file at :attr:`path` once logrotate renamed the old one.

        Writes the pending records and an ``audit.segment_end`` record to the
        old file, then opens :attr:`path` again; a new (empty) file starts
        with an ``audit.segment_start`` record carrying the old file's head,
        so the segments verify as one chain
        (``mp.verify_audit_log([older, newer])``). Other processes writing
        the same log see the end record and follow on their next write.
        When the file was not renamed, only flushes.

        Safe to call from a signal handler: it never waits for the log's
        lock; when another caller holds it, the move happens at the next
        write.
        """
        self._reopen_requested = True
        if self._lock.acquire(blocking=False):
            try:
                if not self._closed and self._reopen_requested:
                    self._reopen_locked()
            finally:
                self._lock.release()

    def _reopen_locked(self) -> None:
        self._reopen_requested = False
        try:
            at_path = os.stat(self.path)
        except FileNotFoundError:
            at_path = None
        mine = os.fstat(self._fd)
        if at_path is not None and (at_path.st_ino, at_path.st_dev) == (
            mine.st_ino,
            mine.st_dev,
        ):
            if self._pending:
                self._flush_locked()
            return
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._sync_tail()  # may already follow another writer to the new file
            if os.fstat(self._fd).st_ino == mine.st_ino:
                if self._seq or self._pending:
                    self._flush_locked(end_segment=True)
                self._move_to_new_file()
            if self._pending:
                self._flush_locked()
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    @staticmethod
    def install_sighup_reopen() -> Any:
        """Make SIGHUP call :meth:`reopen` on every open audit log (logrotate's ``postrotate``).

        Call once, from the main thread. A handler installed before (a
        Python callable) still runs after the logs reopen. Returns that
        previous handler.

        Examples
        --------
        >>> import mlprod as mp, signal
        >>> previous = mp.AuditLog.install_sighup_reopen()
        >>> _ = signal.signal(signal.SIGHUP, previous)  # put it back
        """
        if not hasattr(signal, "SIGHUP"):  # pragma: no cover - Windows
            raise _config(
                "this platform has no SIGHUP; call AuditLog.reopen() after rotating instead",
                "signal",
                "SIGHUP",
            )
        previous = signal.getsignal(signal.SIGHUP)

        def _reopen_all(signum: int, frame: Any) -> None:
            for log in list(_OPEN_LOGS):
                log.reopen()
            if callable(previous):
                previous(signum, frame)

        try:
            signal.signal(signal.SIGHUP, _reopen_all)
        except ValueError as exc:
            raise _config(
                f"install_sighup_reopen() must be called from the main thread ({exc})",
                "signal",
                "SIGHUP",
            ) from None
        return previous

    # -- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close the file. Further appends raise."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._pending:
                    self._flush_locked()
            finally:
                os.close(self._fd)
                self._closed = True
                _OPEN_LOGS.discard(self)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: never lose a pending tail silently
        with contextlib.suppress(Exception):
            self.close()

    @property
    def pending(self) -> int:
        """Records accepted but not yet written."""
        return len(self._pending)

    @property
    def head(self) -> str:
        """Hash of the last record this writer knows of (after a flush); pin it elsewhere."""
        return self._prev

    def verify(self) -> AuditVerification:
        """Flush, then verify the whole file (see :func:`verify_audit_log`)."""
        self.flush()
        return verify_audit_log(self.path)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._pending)}"
        return f"AuditLog({str(self.path)!r}, flush_every={self.flush_every}, {state})"
