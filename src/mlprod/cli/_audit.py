"""``mlprod audit verify|tail``: check and read hash-chained audit logs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from mlprod.errors import ConfigurationError, NotFound


def register(sub: Any) -> None:
    """Add the ``audit`` command and its ``verify`` and ``tail`` subcommands."""
    p = sub.add_parser(
        "audit",
        help="verify or read a hash-chained audit log",
        description="Verify or read an audit log written by mlprod.AuditLog (a guard's "
        "per-call records, registry events).",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION")

    v = actions.add_parser(
        "verify",
        help="check every record's hash and the chain between them",
        description="Check every record of an audit log. Exit 0 when the chain verifies (a "
        "last line torn by a crash is reported, not failed), 1 when a record was changed, "
        "deleted, inserted, duplicated or reordered, 2 when the file is missing. Give the "
        "segments of a rotated log oldest first to check them as one chain.",
    )
    v.add_argument(
        "path",
        nargs="+",
        help="the audit log (JSON lines); several files: the segments of a rotated log, "
        "oldest first (e.g. audit.jsonl.2 audit.jsonl.1 audit.jsonl)",
    )
    v.add_argument(
        "--pinned-head",
        metavar="HASH",
        help="a record hash kept elsewhere; fail if the chain no longer contains it "
        "(records removed from the end)",
    )
    v.add_argument("--json", action="store_true", help="print the verdict as JSON")
    v.set_defaults(handler=run_verify)

    t = actions.add_parser(
        "tail",
        help="show the last records",
        description="Show the last complete records of an audit log, newest last. Does not "
        "verify: run 'mlprod audit verify' for that.",
    )
    t.add_argument("path", help="the audit log (JSON lines)")
    t.add_argument("-n", "--lines", type=int, default=10, help="how many records (default 10)")
    t.add_argument("--json", action="store_true", help="print each record as one JSON line")
    t.set_defaults(handler=run_tail)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.is_file():
        candidates = [str(c) for c in p.parent.glob("*.jsonl")] if p.parent.is_dir() else []
        raise NotFound(
            "audit log",
            path,
            candidates=candidates,
            hint="Pass the path of a file written by mlprod.AuditLog.",
        )
    return p


def run_verify(args: argparse.Namespace) -> int:
    """Verify the log; 0 when it verifies, 1 when it does not."""
    from mlprod.audit import verify_audit_log

    paths = [_existing(p) for p in args.path]
    verdict = verify_audit_log(paths[0] if len(paths) == 1 else paths, pinned_head=args.pinned_head)
    if args.json:
        print(json.dumps(verdict.to_dict(), sort_keys=True))
    else:
        word = "OK" if verdict.ok else "FAILED"
        shown = paths[0] if len(paths) == 1 else f"{paths[0]} … {paths[-1]}"
        print(f"{word}: {shown}: {verdict.detail}")
        print(f"reason     {verdict.reason}")
        if verdict.first_bad is not None:
            print(f"first bad  record {verdict.first_bad} (0-based)")
        print(f"head       {verdict.head}")
    return 0 if verdict.ok else 1


def _line(entry: dict[str, Any]) -> str:
    record = entry.get("record", {})
    when = dt.datetime.fromtimestamp(float(entry.get("ts", 0)), tz=dt.UTC)
    event = record.get("event", "-") if isinstance(record, dict) else "-"
    rest = {k: v for k, v in record.items() if k != "event"} if isinstance(record, dict) else {}
    shown = json.dumps(rest, sort_keys=True, separators=(",", ":"))
    if len(shown) > 160:
        shown = shown[:157] + "..."
    return f"{entry.get('seq', '?'):>6}  {when:%Y-%m-%d %H:%M:%S.%f}Z  {event:<24} {shown}"


def run_tail(args: argparse.Namespace) -> int:
    """Print the last records."""
    from mlprod.audit import tail_audit_log

    if args.lines < 0:
        raise ConfigurationError(
            f"-n must be 0 or more records, got {args.lines}",
            parameter="lines",
            value=args.lines,
        )
    path = _existing(args.path)
    try:
        entries = tail_audit_log(path, args.lines)
        odd = [type(e).__name__ for e in entries if not isinstance(e, dict)]
        problem = f"a line holds a JSON {odd[0]}, not a record" if odd else ""
    except json.JSONDecodeError as exc:
        problem = str(exc)
    if problem:
        raise ConfigurationError(
            f"{path} is not a JSON-lines audit log ({problem}); run 'mlprod audit verify' on it",
            parameter="path",
            value=str(path),
        )
    for entry in entries:
        print(json.dumps(entry, sort_keys=True) if args.json else _line(entry))
    return 0
