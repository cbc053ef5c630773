"""Lay out an Amazon States Language definition as a top-down layered graph.

Why our own layout: no layout library may be fetched at run time and the pipeline's shape is
simple (a long chain, Choice branches, Catch exits, polling loops). The steps are the classic
layered (Sugiyama) ones, kept small:

1. edges from ``Next``, ``Choices[].Next``, ``Default`` and ``Catch[].Next``;
2. a depth-first walk from ``StartAt`` (main flow first) marks *back-edges* — the edges that
   close a polling loop — and leaves a DAG;
3. longest-path layering of the DAG; a forward edge that spans several layers gets one dummy
   node per skipped layer so it is routed around the states in between;
4. within a layer, nodes are ordered by the barycentre of their parents, then states before
   dummies, then the walk's order, so the main flow stays in the left column and branches go
   right;
5. back-edges are routed up the right-hand side, one lane each, through the gaps between
   rows, and drawn dashed.

Parallel and Map states are drawn as one node (their inner branches are not expanded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["Edge", "GraphLayout", "Node", "describe_choice", "layout_definition"]

NODE_W = 210
NODE_H = 46
DUMMY_W = 24
COL_GAP = 46
ROW_GAP = 44
MARGIN = 24
LANE_GAP = 14
LABEL_PAD, LABEL_CHAR = 12, 6.2  # room right of a loop lane for its label (10.5 px text)


@dataclass
class Node:
    """A state (or a dummy bend point of a long edge) placed on the canvas."""

    name: str
    type: str
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0
    width: float = NODE_W
    height: float = NODE_H
    dummy: bool = False
    comment: str = ""
    callback: bool = False  # waits for a task token (e.g. for reviewers' verdicts)

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


@dataclass
class Edge:
    """A transition; ``kind`` is next / choice / default / catch; ``back`` closes a loop."""

    source: str
    target: str
    kind: str
    label: str = ""
    title: str = ""
    back: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class GraphLayout:
    nodes: dict[str, Node]
    edges: list[Edge]
    width: float
    height: float
    start: str

    def states(self) -> list[Node]:
        return [node for node in self.nodes.values() if not node.dummy]


def describe_choice(rule: dict[str, Any]) -> str:
    """A short reading of a Choice rule, e.g. ``last_crawl = SUCCEEDED`` (last path key only)."""
    for combinator, joiner in (("And", " and "), ("Or", " or ")):
        if combinator in rule:
            return "(" + joiner.join(describe_choice(r) for r in rule[combinator]) + ")"
    if "Not" in rule:
        return "not " + describe_choice(rule["Not"])
    variable = str(rule.get("Variable", "")).rsplit(".", 1)[-1].removeprefix("$")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment"):
            continue
        if key.startswith("Is"):  # IsPresent: true -> "is present"
            return f"{variable} is {'' if value else 'not '}{key[2:].lower()}"
        return f"{variable} {_operator(key)} {_short(value)}".strip()
    return variable or "?"


_OPERATORS = {  # longest suffix first: "GreaterThanEquals" before "Equals"
    "GreaterThanEquals": ">=",
    "LessThanEquals": "<=",
    "GreaterThan": ">",
    "LessThan": "<",
    "Equals": "=",
    "Matches": "~",
}


def _operator(key: str) -> str:
    stem = key.removesuffix("Path")
    for suffix, sign in _OPERATORS.items():
        if stem.endswith(suffix):
            return sign
    return key


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.removeprefix("$.") if isinstance(value, str) and value.startswith("$.") else text


def _transitions(state: dict[str, Any]) -> list[Edge]:
    edges: list[Edge] = []
    for rule in state.get("Choices", []) or []:
        if "Next" in rule:
            text = describe_choice(rule)
            edges.append(Edge("", rule["Next"], "choice", _clip(text), text))
    if "Next" in state:
        edges.append(Edge("", state["Next"], "next"))
    if "Default" in state:
        edges.append(Edge("", state["Default"], "default", "default", "Default"))
    for catcher in state.get("Catch", []) or []:
        if "Next" in catcher:
            errors = ", ".join(catcher.get("ErrorEquals", []))
            label = "" if errors == "States.ALL" else _clip(errors)  # the style says "catch"
            edges.append(Edge("", catcher["Next"], "catch", label, "catch " + errors))
    return edges


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _walk_order(start: str, succ: dict[str, list[str]]) -> tuple[dict[str, int], set[tuple]]:
    """Preorder index of each state and the back-edges, from an iterative DFS."""
    order: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    roots = [start] + [name for name in succ if name != start]
    for root in roots:
        if root in order:
            continue
        order[root] = len(order)
        on_stack = {root}
        stack = [(root, iter(succ.get(root, [])))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                on_stack.discard(node)
                stack.pop()
            elif child in on_stack:
                back.add((node, child))
            elif child not in order and child in succ:
                order[child] = len(order)
                on_stack.add(child)
                stack.append((child, iter(succ.get(child, []))))
    return order, back


def _layers(order: dict[str, int], forward: dict[str, list[str]]) -> dict[str, int]:
    """Longest-path layering over the forward (acyclic) edges."""
    indegree = {name: 0 for name in order}
    for targets in forward.values():
        for target in targets:
            indegree[target] += 1
    ready = sorted((n for n, d in indegree.items() if d == 0), key=order.__getitem__)
    layer = dict.fromkeys(order, 0)
    while ready:
        node = ready.pop(0)
        for target in forward.get(node, []):
            layer[target] = max(layer[target], layer[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return layer


def layout_definition(definition: dict[str, Any]) -> GraphLayout:
    """Place every state of ``definition`` (an ASL dict) and route every transition."""
    states: dict[str, dict[str, Any]] = definition.get("States", {}) or {}
    start = str(definition.get("StartAt") or next(iter(states), ""))
    edges: list[Edge] = []
    seen: dict[tuple[str, str], Edge] = {}
    for name, state in states.items():
        for edge in _transitions(state):
            if edge.target not in states:
                continue
            edge.source = name
            twin = seen.get((name, edge.target))
            if twin is not None:  # two rules to the same state: one arrow, both labels
                twin.label = _clip(f"{twin.label} | {edge.label}".strip(" |"))
                twin.title = f"{twin.title}\n{edge.title}".strip()
                continue
            seen[(name, edge.target)] = edge
            edges.append(edge)
    succ = {name: [e.target for e in edges if e.source == name] for name in states}
    order, back = _walk_order(start, succ)
    for edge in edges:
        edge.back = (edge.source, edge.target) in back or edge.source == edge.target
    forward = {n: [e.target for e in edges if e.source == n and not e.back] for n in states}
    layer = _layers(order, forward)
    nodes = {
        name: Node(name, str(s.get("Type", "?")), layer[name], order[name],
                   comment=str(s.get("Comment", "")),
                   callback=str(s.get("Resource", "")).endswith(".waitForTaskToken"))
        for name, s in states.items()
    }
    chains = _insert_dummies(nodes, edges)
    rows = _order_rows(nodes, chains)
    width, height = _place(nodes, rows)
    width = _route(nodes, edges, chains, width)
    return GraphLayout(nodes, edges, width, height, start)


def _insert_dummies(nodes: dict[str, Node], edges: list[Edge]) -> dict[int, list[str]]:
    """One dummy node per layer skipped by a long forward edge; returns edge index → chain."""
    chains: dict[int, list[str]] = {}
    for index, edge in enumerate(edges):
        if edge.back:
            continue
        source, target = nodes[edge.source], nodes[edge.target]
        chain = [edge.source]
        for step, level in enumerate(range(source.layer + 1, target.layer)):
            name = f"__dummy_{index}_{step}"
            nodes[name] = Node(name, "dummy", level, source.order + 0.5, width=DUMMY_W,
                               height=NODE_H, dummy=True)
            chain.append(name)
        chain.append(edge.target)
        chains[index] = chain
    return chains


def _order_rows(nodes: dict[str, Node], chains: dict[int, list[str]]) -> list[list[Node]]:
    """Rows by layer, ordered by walk order then parents' barycentre (one downward sweep)."""
    depth = max((n.layer for n in nodes.values()), default=0) + 1
    rows: list[list[Node]] = [[] for _ in range(depth)]
    for node in nodes.values():
        rows[node.layer].append(node)
    parents: dict[str, list[str]] = {}
    for chain in chains.values():
        for upper, lower in pairwise(chain):
            parents.setdefault(lower, []).append(upper)
    position: dict[str, float] = {}
    for row in rows:
        def key(node: Node) -> tuple[float, bool, float]:
            ups = [position[p] for p in parents.get(node.name, []) if p in position]
            return (sum(ups) / len(ups) if ups else 0.0, node.dummy, node.order)

        row.sort(key=key)
        for index, node in enumerate(row):
            position[node.name] = float(index)
    return rows


def _place(nodes: dict[str, Node], rows: list[list[Node]]) -> tuple[float, float]:
    """Grid columns of fixed width, so a column of states lines up vertically."""
    width = 0.0
    for level, row in enumerate(rows):
        for column, node in enumerate(row):
            slot_x = MARGIN + column * (NODE_W + COL_GAP)
            node.x = slot_x + (NODE_W - node.width) / 2
            node.y = MARGIN + level * (NODE_H + ROW_GAP)
            width = max(width, slot_x + NODE_W)
    height = MARGIN * 2 + len(rows) * (NODE_H + ROW_GAP) - ROW_GAP
    return width + MARGIN, height


def _route(
    nodes: dict[str, Node], edges: list[Edge], chains: dict[int, list[str]], width: float
) -> float:
    """Polyline points of each edge; back-edges get a lane right of what they pass."""
    out_port, in_port = _ports(nodes, chains)
    spans: list[tuple[int, int]] = []
    for index, edge in enumerate(edges):
        if not edge.back:
            chain = [nodes[name] for name in chains[index]]
            points = [(out_port[index], chain[0].y + chain[0].height)]
            for dummy in chain[1:-1]:
                points += [(dummy.cx, dummy.y), (dummy.cx, dummy.y + dummy.height)]
            points.append((in_port[index], chain[-1].y))
            edge.points = points
            continue
        source, target = nodes[edge.source], nodes[edge.target]
        top, bottom = sorted((source.layer, target.layer))
        passed = [n for n in nodes.values() if top <= n.layer <= bottom]
        lane = sum(1 for low, high in spans if low <= bottom and top <= high)  # overlapping
        spans.append((top, bottom))
        right = max(n.x + n.width for n in passed) + LANE_GAP * (lane + 1)
        # leave through the bottom, run in the gaps between rows (no state there), come back
        # into the target from above: the loop never crosses a state of its own rows
        sx, tx = source.x + source.width * 0.88, target.x + target.width * 0.88
        below, above = source.y + source.height + ROW_GAP * 0.3, target.y - ROW_GAP * 0.3
        edge.points = [
            (sx, source.y + source.height),
            (sx, below),
            (right, below),
            (right, above),
            (tx, above),
            (tx, target.y),
        ]
        width = max(width, right + LABEL_PAD + LABEL_CHAR * len(edge.label))
    return width


def _ports(
    nodes: dict[str, Node], chains: dict[int, list[str]]
) -> tuple[dict[int, float], dict[int, float]]:
    """Spread the edges leaving (entering) a node along its bottom (top) edge, left to right."""
    leaving: dict[str, list[tuple[float, int]]] = {}
    entering: dict[str, list[tuple[float, int]]] = {}
    for index, chain in chains.items():
        leaving.setdefault(chain[0], []).append((nodes[chain[1]].cx, index))
        entering.setdefault(chain[-1], []).append((nodes[chain[-2]].cx, index))
    ports: list[dict[int, float]] = [{}, {}]
    for side, groups in enumerate((leaving, entering)):
        for name, group in groups.items():
            node = nodes[name]
            group.sort()
            for slot, (_, index) in enumerate(group):
                ports[side][index] = node.x + node.width * (slot + 1) / (len(group) + 1)
    return ports[0], ports[1]
