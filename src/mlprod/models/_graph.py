"""Building a LineageGraph from the registry's tables (indexed look-ups only)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from mlprod.models._frozen import thaw
from mlprod.models._inputs import dataset_node_id
from mlprod.models.lineage import LineageEdge, LineageGraph, LineageNode
from mlprod.models.version import ModelVersion

__all__ = ["build_lineage"]


def _dataset_label(d: Mapping[str, Any]) -> str:
    if d.get("kind") == "dataset_version":
        return f"{d['name']} v{d['version']}"
    return f"data {str(d['fingerprint'])[:12]}"


class _Builder:
    def __init__(self, reg: Any, conn: Any) -> None:
        self.reg, self.conn = reg, conn
        self.sa, self.t = reg._sa, reg._t
        self.nodes: dict[str, LineageNode] = {}
        self.edges: dict[tuple[str, str, str], LineageEdge] = {}

    def edge(self, source: str, target: str, relation: str, **attrs: Any) -> None:
        self.edges.setdefault(
            (source, target, relation), LineageEdge(source, target, relation, attrs)
        )

    def dataset(self, d: Mapping[str, Any]) -> str:
        nid = dataset_node_id(d)
        if nid not in self.nodes:
            self.nodes[nid] = LineageNode(nid, "dataset", _dataset_label(d), dict(d))
        return nid

    def model(self, manifest_text: str, digest: str) -> tuple[str, dict[str, Any], bool]:
        """Add a model version (and what trained it); return its id, manifest, and if new."""
        m = thaw(ModelVersion._from_row(manifest_text, "{}", "", digest).manifest)
        nid = f"model:{m['name']}:{m['version']}"
        new = nid not in self.nodes
        if new:
            self.nodes[nid] = LineageNode(
                nid,
                "model",
                f"{m['name']} v{m['version']}",
                {
                    "name": m["name"],
                    "version": m["version"],
                    "digest": digest,
                    "created_at": m.get("created_at"),
                    "metrics": m.get("metrics", {}),
                },
            )
            for role, d in (m.get("datasets") or {}).items():
                self.edge(self.dataset(d), nid, "trained_on", role=role)
        return nid, m, new

    def parent_row(self, name: str, version: int) -> Any:
        v = self.t.versions
        return self.conn.execute(
            self.sa.select(v.c.manifest, v.c.digest).where(v.c.name == name, v.c.version == version)
        ).first()

    def children(self, name: str, version: int) -> list[Any]:
        v, p = self.t.versions, self.t.parents
        return self.conn.execute(  # type: ignore[no-any-return]
            self.sa.select(v.c.manifest, v.c.digest)
            .select_from(p.join(v, v.c.digest == p.c.child))
            .where(p.c.parent_name == name, p.c.parent_version == version)
            .order_by(v.c.name, v.c.version)
        ).all()

    def consumers(self, key: str) -> list[Any]:
        v, i = self.t.versions, self.t.inputs
        return self.conn.execute(  # type: ignore[no-any-return]
            self.sa.select(v.c.manifest, v.c.digest)
            .select_from(i.join(v, v.c.digest == i.c.digest))
            .where(i.c.dataset == key)
            .order_by(v.c.name, v.c.version)
        ).all()

    def upstream(self, start: tuple[str, dict[str, Any]], depth: int | None) -> None:
        queue = deque([(start, 0)])
        while queue:
            (nid, m), level = queue.popleft()
            if depth is not None and level >= depth:
                continue
            for parent in m.get("parents", ()):
                row = self.parent_row(parent["name"], int(parent["version"]))
                if row is None:
                    continue
                pid, pm, new = self.model(row.manifest, row.digest)
                self.edge(pid, nid, "derived_from")
                if new:
                    queue.append(((pid, pm), level + 1))

    def downstream(self, starts: list[tuple[str, dict[str, Any]]], depth: int | None) -> None:
        queue = deque((s, 0) for s in starts)
        while queue:
            (nid, m), level = queue.popleft()
            if depth is not None and level >= depth:
                continue
            for row in self.children(m["name"], int(m["version"])):
                cid, cm, new = self.model(row.manifest, row.digest)
                self.edge(nid, cid, "derived_from")
                if new:
                    queue.append(((cid, cm), level + 1))

    def aliases(self) -> None:
        names = sorted({n.attrs["name"] for n in self.nodes.values() if n.kind == "model"})
        if not names:
            return
        a = self.t.aliases
        rows = self.conn.execute(
            self.sa.select(a.c.name, a.c.alias, a.c.version).where(a.c.name.in_(names))
        ).all()
        for name, alias, version in rows:
            mid = f"model:{name}:{version}"
            if mid in self.nodes:
                aid = f"alias:{name}@{alias}"
                self.nodes[aid] = LineageNode(
                    aid,
                    "alias",
                    f"{name}@{alias}",
                    {"name": name, "alias": alias, "version": version},
                )
                self.edge(mid, aid, "alias")

    def graph(self, root: str) -> LineageGraph:
        return LineageGraph(root, tuple(self.nodes.values()), tuple(self.edges.values()))


def build_lineage(
    reg: Any,
    conn: Any,
    *,
    root_row: Any = None,
    dataset: Mapping[str, Any] | None = None,
    depth: int | None = None,
) -> LineageGraph:
    """The graph around one version row, or around one dataset description."""
    b = _Builder(reg, conn)
    if root_row is not None:
        nid, m, _ = b.model(root_row.manifest, root_row.digest)
        b.upstream((nid, m), depth)
        b.downstream([(nid, m)], depth)
        b.aliases()
        return b.graph(nid)
    assert dataset is not None
    root = b.dataset(dataset)
    starts = []
    for row in b.consumers(root):
        mid, m, _ = b.model(row.manifest, row.digest)
        starts.append((mid, m))
        for d in (m.get("datasets") or {}).values():
            other = dataset_node_id(d)
            if other != root and str(d.get("fingerprint")) == str(dataset.get("fingerprint")):
                b.edge(root, other, "same_content")
    b.downstream(starts, depth)
    b.aliases()
    return b.graph(root)
