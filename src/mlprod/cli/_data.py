"""``mlprod validate`` and ``mlprod schema infer``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlprod.errors import ConfigurationError

__all__ = ["register"]

EXIT_OK, EXIT_FAILED = 0, 1


def _load_schema(path: str) -> Any:
    from mlprod.data.validation import Schema

    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(
            f"No schema file {path!r}. Create one with 'mlprod schema infer DATA > schema.yaml'.",
            parameter="--schema",
            value=path,
        )
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".json":
        return Schema.from_json(text)
    return Schema.from_yaml(text)


def _read_frame(path: str, format: str | None) -> Any:
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"No such data file {path!r}.", parameter="DATA", value=path)
    kind = format or ("parquet" if file.suffix.lower() in (".parquet", ".pq") else "csv")
    if kind == "parquet":
        return pd.read_parquet(file)
    sep = "\t" if file.suffix.lower() == ".tsv" else ","
    return pd.read_csv(file, sep=sep)


def _validate(args: argparse.Namespace) -> int:
    schema = _load_schema(args.schema)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    report = schema.validate_files(
        args.data,
        chunksize=args.chunksize,
        max_failures=args.max_failures,
        progress=progress,
        format=args.format,
    )
    if args.output == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str))
    elif args.output == "markdown":
        print(report.to_markdown(max_rows=args.show), end="")
    else:
        print(report.summary(max_rows=args.show))
    return EXIT_OK if report.ok else EXIT_FAILED


def _infer(args: argparse.Namespace) -> int:
    from mlprod.data.validation import infer_schema

    frame = _read_frame(args.data, args.format)
    schema = infer_schema(
        frame,
        ranges=not args.no_ranges,
        max_categories=args.max_categories,
        strict=not args.lenient,
        name=args.name,
    )
    text = schema.to_json() + "\n" if args.output == "json" else schema.to_yaml()
    sys.stdout.write(text)
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``validate`` and ``schema infer`` to the ``mlprod`` parser."""
    validate = sub.add_parser(
        "validate",
        help="check data files against a schema (exit 1 if anything fails)",
        description="Validate Parquet/CSV files against a schema, chunk by chunk. "
        "Prints every failing check and the first failing cells; exit 1 on failures.",
    )
    validate.add_argument("data", nargs="+", metavar="DATA", help="Parquet or CSV files")
    validate.add_argument("--schema", required=True, help="schema file (.yaml/.yml or .json)")
    validate.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default=None,
        help="file format (default: from the suffix)",
    )
    validate.add_argument(
        "--max-failures",
        type=int,
        default=10_000,
        help="failing cells to keep (counts stay exact; default 10000)",
    )
    validate.add_argument("--chunksize", type=int, default=250_000, help="rows per chunk")
    validate.add_argument("--show", type=int, default=20, help="failing cells to print")
    validate.add_argument("--output", choices=["text", "markdown", "json"], default="text")
    validate.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when it is a terminal)",
    )
    validate.set_defaults(handler=_validate)

    schema = sub.add_parser("schema", help="work with schemas", description="Work with schemas.")
    schema_sub = schema.add_subparsers(title="schema commands", metavar="COMMAND")
    infer = schema_sub.add_parser(
        "infer",
        help="propose a schema from a data file (YAML on stdout)",
        description="Propose a schema the file passes: dtypes, nullability, ranges, "
        "categories, unique keys. Edit the result before relying on it.",
    )
    infer.add_argument("data", metavar="DATA", help="a Parquet or CSV file")
    infer.add_argument("--format", choices=["parquet", "csv"], default=None)
    infer.add_argument("--output", choices=["yaml", "json"], default="yaml")
    infer.add_argument("--no-ranges", action="store_true", help="leave out observed ranges")
    infer.add_argument(
        "--max-categories",
        type=int,
        default=20,
        help="text columns with at most this many values get an isin check",
    )
    infer.add_argument(
        "--lenient",
        action="store_true",
        help="allow columns the schema does not name (strict=False)",
    )
    infer.add_argument("--name", default=None, help="the schema's name")
    infer.set_defaults(handler=_infer)

    def _schema_help(args: argparse.Namespace) -> int:
        schema.print_help(sys.stderr)
        return 2

    schema.set_defaults(handler=_schema_help)
