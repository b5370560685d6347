"""How the apps couple: the dependency structure matrix and Robert C. Martin's metrics.

The edges are `layerguard graph`'s (graph.py: relation fields and model imports, allowed
apps included). At the level of apps, Martin's counts are of apps: Ca (afferent) is
how many other apps depend on this one, Ce (efferent) how many it depends on, and the
instability I = Ce / (Ca + Ce) runs from 0 (everyone leans on it: change it carefully)
to 1 (it leans on everyone); an app nothing touches either way has no I.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerguard.graph import CouplingGraph, coupling_graph
from layerguard.project import ProjectModel


@dataclass(frozen=True)
class MartinMetrics:
    app: str
    afferent: int  # Ca
    efferent: int  # Ce

    @property
    def instability(self) -> float | None:
        total = self.afferent + self.efferent
        return round(self.efferent / total, 3) if total else None

    def to_json(self) -> dict:
        return {"app": self.app, "ca": self.afferent, "ce": self.efferent, "instability": self.instability}


def martin_metrics(graph: CouplingGraph) -> list[MartinMetrics]:
    incoming = {app: set() for app in graph.apps}
    outgoing = {app: set() for app in graph.apps}
    for source, target in graph.edges:
        if source != target:
            outgoing[source].add(target)
            incoming[target].add(source)
    return [MartinMetrics(app, len(incoming[app]), len(outgoing[app])) for app in graph.apps]


def coupling_json(graph: CouplingGraph) -> dict:
    tangle_of = {app: index for index, tangle in enumerate(graph.tangles()) for app in tangle}
    return {
        "apps": graph.apps,
        "edges": [{"from": s, "to": t, "foreign_keys": c["fk"], "imports": c["import"],
                   "in_cycle": _same_tangle(tangle_of, s, t)} for (s, t), c in graph.edges.items()],
        "cycles": graph.cycles(),
        "tangles": graph.tangles(),
    }


def _same_tangle(tangle_of: dict[str, int], source: str, target: str) -> bool:
    return source != target and source in tangle_of and tangle_of.get(target) == tangle_of[source]


def dependency_matrix(graph: CouplingGraph) -> list[list[dict | None]]:
    """Row = the depending app, column = the app depended on; a cell holds the FK and
    import counts, and whether the dependency lies on a cycle (both apps in one tangle)."""
    tangle_of = {app: index for index, tangle in enumerate(graph.tangles()) for app in tangle}
    rows = []
    for source in graph.apps:
        row = []
        for target in graph.apps:
            counts = graph.edges.get((source, target))
            if counts is None or source == target:
                row.append(None)
                continue
            row.append({"fk": counts["fk"], "imports": counts["import"], "total": counts["fk"] + counts["import"],
                        "cycle": _same_tangle(tangle_of, source, target)})
        rows.append(row)
    return rows


def project_coupling(project: ProjectModel) -> CouplingGraph:
    return coupling_graph(project)
