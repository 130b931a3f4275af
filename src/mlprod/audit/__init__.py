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

The same chain runs over rows in a database: :func:`seal` builds a line and
:func:`verify_lines` checks any sequence of them, which is how the model
registry keeps its event history.
"""

from mlprod.audit.chain import (
    GENESIS,
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
    "AuditLog",
    "AuditVerification",
    "line_hash",
    "read_audit_log",
    "seal",
    "tail_audit_log",
    "verify_audit_log",
    "verify_lines",
]
