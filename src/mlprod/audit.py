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
  last line, has no newline, and is the *beginning* of the next record
  (right sequence number, right ``prev``); it is reported as
  ``truncated_tail``, not as tampering. Anything else without a newline at
  the end (a whole record followed by stray bytes, a wrong sequence number)
  is tampering. The next writer cuts the fragment and records the cut.

The chain proves the log is internally consistent; it cannot stop someone
who deletes records from the end, or rewrites the file from the tampered
point on. Keep the latest hash elsewhere (the registry does, in its
database) and pass it as ``pinned_head`` to catch that.

Several processes may append to one file and keep **one** chain (the choice
made here, rather than a segment per process): every flush takes an
exclusive ``fcntl.flock`` on the file, re-reads the tail if another writer
moved it, and continues the chain; the lock is held for one ``write`` of a
batch, so writers wait microseconds. (On systems without ``fcntl`` use one
log per process.)

The same chain runs over rows in a database: :func:`seal` builds a line and
:func:`verify_lines` checks any sequence of them, which is how the model
registry keeps its event history.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json
from mlprod.errors import ConfigurationError, IntegrityError

try:  # POSIX only; elsewhere each process should keep its own log
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditVerification",
    "line_hash",
    "read_audit_log",
    "seal",
    "tail_audit_log",
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
    """The ``hash`` field of a sealed line (read, not recomputed; :func:`verify_lines` checks)."""
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
        ``"sequence_gap"``, ``"malformed"`` (not a sealed record),
        ``"head_missing"`` (a pinned head is not in the chain: records were
        removed from the end), or ``"missing"`` (no such file).
    head:
        The hash of the last verified record (pin it elsewhere to detect a
        rewrite of the whole tail).
    detail:
        A sentence for people.

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with mp.AuditLog(path) as log:
    ...     log.append({"event": "deploy"})
    0
    >>> with open(path, "ab") as f:
    ...     _ = f.write(b'{"seq":1,"ts":17')  # a crash mid-write
    >>> v = mp.verify_audit_log(path)
    >>> v.ok, v.records, v.reason
    (True, 1, 'truncated_tail')
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
    recorded = line[-66:-2]
    # Compared as bytes: a tampered hash field may not even be ASCII.
    if (
        hashlib.sha256(line[:-_TAIL_LEN]).hexdigest().encode("ascii") != recorded
        or line[-2:] != b'"}'
    ):
        return "hash_mismatch", f"record {index} was changed after it was written"
    return None, recorded.decode("ascii")


_TS = re.compile(rb"[0-9.eE+-]*")


def _classify_fragment(frag: bytes, index: int, prev: str) -> tuple[str, str]:
    """Judge a last line that has no newline.

    Returns ``("record", hash)`` when it is a whole sealed record missing only
    its newline, ``("torn", "")`` when it can be the beginning of record
    ``index`` cut short by a crash, and ``(reason, detail)`` otherwise: a
    writer only ever leaves a *prefix* of the next record, so anything else
    was put there by hand.
    """
    reason, info = _check_line(frag, index, prev)
    if reason is None:
        return "record", info
    tampered = (
        "malformed",
        f"the last line is neither a complete record nor the beginning of record {index}",
    )
    expected = b'{"seq":%d,"ts":' % index
    if len(frag) <= len(expected):
        return ("torn", "") if expected.startswith(frag) else tampered
    if not frag.startswith(expected):
        return tampered
    ts_end = _TS.match(frag, len(expected)).end()  # type: ignore[union-attr]
    link = b',"prev":"%s","record":' % prev.encode("ascii")
    rest = frag[ts_end:]
    if len(rest) <= len(link):
        return ("torn", "") if link.startswith(rest) else tampered
    if not rest.startswith(link):
        return tampered
    pos = frag.find(_HASH_MARK)
    while pos != -1:
        end = pos + _TAIL_LEN
        if end < len(frag) and _check_line(frag[:end], index, prev)[0] is None:
            return "malformed", f"record {index} is followed by {len(frag) - end} stray byte(s)"
        pos = frag.find(_HASH_MARK, pos + 1)
    return "torn", ""


def verify_lines(
    lines: Iterable[bytes], *, torn_tail: bool = False, pinned_head: str | None = None
) -> AuditVerification:
    """Verify a chain given as sealed lines (no newlines), in order.

    ``torn_tail=True`` says the last line lacks its newline (the file did not
    end with one): if it is the beginning of the next record cut short by a
    crash it is reported as ``truncated_tail`` (``ok`` stays ``True``); if it
    is a whole record missing only the newline it counts, and the reason is
    still ``truncated_tail``; anything else there is tampering.

    ``pinned_head`` is a hash kept elsewhere (e.g. the :attr:`AuditLog.head`
    of an earlier day): if no record carries it, records were removed from
    the end or the tail rewritten, and the reason is ``"head_missing"``.

    Examples
    --------
    >>> from mlprod.audit import seal, line_hash, verify_lines, GENESIS
    >>> first = seal({"n": 1}, seq=0, prev=GENESIS, ts=0.0)
    >>> second = seal({"n": 2}, seq=1, prev=line_hash(first), ts=1.0)
    >>> verify_lines([second, first]).reason
    'sequence_gap'
    >>> verify_lines([first, second[:20]], torn_tail=True).reason
    'truncated_tail'
    """
    prev = GENESIS
    count = 0
    pinned_seen = pinned_head is None
    pending: bytes | None = None
    for line in lines:
        if pending is not None:
            reason, info = _check_line(pending, count, prev)
            if reason is not None:
                return AuditVerification(False, count, count, reason, prev, info)
            prev = info
            count += 1
            if not pinned_seen and info == pinned_head:
                pinned_seen = True
        pending = line
    verdict = "ok"
    detail = ""
    if pending is not None:
        if torn_tail:
            kind, info = _classify_fragment(pending, count, prev)
            if kind == "torn":
                verdict = "truncated_tail"
                detail = (
                    f"the last line ({len(pending)} bytes) is an incomplete write cut short by "
                    f"a crash; all {count} complete records verify"
                )
            elif kind == "record":
                prev = info
                count += 1
                verdict = "truncated_tail"
                detail = (
                    f"the last record is complete but its newline is missing; all {count} "
                    "records verify"
                )
            else:
                return AuditVerification(False, count, count, kind, prev, info)
        else:
            reason, info = _check_line(pending, count, prev)
            if reason is not None:
                return AuditVerification(False, count, count, reason, prev, info)
            prev = info
            count += 1
        if not pinned_seen and prev == pinned_head:
            pinned_seen = True
    if not pinned_seen:
        return AuditVerification(
            False,
            count,
            count,
            "head_missing",
            prev,
            f"no record carries the pinned head {pinned_head}: records were removed from "
            "the end of the log, or its tail was rewritten",
        )
    return AuditVerification(True, count, None, verdict, prev, detail or f"{count} records verify")


_CHUNK = 1 << 22


def _stream(path: Path) -> tuple[Iterator[bytes], bool]:
    """The lines of a log as it is now, read in chunks; and whether the last one is torn.

    Only the bytes present when called are read, so a writer appending
    meanwhile cannot make a complete log look torn (or a torn one complete),
    and memory stays bounded however large the log grows.
    """
    size = path.stat().st_size
    if size == 0:
        return iter(()), False
    with open(path, "rb") as f:
        f.seek(size - 1)
        torn = f.read(1) != b"\n"

    def lines() -> Iterator[bytes]:
        with open(path, "rb") as f:
            left = size
            rest = b""
            while left > 0:
                chunk = f.read(min(_CHUNK, left))
                if not chunk:  # the file shrank under us; what was read is all there is
                    break
                left -= len(chunk)
                parts = (rest + chunk).split(b"\n")
                rest = parts.pop()
                yield from parts
            if rest:
                yield rest

    return lines(), torn


def verify_audit_log(
    path: str | os.PathLike[str], *, pinned_head: str | None = None
) -> AuditVerification:
    """Verify an audit log file written by :class:`AuditLog`.

    Detects any changed byte and any deleted, inserted or reordered record;
    reports a torn last line from a crash as ``truncated_tail`` (``ok`` stays
    ``True``). Records removed from the *end* leave a shorter chain that is
    still consistent: pass ``pinned_head`` (a hash you kept elsewhere) to
    catch that too.

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with mp.AuditLog(path) as log:
    ...     log.append({"event": "predict", "outcome": "ok"})
    0
    >>> mp.verify_audit_log(path).ok
    True
    """
    p = Path(path)
    if not p.exists():
        return AuditVerification(False, 0, None, "missing", GENESIS, f"no audit log at {p}")
    lines, torn = _stream(p)
    return verify_lines(lines, torn_tail=torn, pinned_head=pinned_head)


def read_audit_log(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield each complete record of an audit log as a dict (``seq``, ``ts``, ``record``, ...).

    Does not verify: call :func:`verify_audit_log` for that. A torn last
    line is skipped.

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with mp.AuditLog(path) as log:
    ...     log.append({"event": "deploy"})
    0
    >>> [r["seq"] for r in mp.read_audit_log(path)]
    [0]
    """
    lines, torn = _stream(Path(path))
    pending: bytes | None = None
    for line in lines:
        if pending is not None:
            yield json.loads(pending)
        pending = line
    if pending is not None and not torn:
        yield json.loads(pending)


def tail_audit_log(path: str | os.PathLike[str], n: int = 10) -> list[dict[str, Any]]:
    """The last ``n`` complete records of an audit log, read from the end of the file.

    Examples
    --------
    >>> import mlprod as mp, tempfile, os
    >>> from mlprod.audit import tail_audit_log
    >>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with mp.AuditLog(path) as log:
    ...     for i in range(5):
    ...         _ = log.append({"i": i})
    >>> [r["record"]["i"] for r in tail_audit_log(path, 2)]
    [3, 4]
    """
    if n <= 0:
        return []
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        block = 8192
        while True:
            start = max(0, size - block)
            f.seek(start)
            data = f.read(size - start)
            if not data.endswith(b"\n"):
                data = data[: data.rfind(b"\n") + 1]  # drop a torn fragment
            lines = data.split(b"\n")[:-1]
            if start > 0:
                lines = lines[1:]  # the first may be cut
            if len(lines) >= n or start == 0:
                return [json.loads(line) for line in lines[-n:]]
            block *= 4


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
