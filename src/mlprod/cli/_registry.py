"""``mlprod registry``: list, show, trace, promote and verify registered models."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from mlprod.errors import ConfigurationError, GateFailed, IntegrityError


def register(sub: Any) -> None:
    """Add ``registry ls|show|lineage|aliases|promote|verify|head|gc``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-r",
        "--registry",
        default=os.environ.get("MLPROD_REGISTRY", "registry"),
        help="registry folder or SQLAlchemy URL (default: $MLPROD_REGISTRY or ./registry)",
    )
    common.add_argument(
        "--artifacts",
        default=os.environ.get("MLPROD_ARTIFACTS"),
        help="artifact folder or fsspec URL (needed with a SQL URL; default: $MLPROD_ARTIFACTS)",
    )
    common.add_argument("--json", action="store_true", help="print JSON")
    reg = sub.add_parser(
        "registry",
        help="inspect and promote registered models",
        description="Inspect the model registry, move aliases through gates, verify integrity.",
    )
    cmds = reg.add_subparsers(title="registry commands", metavar="COMMAND")

    def usage(_args: argparse.Namespace) -> int:
        reg.print_help(sys.stderr)
        return 2

    reg.set_defaults(handler=usage)

    p = cmds.add_parser("ls", parents=[common], help="list models, or the versions of one")
    p.add_argument("name", nargs="?", help="a model name: list its versions")
    p.set_defaults(handler=_checked(run_ls))

    p = cmds.add_parser("show", parents=[common], help="show one version's sealed manifest")
    p.add_argument("name", help="model name, or name:version / name:alias")
    p.add_argument("ref", nargs="?", help="version number or alias (default: latest)")
    p.set_defaults(handler=_checked(run_show))

    p = cmds.add_parser("lineage", parents=[common], help="datasets, parents, children, aliases")
    p.add_argument("name")
    p.add_argument("ref", nargs="?")
    p.add_argument(
        "--format",
        choices=["text", "mermaid", "json", "openlineage"],
        default="text",
        help="output format (default: text)",
    )
    p.add_argument("--depth", type=int, default=None, help="parent/child hops to follow")
    p.set_defaults(handler=_checked(run_lineage))

    p = cmds.add_parser("aliases", parents=[common], help="current aliases, or one's history")
    p.add_argument("name")
    p.add_argument("alias", nargs="?", help="show this alias's history")
    p.add_argument(
        "--at",
        help="ISO time: what the alias pointed to then (local time unless it has an offset, "
        "as the times this command prints do)",
    )
    p.set_defaults(handler=_checked(run_aliases))

    p = cmds.add_parser(
        "promote",
        parents=[common],
        help="move an alias to a version through gates",
        description="Point ALIAS at VERSION if every gate passes; exit 1 when a gate refuses.",
    )
    p.add_argument("name")
    p.add_argument("version")
    p.add_argument("alias")
    p.add_argument("--actor", default=None, help="who promotes (default: $MLPROD_ACTOR or user)")
    p.add_argument("--reason", default="", help="why, kept in the alias history")
    p.add_argument(
        "--min",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="gate: metric at least VALUE",
    )
    p.add_argument(
        "--max", action="append", default=[], metavar="METRIC=VALUE", help="gate: at most VALUE"
    )
    p.add_argument(
        "--beats",
        action="append",
        default=[],
        metavar="METRIC[:MARGIN]",
        help="gate: beat the current holder on METRIC by MARGIN (higher is better)",
    )
    p.add_argument(
        "--beats-lower",
        action="append",
        default=[],
        metavar="METRIC[:MARGIN]",
        help="gate: beat the current holder on METRIC by MARGIN (lower is better)",
    )
    p.add_argument("--four-eyes", action="store_true", help="gate: actor is not the registrant")
    p.add_argument(
        "--signature", action="store_true", help="gate: inputs compatible with the holder"
    )
    p.set_defaults(handler=_checked(run_promote))

    p = cmds.add_parser("verify", parents=[common], help="check event chain and artifact digests")
    p.add_argument("--no-artifacts", action="store_true", help="skip re-hashing artifacts")
    p.add_argument(
        "--pinned-head",
        default=None,
        help="a head printed earlier by `mlprod registry head`: fail if the history up to it "
        "was rewritten",
    )
    p.set_defaults(handler=_checked(run_verify))

    p = cmds.add_parser(
        "head",
        parents=[common],
        help="print the event chain's head, to keep outside the registry",
        description="Print '<events>:<hash>'. Keep it elsewhere (a ticket, a commit, a "
        "secrets manager) and pass it to `verify --pinned-head` to detect a rewritten history.",
    )
    p.set_defaults(handler=_checked(run_head))

    p = cmds.add_parser(
        "gc",
        parents=[common],
        help="remove artifacts no version references (dry run unless --apply)",
        description="List (or with --apply remove) artifacts no version references and "
        "temporary files of stopped writes, older than the grace period.",
    )
    p.add_argument("--apply", action="store_true", help="remove them (default: only list)")
    p.add_argument(
        "--grace",
        type=float,
        default=86_400.0,
        help="minimum age in seconds of a file to remove (default: 86400, a day)",
    )
    p.set_defaults(handler=_checked(run_gc))


def _checked(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Exit 1, not 2, when a stored record fails its digest: a failed check, not bad input."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except IntegrityError as exc:
            print(f"mlprod: integrity check failed: {exc}", file=sys.stderr)
            return 1

    return run


def _open(args: argparse.Namespace) -> Any:
    from mlprod.models.registry import ModelRegistry

    try:
        return ModelRegistry(args.registry, artifacts=args.artifacts, create=False)
    except ConfigurationError as exc:
        if exc.parameter != "artifacts":
            raise
        raise ConfigurationError(
            "A SQL URL holds only the registry's metadata: say where its artifacts are with "
            "--artifacts (a folder or an fsspec URL) or $MLPROD_ARTIFACTS.",
            parameter="--artifacts",
        ) from None


def _dump(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def run_ls(args: argparse.Namespace) -> int:
    """List models (name, versions, latest, aliases) or one model's versions."""
    with _open(args) as reg:
        if args.name is None:
            rows = []
            for name in reg.names():
                latest = reg.get(name)
                rows.append({"name": name, "latest": latest.version, "aliases": reg.aliases(name)})
            if args.json:
                _dump(rows)
            else:
                for r in rows:
                    aliases = ", ".join(f"{a}→v{v}" for a, v in r["aliases"].items())
                    print(f"{r['name']:<30} v{r['latest']:<6} {aliases}")
            return 0
        versions = reg.versions(args.name)
        held: dict[int, list[str]] = {}
        for alias, v in reg.aliases(args.name).items():
            held.setdefault(v, []).append(alias)
        if args.json:
            _dump(
                [
                    {
                        "version": v.version,
                        "digest": v.digest,
                        "created_at": v.created_at.isoformat(),
                        "registered_by": v.registered_by,
                        "metrics": dict(v.metrics),
                        "aliases": held.get(v.version, []),
                    }
                    for v in versions
                ]
            )
            return 0
        for v in versions:
            metrics = " ".join(f"{k}={val:g}" for k, val in v.metrics.items())
            aliases = ",".join(held.get(v.version, []))
            # Full precision and the UTC offset: a printed time pasted into
            # `aliases --at` must name this moment, not the second before it.
            print(
                f"v{v.version:<5} {v.digest[:12]}  {v.created_at.isoformat()}  "
                f"{v.registered_by or '-':<12} {metrics}  {aliases}".rstrip()
            )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print one version: identity, manifest summary (or the full record as JSON)."""
    with _open(args) as reg:
        mv = reg.get(args.name, args.ref)
        if args.json:
            _dump(mv.to_dict())
        else:
            print(mv.summary())
    return 0


def run_lineage(args: argparse.Namespace) -> int:
    """Print a version's lineage as text, Mermaid, JSON or OpenLineage events."""
    with _open(args) as reg:
        graph = reg.lineage(args.name, args.ref, depth=args.depth)
    fmt = "json" if args.json else args.format
    if fmt == "mermaid":
        print(graph.to_mermaid())
    elif fmt == "json":
        _dump(graph.to_dict())
    elif fmt == "openlineage":
        _dump(graph.to_openlineage())
    else:
        print(graph.summary())
    return 0


def run_aliases(args: argparse.Namespace) -> int:
    """Print current aliases, one alias's history, or what it pointed to at a time."""
    with _open(args) as reg:
        if args.alias is None:
            aliases = reg.aliases(args.name)
            if args.json:
                _dump(aliases)
            else:
                for alias, version in aliases.items():
                    print(f"{alias:<20} v{version}")
            return 0
        if args.at:
            mv = reg.resolve(args.name, args.alias, at=args.at)
            if args.json:
                _dump({"alias": args.alias, "at": args.at, "version": mv.version})
            else:
                print(f"{args.name}@{args.alias} at {args.at}: v{mv.version} ({mv.digest[:12]})")
            return 0
        history = reg.alias_history(args.name, args.alias)
        if args.json:
            _dump([c.to_dict() for c in history])
        else:
            for c in history:
                target = "deleted" if c.version is None else f"v{c.version}"
                gates = ",".join(str(v.get("gate")) for v in c.verdicts)
                print(
                    f"{c.at.isoformat()}  {c.previous or '-'!s:>4} → {target:<6} "
                    f"by {c.actor or '-'}: {c.reason}" + (f"  [gates: {gates}]" if gates else "")
                )
    return 0


def _pair(text: str, sep: str, option: str) -> tuple[str, float | None]:
    metric, _, value = text.partition(sep)
    if not metric:
        raise ConfigurationError(f"{option} {text!r}: the metric name is empty", parameter=option)
    if not value:
        return metric, None
    try:
        return metric, float(value)
    except ValueError:
        raise ConfigurationError(
            f"{option} {text!r}: {value!r} is not a number", parameter=option, value=text
        ) from None


def _gates(args: argparse.Namespace) -> list[Any]:
    from mlprod.models import gates

    out: list[Any] = []
    for text in args.min:
        metric, value = _pair(text, "=", "--min")
        if value is None:
            raise ConfigurationError(f"--min {text!r}: write METRIC=VALUE", parameter="--min")
        out.append(gates.metric_threshold(metric, min=value))
    for text in args.max:
        metric, value = _pair(text, "=", "--max")
        if value is None:
            raise ConfigurationError(f"--max {text!r}: write METRIC=VALUE", parameter="--max")
        out.append(gates.metric_threshold(metric, max=value))
    for text in args.beats:
        metric, margin = _pair(text, ":", "--beats")
        out.append(gates.beats_current(metric, margin=margin or 0.0))
    for text in args.beats_lower:
        metric, margin = _pair(text, ":", "--beats-lower")
        out.append(gates.beats_current(metric, margin=margin or 0.0, higher_is_better=False))
    if args.signature:
        out.append(gates.signature_compatible())
    if args.four_eyes:
        out.append(gates.four_eyes())
    return out


def run_promote(args: argparse.Namespace) -> int:
    """Move the alias through the requested gates; exit 1 if any refuses."""
    gate_list = _gates(args)
    with _open(args) as reg:
        try:
            change = reg.set_alias(
                args.name,
                args.alias,
                args.version,
                gates=gate_list,
                actor=args.actor,
                reason=args.reason,
            )
        except GateFailed as exc:
            if args.json:
                _dump({"moved": False, "verdicts": [v.to_dict() for v in exc.verdicts]})
            else:
                print(f"refused: {exc}")
                for v in exc.verdicts:
                    print(f"  [{'pass' if v.passed else 'FAIL'}] {v.gate}: {v.message}")
            return 1
    if args.json:
        _dump({"moved": True, **change.to_dict()})
    else:
        print(
            f"{change.name}@{change.alias}: {change.previous or '-'} → v{change.version} "
            f"by {change.actor}"
        )
        for v in change.verdicts:
            print(f"  [pass] {v['gate']}: {v['message']}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify the event chain, tables and artifacts; exit 1 on any problem."""
    with _open(args) as reg:
        result = reg.verify(artifacts=not args.no_artifacts, pinned_head=args.pinned_head)
    if args.json:
        _dump(result.to_dict())
    else:
        print(result.summary())
    return 0 if result.ok else 1


def run_head(args: argparse.Namespace) -> int:
    """Print the chain's head."""
    with _open(args) as reg:
        head = reg.head()
    if args.json:
        _dump({"head": head})
    else:
        print(head)
    return 0


def run_gc(args: argparse.Namespace) -> int:
    """List or remove unreferenced artifacts and stale temporary files."""
    with _open(args) as reg:
        report = reg.gc(grace=args.grace, dry_run=not args.apply)
    if args.json:
        _dump(report.to_dict())
    else:
        print(report.summary())
    return 0
