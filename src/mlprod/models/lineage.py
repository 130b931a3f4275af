"""Lineage graphs: datasets → model versions → aliases, and parent models.

A :class:`LineageGraph` is plain data (nodes and edges) built by
:meth:`mlprod.ModelRegistry.lineage`; it renders as Mermaid, exports
OpenLineage run events, and answers what is upstream or downstream of a node.
"""

from __future__ import annotations

import difflib
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlprod._internal import render
from mlprod.models._frozen import freeze, thaw

__all__ = ["LineageEdge", "LineageGraph", "LineageNode"]

_PRODUCER = "https://github.com/mlprod/mlprod"
_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@dataclass(frozen=True)
class LineageNode:
    """A dataset, model version or alias in a lineage graph.

    ``id`` is ``"dataset:<name>@<version>"``, ``"fingerprint:<hex>"``,
    ``"model:<name>:<version>"`` or ``"alias:<name>@<alias>"``.
    """

    __module__ = "mlprod"

    id: str
    kind: str
    label: str
    # Plain dicts do not hash, and a digest and metrics drown the repr; the
    # other fields identify the node.
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attrs", freeze(self.attrs))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (LineageNode, (self.id, self.kind, self.label, thaw(self.attrs)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"id": self.id, "kind": self.kind, "label": self.label, "attrs": thaw(self.attrs)}


@dataclass(frozen=True)
class LineageEdge:
    """A directed link: ``source`` feeds ``target``.

    ``relation`` is ``trained_on``, ``derived_from``, ``alias`` or ``same_content``.
    """

    __module__ = "mlprod"

    source: str
    target: str
    relation: str
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attrs", freeze(self.attrs))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (LineageEdge, (self.source, self.target, self.relation, thaw(self.attrs)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "source": self.source,
            "target": self.target,
            "relation": self.relation,
            "attrs": thaw(self.attrs),
        }


@dataclass(frozen=True)
class LineageGraph(render.Rendered):
    """Where a model version came from and where it went.

    Edges point downstream: dataset → model version (``trained_on``),
    parent version → derived version (``derived_from``), version → alias
    (``alias``).

    Attributes
    ----------
    root:
        The id of the node the graph was built around.
    nodes, edges:
        Every node and edge.

    Examples
    --------
    >>> import mlprod as mp, tempfile, pandas as pd
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> base = reg.register("churn", {"w": 1})
    >>> tuned = reg.register("churn", {"w": 2}, parents=[base])
    >>> g = reg.lineage(tuned)
    >>> [n.id for n in g.upstream()]
    ['model:churn:1']
    >>> print(g.to_mermaid().splitlines()[0])
    graph LR
    """

    __module__ = "mlprod"

    root: str
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]

    def node(self, node_id: str) -> LineageNode:
        """The node with ``node_id``; ``KeyError`` naming the closest ids if absent."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        close = difflib.get_close_matches(node_id, [n.id for n in self.nodes], n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"No node {node_id!r} in the lineage of {self.root}{hint}")

    def _walk(self, start: str, forward: bool) -> list[LineageNode]:
        self.node(start)  # an unknown start would walk nowhere and look like no lineage
        nxt: dict[str, list[str]] = {}
        for e in self.edges:
            a, b = (e.source, e.target) if forward else (e.target, e.source)
            nxt.setdefault(a, []).append(b)
        seen = {start}
        order: list[str] = []
        queue = deque([start])
        while queue:
            for m in nxt.get(queue.popleft(), ()):
                if m not in seen:
                    seen.add(m)
                    order.append(m)
                    queue.append(m)
        by_id = {n.id: n for n in self.nodes}
        return [by_id[i] for i in order if i in by_id]

    def upstream(self, node: str | None = None) -> list[LineageNode]:
        """Every node that feeds ``node`` (default: the root), nearest first."""
        return self._walk(node or self.root, forward=False)

    def downstream(self, node: str | None = None) -> list[LineageNode]:
        """Every node fed by ``node`` (default: the root), nearest first."""
        return self._walk(node or self.root, forward=True)

    def to_dict(self) -> dict[str, Any]:
        """``{"root", "nodes", "edges"}`` as plain data."""
        return {
            "root": self.root,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (paste into Markdown, GitHub renders it)."""
        ids = {n.id: f"n{i}" for i, n in enumerate(self.nodes)}
        shapes = {"dataset": ('[("', '")]'), "alias": ('{{"', '"}}'), "model": ('["', '"]')}
        lines = ["graph LR"]
        for n in self.nodes:
            left, right = shapes.get(n.kind, ('["', '"]'))
            label = n.label.replace('"', "'")
            lines.append(f"  {ids[n.id]}{left}{label}{right}")
        for e in self.edges:
            if e.source in ids and e.target in ids:
                lines.append(f"  {ids[e.source]} -->|{e.relation}| {ids[e.target]}")
        lines.append(f"  style {ids[self.root]} stroke-width:3px")
        return "\n".join(lines)

    def to_openlineage(self, *, namespace: str = "mlprod") -> list[dict[str, Any]]:
        """OpenLineage ``RunEvent``s: one COMPLETE run per model version registration.

        Each event's inputs are the version's datasets (and parent models);
        its output is the model version, with its digest as a facet.
        """
        by_id = {n.id: n for n in self.nodes}
        feeds: dict[str, list[LineageEdge]] = {}
        for e in self.edges:
            if e.relation in ("trained_on", "derived_from"):
                feeds.setdefault(e.target, []).append(e)
        events = []
        for n in self.nodes:
            if n.kind != "model":
                continue
            digest = str(n.attrs.get("digest", ""))
            inputs = []
            for e in feeds.get(n.id, ()):
                src = by_id.get(e.source)
                if src is None:
                    continue
                facets: dict[str, Any] = {}
                if src.attrs.get("fingerprint"):
                    facets["version"] = {
                        "_producer": _PRODUCER,
                        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json",
                        "datasetVersion": str(src.attrs.get("version") or src.attrs["fingerprint"]),
                    }
                inputs.append(
                    {"namespace": namespace, "name": _dataset_name(src), "facets": facets}
                )
            events.append(
                {
                    "eventType": "COMPLETE",
                    "eventTime": n.attrs.get("created_at"),
                    "producer": _PRODUCER,
                    "schemaURL": _SCHEMA_URL,
                    "run": {"runId": str(uuid.UUID(digest[:32])) if digest else str(uuid.uuid4())},
                    "job": {"namespace": namespace, "name": f"register.{n.attrs.get('name')}"},
                    "inputs": inputs,
                    "outputs": [
                        {
                            "namespace": namespace,
                            "name": f"models/{n.attrs.get('name')}/{n.attrs.get('version')}",
                            "facets": {
                                "mlprod_modelVersion": {
                                    "_producer": _PRODUCER,
                                    "_schemaURL": _PRODUCER + "/blob/main/docs/registry.md",
                                    "digest": digest,
                                    "version": n.attrs.get("version"),
                                }
                            },
                        }
                    ],
                }
            )
        return events

    def _document(self, **options: Any) -> render.Document:
        rows = [[e.source, e.relation, e.target] for e in self.edges]
        return render.Document(
            f"Lineage of {self.root}",
            None,
            {"nodes": len(self.nodes), "edges": len(self.edges)},
            [render.Section("Edges", table=render.Table(["from", "relation", "to"], rows))],
        )

    def __repr__(self) -> str:
        return (
            f"LineageGraph(root={self.root!r}, nodes={len(self.nodes)}, "
            f"edges={len(self.edges)}, upstream={len(self.upstream())}, "
            f"downstream={len(self.downstream())})"
        )


def _dataset_name(node: LineageNode) -> str:
    if node.kind == "model":
        return f"models/{node.attrs.get('name')}/{node.attrs.get('version')}"
    if node.attrs.get("name"):
        return str(node.attrs["name"])
    return node.id
