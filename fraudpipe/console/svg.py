"""Draw a :class:`~fraudpipe.console.graph.GraphLayout` as inline SVG.

Why server-side SVG: it needs no script and no build step, prints and screenshots as is, and
the page's small script only swaps CSS classes (``st-<status>``) on the ``<g>`` of each state
while an execution runs. Each state is a link to ``?state=<name>`` so the details panel works
without JavaScript too.
"""

from __future__ import annotations

from html import escape
from itertools import pairwise
from urllib.parse import quote

from fraudpipe.console.graph import Edge, GraphLayout, Node

__all__ = ["render_svg"]

_MAX_NAME = 26


def render_svg(
    layout: GraphLayout,
    statuses: dict[str, str] | None = None,
    visits: dict[str, int] | None = None,
    selected: str | None = None,
) -> str:
    """The ``<svg>`` element for ``layout``, each state coloured by ``statuses``."""
    statuses = statuses or {}
    visits = visits or {}
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
        'role="img" aria-label="state machine graph">',
        _DEFS,
    ]
    parts += [_edge(edge) for edge in layout.edges if not edge.back]
    parts += [_edge(edge) for edge in layout.edges if edge.back]
    for node in layout.states():
        parts.append(
            _node(node, statuses.get(node.name, "notstarted"), visits.get(node.name, 0),
                  node.name == selected, node.name == layout.start)
        )
    parts.append("</svg>")
    return "\n".join(parts)


_DEFS = """<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>
<marker id="arrow-catch" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead-catch"/></marker>
<marker id="arrow-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead-back"/></marker>
</defs>"""


def _path(points: list[tuple[float, float]], back: bool) -> str:
    x0, y0 = points[0]
    d = [f"M{x0:.1f},{y0:.1f}"]
    if back:
        d += [f"L{x:.1f},{y:.1f}" for x, y in points[1:]]
        return " ".join(d)
    for (x1, y1), (x2, y2) in pairwise(points):
        if x1 == x2:
            d.append(f"L{x2:.1f},{y2:.1f}")
        else:
            mid = (y1 + y2) / 2
            d.append(f"C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}")
    return " ".join(d)


def _edge(edge: Edge) -> str:
    kind = "back" if edge.back else edge.kind
    marker = {"catch": "arrow-catch", "back": "arrow-back"}.get(kind, "arrow")
    title = escape(f"{edge.source} → {edge.target}" + (f"\n{edge.title}" if edge.title else ""))
    out = [
        f'<g class="edge edge-{escape(edge.kind)}{" edge-back" if edge.back else ""}" '
        f'data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
        f"<title>{title}</title>",
        f'<path d="{_path(edge.points, edge.back)}" marker-end="url(#{marker})"/>',
    ]
    if edge.label:
        x, y = _label_anchor(edge)
        out.append(f'<text class="edge-label" x="{x:.1f}" y="{y:.1f}">{escape(edge.label)}</text>')
    out.append("</g>")
    return "".join(out)


def _label_anchor(edge: Edge) -> tuple[float, float]:
    """Back-edges: beside their lane; others: just above the arrowhead, where they differ."""
    if edge.back:
        return edge.points[2][0] + 4, (edge.points[2][1] + edge.points[3][1]) / 2
    x, y = edge.points[-1]
    return x + 5, y - 7


def _node(node: Node, status: str, visits: int, selected: bool, start: bool) -> str:
    name = node.name if len(node.name) <= _MAX_NAME else node.name[: _MAX_NAME - 1] + "…"
    radius = NODE_RADIUS.get(node.type, 6)
    kind = f"{node.type} (waits for callback)" if node.callback else node.type
    classes = f"state st-{escape(status)} type-{escape(node.type)}"
    classes += " selected" if selected else ""
    title = escape(f"{node.name} ({node.type})" + (f"\n{node.comment}" if node.comment else ""))
    count = f"\u00d7{visits}" if visits > 1 else ""  # a loop visited the state n times
    badge = (
        f'<text class="visits" x="{node.x + node.width - 6:.1f}" y="{node.y + 14:.1f}">'
        f"{count}</text>"
    )
    start_mark = (
        f'<text class="start-mark" x="{node.x:.1f}" y="{node.y - 6:.1f}">start</text>'
        if start
        else ""
    )
    return (
        f'<a class="state-link" href="?state={quote(node.name)}#detail" '
        f'data-state="{escape(node.name)}">'
        f'<g class="{classes}" data-state="{escape(node.name)}"><title>{title}</title>'
        f"{start_mark}"
        f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.0f}" '
        f'height="{node.height:.0f}" rx="{radius}"/>'
        f'<text class="name" x="{node.cx:.1f}" y="{node.y + 20:.1f}">{escape(name)}</text>'
        f'<text class="type" x="{node.cx:.1f}" y="{node.y + 36:.1f}">{escape(kind)}</text>'
        f"{badge}</g></a>"
    )


NODE_RADIUS = {"Choice": 2, "Succeed": 23, "Fail": 23, "Wait": 14}
