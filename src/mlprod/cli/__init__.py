"""The ``mlprod`` command.

May import: every layer below it (it is the top, with ``mlprod.demo``).

Exit codes: ``0`` success, ``1`` a check failed (validation, verification,
a gate; an :class:`~mlprod.IntegrityError`, :class:`~mlprod.SchemaError` or
:class:`~mlprod.GateFailed` escaping a command counts as one), ``2`` usage
error or bad input (the message says what to fix).

Each area adds its subcommands from its own module here; a module exposes
``register(subparsers)`` and its handlers return an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlprod import __version__
from mlprod.cli import _audit, _data, _datasets, _demo, _drift, _fairness, _info, _registry
from mlprod.errors import GateFailed, IntegrityError, MlprodError, SchemaError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_AREAS = (_demo, _info, _data, _datasets, _registry, _audit, _fairness, _drift)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="mlprod",
        description=(
            "Production-ML building blocks: validate data, fingerprint and version "
            "datasets, register models with lineage, verify audit logs."
        ),
        epilog="Exit codes: 0 ok, 1 a check failed, 2 usage error. "
        "Run 'mlprod COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"mlprod {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for area in _AREAS:
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlprod`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = handler(args)
    except (IntegrityError, SchemaError, GateFailed) as exc:
        # the command ran and what it checked did not hold: a failed check
        print(f"mlprod: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except MlprodError as exc:
        print(f"mlprod: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `mlprod audit tail x | head`
        return EXIT_OK
    return code
