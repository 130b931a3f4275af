"""``mlprod info``: the environment mlprod would record as lineage."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    """Add the ``info`` command."""
    p = sub.add_parser(
        "info",
        help="show Python, platform, package versions and git state",
        description="Show the environment that mlprod records as lineage with every "
        "model version and dataset commit.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the environment."""
    from mlprod._internal.environment import environment

    env = environment()
    if args.json:
        print(json.dumps(env, indent=2, sort_keys=True))
        return 0
    py = env["python"]
    plat = env["platform"]
    print(f"mlprod {env['packages'].get('mlprod', '?')}")
    print(f"python    {py['version']} ({py['implementation']}) {py['executable']}")
    print(f"platform  {plat['system']} {plat['release']} {plat['machine']}")
    git = env["git"]
    if git:
        dirty = {True: "dirty", False: "clean", None: "unknown"}[git["dirty"]]
        print(f"git       {git['commit'] or '(no commits)'} on {git['branch']} ({dirty})")
    else:
        print("git       not a repository")
    print("packages")
    for name, version in sorted(env["packages"].items()):
        print(f"  {name:<14} {version}")
    return 0
