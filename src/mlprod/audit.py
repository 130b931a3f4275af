"""A tamper-evident, append-only audit log: hash-chained JSON lines.

Each line is one record, written as JSON with its fields in a fixed order::

    {"seq":0,"ts":1732780000.5,"prev":"000…0","record":{…},"hash":"9f2c…"}

``hash`` is the SHA-256 of the line's bytes up to (not including)
``,"hash"`` — the sequence number, timestamp, previous hash and the record's
canonical JSON (sorted keys, compact, UTF-8). ``prev`` is the hash of the line
before (64 zeros for the first). So:

* changing any byte of a line breaks that line's hash;
* deleting, inserting or reordering lines breaks ``seq`` or ``prev``;
* a torn last line (a crash mid-write) is recognisable as such: it is the
  last line and has no newline; it is reported as ``truncated_tail``, not
  as tampering.

The chain proves the log is internally consistent; it cannot stop someone
who rewrites the *whole* file from the tampered point on. Keep the latest
hash elsewhere (the registry does, in its database) to pin the head.

Several processes may append to one file: every flush takes an exclusive
``fcntl`` lock on the file, re-reads the tail if another writer moved it,
and continues the one chain. (On systems without ``fcntl`` use one log per
process.)

The same chain runs over rows in a database: :func:`seal` builds a line and
:func:`verify_lines` checks any sequence of them, which is how the model
registry keeps its event history.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json

try:  # POSIX only; elsewhere each process should keep its own log
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditVerification",
    "read_audit_log",
    "seal",
    "verify_audit_log",
    "verify_lines",
]

GENESIS = "0" * 64
"""The ``prev`` of the first record of every chain."""

_HEAD = re.compile(rb'\{"seq":(\d+),"ts":(-?[0-9.eE+-]+),"prev":"([0-9a-f]{64})","record":')
_TAIL_LEN = len(b',"hash":"') + 64 + len(b'"}')
_HASH_MARK = b',"hash":"'


def seal(record: Mapping[str, Any], *, seq: int, prev: str, ts: float | None = None) -> bytes:
    """Build one chained line (without the newline) for ``record``.

    Parameters
    ----------
    record:
        JSON-serialisable mapping (numpy and datetime values are converted).
    seq:
        The record's position in the chain, from 0.
    prev:
        The hash of the previous line, or :data:`GENESIS`.
    ts:
        Epoch seconds; now when omitted.

    Examples
    --------
    >>> from mlprod.audit import seal, verify_lines, GENESIS
    >>> line = seal({"event": "start"}, seq=0, prev=GENESIS, ts=0.0)
    >>> verify_lines([line]).ok
    True
    """
    stamp = time.time() if ts is None else ts
    body = b'{"seq":%d,"ts":%r,"prev":"%s","record":%s' % (
        seq,
        stamp,
        prev.encode("ascii"),
        canonical_json(record),
    )
    digest = hashlib.sha256(body).hexdigest()
    return body + b',"hash":"' + digest.encode("ascii") + b'"}'


def line_hash(line: bytes) -> str:
    """The ``hash`` field of a sealed line (not recomputed)."""
    return line[-66:-2].decode("ascii")


@dataclass(frozen=True)
class AuditVerification:
    """The verdict on one audit chain.

    Attributes
    ----------
    ok:
        ``True`` when every complete record verifies (a torn tail is allowed).
    records:
        How many records verified.
    first_bad:
        0-based index of the first record that failed, or ``None``.
    reason:
        ``"ok"``, ``"truncated_tail"``, ``"hash_mismatch"`` (a record's bytes
        changed), ``"broken_chain"`` (a record deleted, inserted or reordered),
        ``"sequence_gap"``, ``"malformed"`` (not a sealed record), or
        ``"missing"`` (no such file).
    head:
        The hash of the last verified record (pin it elsewhere to detect a
        rewrite of the whole tail).
    detail:
        A sentence for people.
    """

    ok: bool
    records: int
    first_bad: int | None
    reason: str
    head: str = GENESIS
    detail: str = ""

    @property
    def truncated_tail(self) -> bool:
        """``True`` when the last line was torn by a crash mid-write."""
        return self.reason == "truncated_tail"

    def to_dict(self) -> dict[str, Any]:
        """The verdict as plain data."""
        return {
            "ok": self.ok,
            "records": self.records,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "head": self.head,
            "detail": self.detail,
        }

    def __bool__(self) -> bool:
        return self.ok


def _check_line(line: bytes, index: int, prev: str) -> tuple[str, str] | tuple[None, str]:
    """Return (None, hash) when the line verifies, else (reason, detail)."""
    head = _HEAD.match(line)
    if head is None or len(line) < _TAIL_LEN or line[-_TAIL_LEN:-66] != _HASH_MARK:
        return "malformed", f"record {index} is not a sealed audit record"
    if int(head.group(1)) != index:
        return (
            "sequence_gap",
            f"record {index} carries sequence number {int(head.group(1))}: "
            "records were deleted, inserted or reordered",
        )
    if head.group(3).decode("ascii") != prev:
        after = f"the hash of record {index - 1}" if index else "the genesis hash"
        return "broken_chain", f"record {index} does not follow {after}"
    recorded = line[-66:-2].decode("ascii")
    if hashlib.sha256(line[:-_TAIL_LEN]).hexdigest() != recorded:
        return "hash_mismatch", f"record {index} was changed after it was written"
    return None, recorded


def verify_lines(lines: Iterable[bytes], *, torn_tail: bool = False) -> AuditVerification:
    """Verify a chain given as sealed lines (no newlines), in order.

    ``torn_tail=True`` says the last line may be an incomplete write; if it
    fails it is reported as ``truncated_tail`` rather than tampering.
    """
    prev = GENESIS
    count = 0
    pending: bytes | None = None
    for line in lines:
        if pending is not None:
            reason, info = _check_line(pending, count, prev)
            if reason is not None:
                return AuditVerification(False, count, count, reason, prev, info)
            prev = info
            count += 1
        pending = line
    if pending is not None:
        reason, info = _check_line(pending, count, prev)
        if reason is not None:
            if torn_tail:
                return AuditVerification(
                    True,
                    count,
                    None,
                    "truncated_tail",
                    prev,
                    f"the last line ({len(pending)} bytes) is incomplete: a write was cut "
                    "short; every complete record verifies",
                )
            return AuditVerification(False, count, count, reason, prev, info)
        prev = info
        count += 1
    return AuditVerification(True, count, None, "ok", prev, f"{count} records verify")


def _split(data: bytes) -> tuple[list[bytes], bool]:
    """Lines of a file, and whether the last one lacks its newline (torn)."""
    if not data:
        return [], False
    torn = not data.endswith(b"\n")
    lines = data.split(b"\n")
    if not torn:
        lines.pop()
    return lines, torn


def verify_audit_log(path: str | os.PathLike[str]) -> AuditVerification:
    """Verify an audit log file written by :class:`AuditLog`.

    Detects any changed byte and any deleted, inserted or reordered record;
    reports a torn last line from a crash as ``truncated_tail`` (``ok`` stays
    ``True``).

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with mp.AuditLog(path) as log:
    ...     log.append({"event": "predict", "outcome": "ok"})
    >>> mp.verify_audit_log(path).ok
    True
    """
    p = Path(path)
    if not p.exists():
        return AuditVerification(False, 0, None, "missing", GENESIS, f"no audit log at {p}")
    lines, torn = _split(p.read_bytes())
    return verify_lines(lines, torn_tail=torn)


def read_audit_log(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield each complete record of an audit log as a dict (``seq``, ``ts``, ``record``, ...).

    Does not verify: call :func:`verify_audit_log` for that. A torn last
    line is skipped.
    """
    import json

    lines, torn = _split(Path(path).read_bytes())
    if torn:
        lines.pop()
    for line in lines:
        yield json.loads(line)


def _tail_state(fd: int, size: int) -> tuple[int, str, int]:
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
        if _HEAD.match(last) is None:
            raise ValueError("the last complete line is not a sealed audit record")
        return int(_HEAD.match(last).group(1)) + 1, line_hash(last), start + last_nl + 1  # type: ignore[union-attr]
    return 0, GENESIS, 0


class AuditLog:
    """An append-only, hash-chained JSON-lines audit log (an :class:`~mlprod.protocols.AuditSink`).

    Parameters
    ----------
    path:
        The log file; created (with its folder) if missing, continued if present.
    flush_every:
        Records kept in memory before a write. ``1`` (the default) writes
        each record before :meth:`append` returns; larger values batch
        writes for throughput, and a crash then loses at most the unflushed
        records. :meth:`flush` and :meth:`close` (and the context manager)
        write the rest.
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

    def __init__(
        self, path: str | os.PathLike[str], *, flush_every: int = 1, fsync: bool = False
    ) -> None:
        if flush_every < 1:
            from mlprod.errors import ConfigurationError

            raise ConfigurationError(
                f"flush_every must be at least 1, got {flush_every}",
                parameter="flush_every",
                value=flush_every,
            )
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_every = flush_every
        self.fsync = fsync
        self._lock = threading.Lock()
        self._pending: list[tuple[float, bytes]] = []  # (ts, canonical record JSON)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._known_size = -1  # forces a tail read on first write
        self._seq = 0
        self._prev = GENESIS
        self._closed = False

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> int:
        """Add one record; return its sequence number once written, or the queue position.

        The record must be JSON-serialisable (numpy, pandas and datetime values
        are converted). Thread-safe.
        """
        body = canonical_json(record)
        stamp = time.time()
        with self._lock:
            if self._closed:
                from mlprod.errors import ConfigurationError

                raise ConfigurationError(f"audit log {self.path} is closed")
            self._pending.append((stamp, body))
            if len(self._pending) >= self.flush_every:
                return self._flush_locked() - 1
            return self._seq + len(self._pending) - 1

    def flush(self) -> None:
        """Write every pending record now."""
        with self._lock:
            if self._pending:
                self._flush_locked()

    def _sync_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == self._known_size:
            return
        seq, prev, torn_at = _tail_state(self._fd, size)
        if torn_at != size:
            # A writer crashed mid-line. Cut the fragment (it never verified)
            # and leave a record of the cut, so the chain stays whole.
            dropped = size - torn_at
            os.ftruncate(self._fd, torn_at)
            line = seal(
                {"event": "audit.truncated_tail_repaired", "dropped_bytes": dropped},
                seq=seq,
                prev=prev,
            )
            os.write(self._fd, line + b"\n")
            seq, prev = seq + 1, line_hash(line)
            size = torn_at + len(line) + 1
        self._seq, self._prev, self._known_size = seq, prev, size

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
            if self._pending:
                self._flush_locked()
            os.close(self._fd)
            self._closed = True

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: never lose a pending tail silently
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass

    @property
    def head(self) -> str:
        """Hash of the last record this writer knows of (after a flush)."""
        return self._prev

    def verify(self) -> AuditVerification:
        """Flush, then verify the whole file (see :func:`verify_audit_log`)."""
        self.flush()
        return verify_audit_log(self.path)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._pending)}"
        return f"AuditLog({str(self.path)!r}, flush_every={self.flush_every}, {state})"
