"""``mlprod profile`` and ``mlprod drift``: reference profiles and drift checks from files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlprod.errors import ConfigurationError

__all__ = ["register"]

EXIT_OK, EXIT_FAILED = 0, 1


def register(sub: Any) -> None:
    """Add the ``profile`` and ``drift`` commands."""
    p = sub.add_parser(
        "profile",
        help="profile data files into a mergeable JSON reference",
        description="Profile Parquet/CSV files chunk by chunk and print the profile as JSON "
        "(kilobytes per column): mlprod profile train.parquet > ref.json",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="Parquet or CSV files")
    p.add_argument("--bins", type=int, default=1024, help="sketch size per numeric column")
    p.add_argument(
        "--max-categories", type=int, default=100, help="values counted per category column"
    )
    p.add_argument("--chunk-rows", type=int, default=200_000, help="rows in memory at once")
    p.add_argument("--format", choices=["parquet", "csv"], default=None)
    p.set_defaults(handler=_profile)

    d = sub.add_parser(
        "drift",
        help="check data files against a reference profile (exit 1 on drift)",
        description="Compare data files with a profile written by 'mlprod profile'. "
        "Exit code 1 when the dataset drifted, 0 otherwise.",
    )
    d.add_argument("reference", metavar="REF.json", help="reference profile")
    d.add_argument("data", nargs="+", metavar="DATA", help="Parquet or CSV files")
    d.add_argument("--html", metavar="OUT", help="also write the HTML report here")
    d.add_argument("--json", action="store_true", help="print the report as JSON")
    d.add_argument(
        "--method", default="auto", help="auto, ks, chisquare, wasserstein, jensenshannon, psi"
    )
    d.add_argument("--threshold", type=float, default=None)
    d.add_argument(
        "--share", type=float, default=0.5, help="share of drifted columns for dataset drift"
    )
    d.add_argument("--chunk-rows", type=int, default=200_000)
    d.add_argument("--format", choices=["parquet", "csv"], default=None)
    d.set_defaults(handler=_drift)


def _profile(args: argparse.Namespace) -> int:
    from mlprod.data.drift import profile_files

    prof = profile_files(
        args.data,
        bins=args.bins,
        max_categories=args.max_categories,
        chunk_rows=args.chunk_rows,
        format=args.format,
    )
    sys.stdout.write(prof.to_json() + "\n")
    return EXIT_OK


def _drift(args: argparse.Namespace) -> int:
    from mlprod.data.drift import Profile, drift, profile_files

    ref_file = Path(args.reference)
    if not ref_file.is_file():
        raise ConfigurationError(
            f"No reference profile {args.reference!r}. "
            "Make one with 'mlprod profile DATA > ref.json'.",
            parameter="REF.json",
            value=args.reference,
        )
    ref = Profile.from_json(ref_file.read_text(encoding="utf-8"))
    cur = profile_files(
        args.data,
        bins=ref.bins,
        max_categories=ref.max_categories,
        chunk_rows=args.chunk_rows,
        format=args.format,
    )
    report = drift(ref, cur, method=args.method, threshold=args.threshold, drift_share=args.share)
    if args.html:
        report.to_html(args.html)
    print(report.to_json() if args.json else report.summary())
    return EXIT_FAILED if report.drifted else EXIT_OK
