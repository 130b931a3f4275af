"""A tamper-evident, append-only audit log: hash-chained JSON lines.

May import: the ground only (it sits beside ``mlprod.data``, which it never imports).

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

A writer opened before ``fork()`` opens its file again in the child, so
each process locks on its own. A batch that fails part-way (a full disk)
keeps the records written whole, once, and the rest pending. Non-finite
floats are written as ``{"$mlprod.float":"NaN"}`` (see
:mod:`mlprod._internal.canonical`). :meth:`AuditLog.reopen` continues the
chain in a new file after logrotate renamed the old one: the old file ends
with an ``audit.segment_end`` record, the new one starts with an
``audit.segment_start`` record on the old head, and
``verify_audit_log([older, newer])`` checks the segments as one chain.

The same chain runs over rows in a database: :func:`seal` builds a line and
:func:`verify_lines` checks any sequence of them, which is how the model
registry keeps its event history.
"""

from mlprod.audit.chain import (
    GENESIS,
    SEGMENT_END,
    SEGMENT_START,
    AuditVerification,
    line_hash,
    read_audit_log,
    seal,
    tail_audit_log,
    verify_audit_log,
    verify_lines,
)
from mlprod.audit.log import AuditLog

__all__ = [
    "GENESIS",
    "SEGMENT_END",
    "SEGMENT_START",
    "AuditLog",
    "AuditVerification",
    "line_hash",
    "read_audit_log",
    "seal",
    "tail_audit_log",
    "verify_audit_log",
    "verify_lines",
]
