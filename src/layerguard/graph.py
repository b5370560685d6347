"""`layerguard graph`: how the project's apps couple, as Mermaid, Graphviz DOT or JSON.

Nodes are apps; an edge A -> B counts A's relation fields to B's models (LG401) and
A's import statements of B's models (LG402), allowed apps included: the picture shows
all coupling, the rules decide what fails. Cycles between apps are listed.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from layerguard.checkers.app_boundaries import import_references, relation_references
from layerguard.project import ProjectModel


@dataclass
class CouplingGraph:
    apps: list[str]
    edges: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (a, b) -> {"fk": n, "import": m}

    def cycles(self) -> list[list[str]]:
        """Every pair of apps that depend on each other, as [a, b, a], and for each larger
        tangle with no such pair inside it, one cycle through it, as [a, b, ..., a]."""
        successors = defaultdict(set)
        for source, target in self.edges:
            successors[source].add(target)
        cycles = [[a, b, a] for (a, b) in self.edges if a < b and (b, a) in self.edges]
        in_pairs = {app for cycle in cycles for app in cycle}
        for component in _strongly_connected(self.apps, successors):
            if len(component) > 1 and not component & in_pairs:
                cycles.append(_cycle_through(sorted(component), successors))
        return sorted(cycles)

    def tangles(self) -> list[list[str]]:
        """Groups of apps that all reach each other (strongly connected components of more
        than one app), largest first: an edge lies on some cycle exactly when both its
        ends are in the same tangle."""
        successors = defaultdict(set)
        for source, target in self.edges:
            successors[source].add(target)
        components = [sorted(c) for c in _strongly_connected(self.apps, successors) if len(c) > 1]
        return sorted(components, key=lambda c: (-len(c), c))


def coupling_graph(project: ProjectModel) -> CouplingGraph:
    edges: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for reference in relation_references(project):
        edges[(reference.source_app, reference.target_app)]["fk"] += 1
    for path, module in sorted(project.modules_by_path.items()):
        if project.is_exempt(path) or project.is_model_module(path) or module.facts.parse_error:
            continue
        for reference in import_references(project, module):
            edges[(reference.source_app, reference.target_app)]["import"] += 1
    apps = sorted({app.label for app in project.apps.values()} | {a for edge in edges for a in edge})
    return CouplingGraph(apps, dict(sorted(edges.items())))


def _label(counts: Counter) -> str:
    parts = []
    if counts["fk"]:
        parts.append(f"{counts['fk']} FK")
    if counts["import"]:
        parts.append(f"{counts['import']} import{'s' if counts['import'] != 1 else ''}")
    return ", ".join(parts)


def _node_id(app: str) -> str:
    return "app_" + "".join(c if c.isalnum() else "_" for c in app)


def render_mermaid(graph: CouplingGraph) -> str:
    lines = ["graph LR"]
    lines += [f'    {_node_id(app)}["{app}"]' for app in graph.apps]
    for (source, target), counts in graph.edges.items():
        lines.append(f'    {_node_id(source)} -->|"{_label(counts)}"| {_node_id(target)}')
    for cycle in graph.cycles():
        lines.append(f"    %% cycle: {' -> '.join(cycle)}")
    return "\n".join(lines) + "\n"


def render_dot(graph: CouplingGraph) -> str:
    lines = ["digraph apps {", "    rankdir=LR;", "    node [shape=box];"]
    lines += [f'    "{app}";' for app in graph.apps]
    cyclic = {(c[i], c[i + 1]) for c in graph.cycles() for i in range(len(c) - 1)}
    for (source, target), counts in graph.edges.items():
        colour = ', color="red"' if (source, target) in cyclic else ""
        lines.append(f'    "{source}" -> "{target}" [label="{_label(counts)}"{colour}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_json(graph: CouplingGraph) -> str:
    document = {
        "apps": graph.apps,
        "edges": [{"from": s, "to": t, "foreign_keys": c["fk"], "imports": c["import"]}
                  for (s, t), c in graph.edges.items()],
        "cycles": graph.cycles(),
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "json": render_json}


def _strongly_connected(nodes: list[str], successors) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (app graphs are small, but recursion limits are not)."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(successors[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    result.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(successors[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return result


def _cycle_through(component: list[str], successors) -> list[str]:
    """A shortest path from the component's first app back to itself, inside the component."""
    start = component[0]
    members = set(component)
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(successors[node]):
            if child == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
            if child in members and child not in previous:
                previous[child] = node
                queue.append(child)
    return [start, start]
