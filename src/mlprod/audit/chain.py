"""The chain format: sealing a record into a line, and verifying lines and files.

See :mod:`mlprod.audit` for the format and what it proves.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json, loads_canonical
from mlprod._internal.render import Document, Rendered, Section

__all__ = [
    "GENESIS",
    "SEGMENT_END",
    "SEGMENT_START",
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

SEGMENT_START = "audit.segment_start"
"""The event of the first record of a file that continues a rotated log's chain."""
SEGMENT_END = "audit.segment_end"
"""The event of the last record a writer puts in a file before it moves to the next one."""

_SEGMENT_START_BODY = b'{"event":"audit.segment_start","previous_head":"%s"}'


def seal(record: Mapping[str, Any], *, seq: int, prev: str, ts: float | None = None) -> bytes:
    """Build one chained line (without the newline) for ``record``.

    Parameters
    ----------
    record:
        JSON-serialisable mapping (numpy and datetime values are converted;
        NaN and infinity are written as tagged objects, see
        :mod:`mlprod._internal.canonical`).
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
        canonical_json(record, allow_nonfinite=True),
    )
    digest = hashlib.sha256(body).hexdigest()
    return body + b',"hash":"' + digest.encode("ascii") + b'"}'


def line_hash(line: bytes) -> str:
    """The ``hash`` field of a sealed line (read, not recomputed; :func:`verify_lines` checks)."""
    return line[-66:-2].decode("ascii")


@dataclass(frozen=True)
class AuditVerification(Rendered):
    """The verdict on one audit chain (one file, or the rotated segments of one log).

    Attributes
    ----------
    ok:
        ``True`` when every complete record verifies (a torn tail is allowed).
    records:
        How many records verified.
    first_bad:
        Position in the chain (the sequence number expected there, 0-based)
        of the first record that failed, or ``None``.
    reason:
        ``"ok"``, ``"truncated_tail"``, ``"hash_mismatch"`` (a record's bytes
        changed), ``"broken_chain"`` (a record or a segment deleted, inserted
        or reordered), ``"sequence_gap"``, ``"duplicate"`` (a sequence number
        seen before: a record written twice), ``"malformed"`` (not a sealed
        record), ``"head_missing"`` (a pinned head is not in the chain:
        records were removed from the end), or ``"missing"`` (no such file).
    head:
        The hash of the last verified record (pin it elsewhere to detect a
        rewrite of the whole tail).
    detail:
        A sentence for people.
    first_seq:
        Sequence number of the first record: ``0`` when the chain starts at
        its genesis, more when the first file given continues a rotated log
        whose earlier segments were not given (deleted by logrotate, say).
    segments:
        How many files were verified as one chain.

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
    >>> print(v.summary().splitlines()[0])
    Audit log verification: passed
    """

    __module__ = "mlprod"

    ok: bool
    records: int
    first_bad: int | None
    reason: str
    head: str = GENESIS
    detail: str = ""
    first_seq: int = 0
    segments: int = 1

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
            "first_seq": self.first_seq,
            "segments": self.segments,
        }

    def _document(self, **options: Any) -> Document:
        facts: dict[str, Any] = {"reason": self.reason, "records": self.records}
        if self.first_bad is not None:
            facts["first bad record"] = self.first_bad
        if self.first_seq:
            facts["first sequence number"] = self.first_seq
        if self.segments != 1:
            facts["segments"] = self.segments
        facts["head"] = self.head
        level = "ok" if self.reason == "ok" else ("warn" if self.ok else "bad")
        return Document(
            "Audit log verification",
            ok=self.ok,
            facts=facts,
            sections=(Section("Verdict", text=self.detail, level=level),),
        )

    def __bool__(self) -> bool:
        return self.ok


def _check_line(line: bytes, index: int, prev: str) -> tuple[str, str] | tuple[None, str]:
    """Return (None, hash) when the line verifies, else (reason, detail)."""
    head = _HEAD.match(line)
    if head is None or len(line) < _TAIL_LEN or line[-_TAIL_LEN:-66] != _HASH_MARK:
        return "malformed", f"record {index} is not a sealed audit record"
    seq = int(head.group(1))
    if seq < index:
        return (
            "duplicate",
            f"record {index} carries sequence number {seq}, which an earlier record "
            "already has: a record was written twice or copied",
        )
    if seq != index:
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


class _Chain:
    """Where a verification stands: reused across the files of a rotated log."""

    __slots__ = ("count", "first_seq", "pinned_head", "pinned_seen", "prev", "seq")

    def __init__(self, pinned_head: str | None) -> None:
        self.seq = 0
        self.first_seq = 0
        self.count = 0
        self.prev = GENESIS
        self.pinned_head = pinned_head
        self.pinned_seen = pinned_head is None

    def fail(self, reason: str, detail: str, segments: int) -> AuditVerification:
        return AuditVerification(
            False, self.count, self.seq, reason, self.prev, detail, self.first_seq, segments
        )

    def start_from(self, line: bytes) -> None:
        """Accept a first line that continues a rotated log (a segment start) as the start."""
        head = _HEAD.match(line)
        if head is None or head.group(1) == b"0":
            return
        body = _SEGMENT_START_BODY % head.group(3)
        if line[head.end() : head.end() + len(body) + len(_HASH_MARK)] == body + _HASH_MARK:
            self.seq = self.first_seq = int(head.group(1))
            self.prev = head.group(3).decode("ascii")

    def run(
        self, lines: Iterable[bytes], torn_tail: bool, segments: int, last_file: bool
    ) -> tuple[str, str] | AuditVerification:
        """Verify ``lines`` onwards; a failed verdict, or the (reason, detail) so far."""
        verdict, detail = "ok", ""
        seq, prev, count = self.seq, self.prev, self.count
        pinned, pinned_seen = self.pinned_head, self.pinned_seen
        reason: str | None
        try:
            for line, last in _with_last(lines):
                fragment = last and torn_tail
                if fragment:
                    reason, info = _classify_fragment(line, seq, prev)
                    if reason == "torn" and not last_file:
                        self.seq, self.prev, self.count = seq, prev, count
                        return self.fail(
                            "malformed",
                            "a segment that is not the last one ends with an incomplete "
                            f"line where record {seq} should be",
                            segments,
                        )
                else:
                    reason, info = _check_line(line, seq, prev)
                if reason is None or reason == "record":
                    prev = info
                    seq += 1
                    count += 1
                    if not pinned_seen and info == pinned:
                        pinned_seen = True
                    if fragment:
                        verdict = "truncated_tail"
                        detail = (
                            "the last record is complete but its newline is missing; all "
                            f"{count} records verify"
                        )
                elif reason == "torn":
                    verdict = "truncated_tail"
                    detail = (
                        f"the last line ({len(line)} bytes) is an incomplete write cut short "
                        f"by a crash; all {count} complete records verify"
                    )
                else:
                    self.seq, self.prev, self.count = seq, prev, count
                    return self.fail(reason, info, segments)
        finally:
            self.seq, self.prev, self.count, self.pinned_seen = seq, prev, count, pinned_seen
        return verdict, detail

    def verdict(self, reason: str, detail: str, segments: int) -> AuditVerification:
        if not self.pinned_seen:
            return self.fail(
                "head_missing",
                f"no record carries the pinned head {self.pinned_head}: records were removed "
                "from the end of the log, or its tail was rewritten",
                segments,
            )
        if not detail:
            where = f" (from sequence number {self.first_seq})" if self.first_seq else ""
            files = f" across {segments} files" if segments != 1 else ""
            detail = f"{self.count} records verify{where}{files}"
        return AuditVerification(
            True, self.count, None, reason, self.prev, detail, self.first_seq, segments
        )


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
    >>> verify_lines([first, first]).reason
    'duplicate'
    >>> verify_lines([first, second[:20]], torn_tail=True).reason
    'truncated_tail'
    """
    chain = _Chain(pinned_head)
    out = chain.run(lines, torn_tail, 1, True)
    if isinstance(out, AuditVerification):
        return out
    return chain.verdict(*out, 1)


def _with_last(lines: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each line with whether it is the last, reading one ahead (``lines`` may be a stream)."""
    it = iter(lines)
    pending = next(it, None)
    while pending is not None:
        following = next(it, None)
        yield pending, following is None
        pending = following


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
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    pinned_head: str | None = None,
) -> AuditVerification:
    """Verify an audit log file written by :class:`AuditLog`, or its rotated segments.

    Detects any changed byte and any deleted, inserted, duplicated or
    reordered record; reports a torn last line from a crash as
    ``truncated_tail`` (``ok`` stays ``True``). Records removed from the
    *end* leave a shorter chain that is still consistent: pass
    ``pinned_head`` (a hash you kept elsewhere) to catch that too.

    A log rotated with :meth:`AuditLog.reopen` is one chain over several
    files: pass them oldest first (``["audit.jsonl.2", "audit.jsonl.1",
    "audit.jsonl"]``) and a segment deleted, repeated or out of order fails
    as ``broken_chain``. The first file may continue a chain whose older
    segments were deleted; :attr:`AuditVerification.first_seq` then says
    where it starts (``0`` means from the genesis).

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
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    segments = len(paths)
    chain = _Chain(pinned_head)
    if not paths:
        return chain.fail("missing", "no audit log files were given", 0)
    reason, detail = "ok", ""
    for i, p in enumerate(paths):
        if not p.is_file():
            what = "a directory, not an audit log" if p.is_dir() else "no audit log"
            return chain.fail("missing", f"{what} at {p}", segments)
        lines, torn = _stream(p)
        if i == 0:
            first = next(lines, None)
            if first is not None:
                chain.start_from(first)
                lines = itertools.chain((first,), lines)
        elif reason == "truncated_tail":
            return chain.fail(
                "malformed", f"segment {i - 1} ends with a torn line, yet {p} follows it", segments
            )
        out = chain.run(lines, torn, segments, i == segments - 1)
        if isinstance(out, AuditVerification):
            return out
        reason, detail = out
    return chain.verdict(reason, detail, segments)


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
    for line, last in _with_last(lines):
        if not (last and torn):
            yield loads_canonical(line)


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
                return [loads_canonical(line) for line in lines[-n:]]
            block *= 4


# Reported, documented and pickled under the public path.
verify_audit_log.__module__ = "mlprod"
read_audit_log.__module__ = "mlprod"
