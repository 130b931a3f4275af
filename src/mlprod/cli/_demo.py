"""``mlprod demo``: the lifecycle of a credit model, from raw data to a traced prediction."""

from __future__ import annotations

import argparse
import webbrowser
from typing import Any


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    p = sub.add_parser(
        "demo",
        help="run the whole lifecycle on a synthetic credit data set (start here)",
        description=(
            "Generate a credit-scoring data set with an injected bias, validate and version it, "
            "train and report on two models, promote one through gates, serve it behind a guard "
            "with an audit log, check a drifted batch, and trace one prediction back to its "
            "model and data. Runs offline on a local folder and SQLite."
        ),
    )
    p.add_argument("--out", default="mlprod-demo", help="folder to write to (emptied first)")
    p.add_argument("--rows", type=int, default=5_000, help="applications to generate (>= 1000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same numbers)")
    p.add_argument("--open", action="store_true", help="open index.html in a browser at the end")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 1 if a verification at the end failed."""
    from mlprod.demo import run_demo

    result = run_demo(args.out, rows=args.rows, seed=args.seed)
    index = result.files["index"].resolve()
    print(f"\nOpen {index} first: it links every report.")
    if args.open:
        webbrowser.open(index.as_uri())
    return 0 if result.facts.get("ok") else 1
