"""The writer: :class:`AuditLog`, one hash chain shared by threads and processes.

See :mod:`mlprod.audit` for the format and what it proves.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
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


def _tail_state(fd: int, size: int, path: Path) -> tuple[int, str, int]:
    """Read the end of the file: (next seq, last hash, end of the last complete line)."""
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
            return 0, GENESIS, 0  # the whole file is one torn fragment
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
        return int(head.group(1)) + 1, line_hash(last), start + last_nl + 1
    return 0, GENESIS, 0


_OPEN_LOGS: weakref.WeakSet[AuditLog] = weakref.WeakSet()


def _flush_open_logs() -> None:
    for log in list(_OPEN_LOGS):
        with contextlib.suppress(Exception):  # exiting anyway; never mask the real exit
            log.flush()


def _forget_after_fork() -> None:
    # The child inherits the parent's unflushed records and maybe a held lock:
    # those records are the parent's to write, and the lock may never be released.
    for log in list(_OPEN_LOGS):
        log._lock = threading.Lock()
        log._pending = []
        log._known_size = -1


atexit.register(_flush_open_logs)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class AuditLog:
    """An append-only, hash-chained JSON-lines audit log (an :class:`~mlprod.protocols.AuditSink`).

    Several processes may append to the same file and keep one valid chain:
    each write takes an exclusive ``fcntl.flock`` on the file, re-reads the
    tail when another writer moved it, and continues from there. (Where
    ``fcntl`` does not exist, give each process its own file.)

    Parameters
    ----------
    path:
        The log file; created (with its folder) if missing, continued if present.
    flush_every:
        Records kept in memory before a write. ``1`` (the default) writes
        each record before :meth:`append` returns; larger values batch
        writes for throughput, and a crash then loses at most the unflushed
        records. :meth:`flush` and :meth:`close` (and the context manager,
        and interpreter exit) write the rest.
    max_delay_s:
        With batching, also write once the oldest pending record is this
        old (checked on the next append; no background thread).
    fsync:
        Also ``fsync`` after each write, so records survive a power cut, not
        only a process crash. Slower.

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
        if not isinstance(flush_every, int) or flush_every < 1:
            raise ConfigurationError(
                f"flush_every must be an integer >= 1, got {flush_every!r}",
                parameter="flush_every",
                value=flush_every,
            )
        if max_delay_s is not None and not max_delay_s > 0:
            raise ConfigurationError(
                f"max_delay_s must be a positive number of seconds or None, got {max_delay_s!r}",
                parameter="max_delay_s",
                value=max_delay_s,
            )
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_every = flush_every
        self.max_delay_s = max_delay_s
        self.fsync = fsync
        self._lock = threading.Lock()
        self._pending: list[tuple[float, bytes]] = []  # (ts, canonical record JSON)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
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
        are converted). Thread-safe. With batching, another process appending
        meanwhile can shift the final sequence number.
        """
        body = canonical_json(record)
        stamp = time.time()
        with self._lock:
            if self._closed:
                raise ConfigurationError(
                    f"audit log {self.path} is closed; open a new AuditLog to keep writing",
                    parameter="path",
                    value=str(self.path),
                )
            if self.flush_every == 1 and not self._pending:
                return self._write_one(stamp, body)
            self._pending.append((stamp, body))
            if len(self._pending) >= self.flush_every or (
                self.max_delay_s is not None and stamp - self._pending[0][0] >= self.max_delay_s
            ):
                return self._flush_locked() - 1
            return self._seq + len(self._pending) - 1

    def flush(self) -> None:
        """Write every pending record now."""
        with self._lock:
            if self._pending and not self._closed:
                self._flush_locked()

    def _sync_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == self._known_size:
            return
        seq, prev, end = _tail_state(self._fd, size, self.path)
        if end != size:
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
        self._seq, self._prev, self._known_size = seq, prev, size

    def _write_one(self, stamp: float, body: bytes) -> int:
        # The unbatched path, kept lean: it runs once per guarded call.
        fd = self._fd
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size != self._known_size:
                self._sync_tail()
            seq = self._seq
            head = b'{"seq":%d,"ts":%r,"prev":"%s","record":%s' % (
                seq,
                stamp,
                self._prev.encode("ascii"),
                body,
            )
            digest = hashlib.sha256(head).hexdigest()
            line = head + b',"hash":"' + digest.encode("ascii") + b'"}\n'
            written = os.write(fd, line)
            while written < len(line):  # pragma: no cover - short writes are rare on files
                written += os.write(fd, line[written:])
            if self.fsync:
                os.fsync(fd)
            self._seq, self._prev = seq + 1, digest
            self._known_size += len(line)
            return seq
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _locked(self, fn: Any) -> Any:
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            return fn()
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _flush_locked(self) -> int:
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._sync_tail()
            seq, prev = self._seq, self._prev
            out = bytearray()
            for stamp, body in self._pending:
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
                seq += 1
            written = os.write(self._fd, out)
            while written < len(out):  # pragma: no cover - short writes are rare on files
                written += os.write(self._fd, out[written:])
            if self.fsync:
                os.fsync(self._fd)
            self._pending.clear()
            self._seq, self._prev = seq, prev
            self._known_size += len(out)
            return seq
        finally:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

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
