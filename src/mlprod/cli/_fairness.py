"""``mlprod fairness``: a fairness report on a data file, exit 1 when a threshold fails."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]

EXIT_OK, EXIT_FAILED = 0, 1


def _fairness(args: argparse.Namespace) -> int:
    from mlprod.cli._data import _read_frame
    from mlprod.reports.fairness import fairness_report

    frame = _read_frame(args.data, None)
    report = fairness_report(
        args.y_true,
        args.y_pred,
        sensitive_features=[c.strip() for c in args.sensitive.split(",") if c.strip()],
        y_score=args.y_score,
        data=frame,
        n_boot=args.n_boot,
        random_state=args.seed,
        pos_label=args.pos_label,
        min_group_size=args.min_group_size,
    )
    if args.html:
        report.to_html(args.html)
    if args.json:
        print(report.to_json(indent=2))
    else:
        print(report.summary())
    if args.min_ratio is None and args.max_difference is None:
        return EXIT_OK
    verdict = report.gate(
        min_ratio=args.min_ratio,
        max_difference=args.max_difference,
        metrics=args.metrics.split(",") if args.metrics else None,
        inconclusive="pass" if args.inconclusive_passes else "fail",
    )(None, None)
    print(("passed: " if verdict.passed else "failed: ") + verdict.message, file=sys.stderr)
    return EXIT_OK if verdict.passed else EXIT_FAILED


def register(sub: Any) -> None:
    """Add ``fairness`` to the ``mlprod`` parser."""
    p = sub.add_parser(
        "fairness",
        help="fairness report of predictions in a data file (exit 1 if a threshold fails)",
        description="Per-group metrics, disparities with bootstrap intervals and verdicts "
        "for predictions stored in a Parquet/CSV file.",
    )
    p.add_argument("data", metavar="DATA", help="Parquet or CSV file")
    p.add_argument("--y-true", required=True, help="column of true labels")
    p.add_argument("--y-pred", required=True, help="column of predicted labels")
    p.add_argument("--sensitive", required=True, help="sensitive column(s), comma-separated")
    p.add_argument("--y-score", default=None, help="column of positive-class probabilities")
    p.add_argument("--pos-label", default=None, help="the positive label, if not 0/1")
    p.add_argument("--html", default=None, metavar="OUT", help="write the HTML report here")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--min-ratio", type=float, default=None, help="gate: ratio to reference")
    p.add_argument("--max-difference", type=float, default=None, help="gate: |difference|")
    p.add_argument("--metrics", default=None, help="gated metrics, comma-separated")
    p.add_argument(
        "--inconclusive-passes", action="store_true", help="let inconclusive verdicts pass"
    )
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--min-group-size", type=int, default=30, help="flag smaller groups")
    p.set_defaults(handler=_fairness)
