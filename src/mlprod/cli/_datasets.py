"""``mlprod hash`` and ``mlprod data commit|log|diff|show|verify|gc``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from mlprod.errors import ConfigurationError

__all__ = ["register"]

EXIT_OK, EXIT_FAILED = 0, 1
_STORE_ENV = "MLPROD_DATA_STORE"


def _fingerprint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unordered", action="store_true", help="ignore row order (multiset of rows)"
    )
    parser.add_argument("--index", action="store_true", help="include the index (Parquet/Feather)")
    parser.add_argument(
        "--any-column-order", action="store_true", help="ignore the order of columns"
    )


def _read_options(args: argparse.Namespace) -> dict[str, Any] | None:
    if not getattr(args, "dtype", None):
        return None
    try:
        dtypes = json.loads(args.dtype)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f'--dtype must be a JSON object such as \'{{"id": "int64"}}\': {exc}',
            parameter="--dtype",
            value=args.dtype,
        ) from None
    return {"dtype": dtypes}


def _hash(args: argparse.Namespace) -> int:
    from mlprod.data.fingerprint import fingerprint_files

    fp = fingerprint_files(
        args.data,
        ordered=not args.unordered,
        index=args.index,
        columns_ordered=not args.any_column_order,
        format=args.format,
        read_options=_read_options(args),
        progress=args.progress,
    )
    if args.json:
        print(json.dumps(fp.to_dict(), indent=2, default=str))
    else:
        print(f"{fp}  {fp.rows} rows  {len(fp.columns)} columns  {fp.algorithm}")
    if args.expect and args.expect.lower() != fp.hex:
        print(
            f"mlprod: fingerprint {fp} does not match the expected {args.expect}", file=sys.stderr
        )
        return EXIT_FAILED
    return EXIT_OK


def _store(args: argparse.Namespace) -> Any:
    from mlprod.data.snapshots import DatasetStore

    root = args.store or os.environ.get(_STORE_ENV)
    if not root:
        raise ConfigurationError(
            f"No dataset store given: pass --store DIR_OR_URL or set {_STORE_ENV}.",
            parameter="--store",
        )
    return DatasetStore(root)


def _read_file(path: str, args: argparse.Namespace) -> Any:
    import pandas as pd

    from mlprod.data.fingerprint import iter_file_chunks

    chunks = list(
        iter_file_chunks(
            path, format=getattr(args, "format", None), read_options=_read_options(args)
        )
    )
    if not chunks:
        raise ConfigurationError(f"{path!r} holds no data.", parameter="DATA", value=path)
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def _commit(args: argparse.Namespace) -> int:
    store = _store(args)
    frame = _read_file(args.data, args)
    version = store.commit(
        frame,
        name=args.name,
        message=args.message,
        aliases=args.alias or (),
        parents=args.parent if args.parent else None,
    )
    if args.json:
        print(json.dumps(version.to_dict(), indent=2, default=str))
    else:
        print(f"{version.ref}  {version.fingerprint}  {version.rows} rows")
    return EXIT_OK


def _log(args: argparse.Namespace) -> int:
    newest_first = _store(args).versions(args.name)[::-1]
    versions = newest_first[: args.limit] if args.limit is not None else newest_first
    if args.json:
        print(json.dumps([v.to_dict() for v in versions], indent=2, default=str))
        return EXIT_OK
    for v in versions:
        tags = f" [{', '.join(v.aliases)}]" if v.aliases else ""
        when = v.created_at.isoformat(timespec="seconds")
        print(
            f"{v.ref:<20} {v.fingerprint.hex[:12]}  {v.rows:>10,} rows  {when}{tags}  {v.message}"
        )
    return EXIT_OK


def _side(text: str, store: Any, args: argparse.Namespace) -> Any:
    if os.path.exists(text):
        return _read_file(text, args)
    if store is None:
        raise ConfigurationError(
            f"{text!r} is not a file, and no store was given to look up 'name:version' in: "
            f"pass --store or set {_STORE_ENV}.",
            parameter="A/B",
            value=text,
        )
    return store.get(text)


def _diff(args: argparse.Namespace) -> int:
    from mlprod.data.snapshots import DatasetDiff

    store = _store(args) if (args.store or os.environ.get(_STORE_ENV)) else None
    left, right = _side(args.a, store, args), _side(args.b, store, args)
    key = [k for k in args.key.split(",") if k] if args.key else None
    if store is not None:
        diff = store.diff(left, right, key=key)
    else:
        diff = DatasetDiff.compute(left, right, key=key, labels=(args.a, args.b))
    if args.json:
        print(json.dumps(diff.to_dict(max_rows=args.show), indent=2, default=str))
    elif args.markdown:
        print(diff.to_markdown(max_rows=args.show), end="")
    else:
        print(diff.summary(max_rows=args.show))
    return EXIT_FAILED if args.exit_code and not diff.identical else EXIT_OK


def _show(args: argparse.Namespace) -> int:
    store = _store(args)
    version = store.get(args.ref)
    if args.json:
        print(json.dumps(version.to_dict(), indent=2, default=str))
    else:
        print(f"{version.ref}")
        print(f"  fingerprint: {version.fingerprint}  ({version.fingerprint.algorithm})")
        print(f"  rows: {version.rows:,}")
        print(f"  created: {version.created_at.isoformat(timespec='seconds')}")
        print(f"  message: {version.message}")
        print(f"  parents: {', '.join(version.parents) or '-'}")
        print(f"  aliases: {', '.join(version.aliases) or '-'}")
        print("  schema:")
        for column, dtype in version.schema:
            print(f"    {column}: {dtype}")
    if args.head:
        print(store.load(version).head(args.head).to_string())
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``hash`` and ``data commit|log|diff|show`` to the ``mlprod`` parser."""
    store_help = f"store root: a directory or fsspec URL (default: ${_STORE_ENV})"
    hash_p = sub.add_parser(
        "hash",
        help="fingerprint data files",
        description="Print the content fingerprint of DATA (several files: their concatenation).",
    )
    hash_p.add_argument(
        "data", nargs="+", metavar="DATA", help="Parquet, CSV/TSV, JSON lines or Feather files"
    )
    _fingerprint_options(hash_p)
    hash_p.add_argument("--format", choices=["parquet", "csv", "tsv", "jsonl", "feather"])
    hash_p.add_argument("--dtype", help='CSV/JSON column dtypes as JSON, e.g. \'{"id": "int64"}\'')
    hash_p.add_argument("--expect", metavar="HEX", help="exit 1 unless the fingerprint equals HEX")
    hash_p.add_argument(
        "--json", action="store_true", help="print the fingerprint and its facts as JSON"
    )
    hash_p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    hash_p.set_defaults(handler=_hash)

    data_p = sub.add_parser(
        "data",
        help="versioned dataset snapshots",
        description="Commit, list, compare and show dataset versions.",
    )
    data_sub = data_p.add_subparsers(title="data commands", metavar="COMMAND")
    data_p.set_defaults(handler=lambda args: (data_p.print_help(sys.stderr), 2)[1])

    commit_p = data_sub.add_parser("commit", help="store a data file as the next version of NAME")
    commit_p.add_argument("data", metavar="DATA")
    commit_p.add_argument("--name", required=True)
    commit_p.add_argument("-m", "--message", default="")
    commit_p.add_argument(
        "--alias",
        "--tag",
        dest="alias",
        action="append",
        help="point an alias at the new version (repeatable; --tag is the old spelling)",
    )
    commit_p.add_argument("--parent", action="append", help="parent 'name:version' (repeatable)")
    commit_p.add_argument("--format", choices=["parquet", "csv", "tsv", "jsonl", "feather"])
    commit_p.add_argument("--dtype", help="CSV/JSON column dtypes as JSON")
    commit_p.add_argument("--store", help=store_help)
    commit_p.add_argument("--json", action="store_true")
    commit_p.set_defaults(handler=_commit)

    log_p = data_sub.add_parser("log", help="list the versions of NAME, newest first")
    log_p.add_argument("name", metavar="NAME")
    log_p.add_argument("--limit", type=int)
    log_p.add_argument("--store", help=store_help)
    log_p.add_argument("--json", action="store_true")
    log_p.set_defaults(handler=_log)

    diff_p = data_sub.add_parser("diff", help="compare two versions (name:version) or files")
    diff_p.add_argument("a", metavar="A", help="name, name:version, name@alias, or a data file")
    diff_p.add_argument("b", metavar="B")
    diff_p.add_argument("--key", help="key column(s), comma-separated")
    diff_p.add_argument("--show", type=int, default=10, help="example rows to show per section")
    diff_p.add_argument("--exit-code", action="store_true", help="exit 1 when the two differ")
    diff_p.add_argument("--format", choices=["parquet", "csv", "tsv", "jsonl", "feather"])
    diff_p.add_argument("--dtype", help="CSV/JSON column dtypes as JSON")
    diff_p.add_argument("--store", help=store_help)
    out = diff_p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true")
    diff_p.set_defaults(handler=_diff)

    show_p = data_sub.add_parser("show", help="show one version's metadata (and rows with --head)")
    show_p.add_argument("ref", metavar="NAME[:VERSION|@ALIAS]")
    show_p.add_argument("--head", type=int, default=0, help="also print the first N rows")
    show_p.add_argument("--store", help=store_help)
    show_p.add_argument("--json", action="store_true")
    show_p.set_defaults(handler=_show)
    _register_upkeep(data_sub, store_help)


def _verify(args: argparse.Namespace) -> int:
    result = _store(args).verify()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result.summary())
    return EXIT_OK if result.ok else EXIT_FAILED


def _gc(args: argparse.Namespace) -> int:
    report = _store(args).gc(grace=args.grace, dry_run=not args.apply)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.summary())
    return EXIT_OK


def _register_upkeep(data_sub: Any, store_help: str) -> None:
    verify_p = data_sub.add_parser(
        "verify", help="check every version's data: present, unmodified, as committed"
    )
    verify_p.add_argument("--store", help=store_help)
    verify_p.add_argument("--json", action="store_true")
    verify_p.set_defaults(handler=_verify)

    gc_p = data_sub.add_parser(
        "gc",
        help="remove data no version references (dry run unless --apply)",
        description="List (or with --apply remove) stored objects no version references and "
        "temporary files of stopped writes, older than the grace period.",
    )
    gc_p.add_argument("--apply", action="store_true", help="remove them (default: only list)")
    gc_p.add_argument(
        "--grace",
        type=float,
        default=86_400.0,
        help="minimum age in seconds of a file to remove (default: 86400, a day)",
    )
    gc_p.add_argument("--store", help=store_help)
    gc_p.add_argument("--json", action="store_true")
    gc_p.set_defaults(handler=_gc)
