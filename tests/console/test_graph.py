"""Layered layout of the ASL: every state placed, no overlaps, loops as back-edges."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest

from fraudpipe.console.graph import describe_choice, layout_definition
from fraudpipe.console.svg import render_svg
from tests.console.fakes import PIPELINE_ASL

REPO_ASL = Path(__file__).resolve().parents[2] / "statemachines" / "pipeline.asl.json"
DEFINITIONS = [PIPELINE_ASL] + ([REPO_ASL] if REPO_ASL.exists() else [])


@pytest.fixture(params=DEFINITIONS, ids=lambda p: p.parent.name)
def definition(request: pytest.FixtureRequest) -> dict:
    return json.loads(request.param.read_text())


def test_every_state_is_placed_without_overlap(definition: dict) -> None:
    layout = layout_definition(definition)

    states = layout.states()
    assert {n.name for n in states} == set(definition["States"])
    for a, b in combinations(states, 2):
        apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
        apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
        assert apart_x or apart_y, f"{a.name} overlaps {b.name}"
    assert all(n.x >= 0 and n.x + n.width <= layout.width for n in states)
    assert all(n.y >= 0 and n.y + n.height <= layout.height for n in states)


def test_forward_edges_go_down_and_loops_are_back_edges(definition: dict) -> None:
    layout = layout_definition(definition)
    nodes = layout.nodes

    for edge in layout.edges:
        if edge.back:
            assert nodes[edge.target].layer <= nodes[edge.source].layer
        else:
            assert nodes[edge.target].layer > nodes[edge.source].layer
    loops = {(e.source, e.target) for e in layout.edges if e.back}
    waits = {t for _, t in loops}
    assert len(loops) >= 4  # crawler, ETL, training and batch polling loops
    assert all(definition["States"][t]["Type"] in ("Wait", "Task") for t in waits)


def test_main_flow_is_a_straight_left_column(definition: dict) -> None:
    layout = layout_definition(definition)
    chain, name = [], definition["StartAt"]
    while name in definition["States"] and name not in chain:
        chain.append(name)
        state = definition["States"][name]
        name = state.get("Next") or next(
            (c["Next"] for c in state.get("Choices", []) if not _is_loop(layout, name, c)),
            None,
        )
    assert len(chain) > 10
    assert {layout.nodes[n].x for n in chain[:12]} == {layout.nodes[chain[0]].x}


def _is_loop(layout, source: str, rule: dict) -> bool:
    return any(e.back for e in layout.edges if e.source == source and e.target == rule["Next"])


def test_svg_has_a_clickable_group_per_state_with_its_status(definition: dict) -> None:
    layout = layout_definition(definition)
    start = definition["StartAt"]

    svg = render_svg(layout, {start: "failed"}, {start: 3}, selected=start)

    for name in definition["States"]:
        assert f'data-state="{name}"' in svg
    assert "st-failed" in svg and "st-notstarted" in svg
    assert "\u00d73" in svg and "selected" in svg
    assert svg.count('class="edge ') == len(layout.edges)
    assert "edge-back" in svg and "edge-catch" in svg


def test_choice_rules_read_short() -> None:
    rule = {"Variable": "$.crawl.state", "StringEquals": "READY"}
    assert describe_choice(rule) == "state = READY"
    assert describe_choice({"Variable": "$.n", "NumericGreaterThanEquals": 3}) == "n >= 3"
    text = describe_choice(
        {"And": [{"Variable": "$.a", "BooleanEquals": True}, {"Not": {"Variable": "$.b",
                                                                    "IsPresent": True}}]}
    )
    assert text == "(a = true and not b is present)"


def test_transitions_to_missing_states_and_self_loops_do_not_break_layout() -> None:
    layout = layout_definition(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"},
                                    "B": {"Type": "Wait", "Seconds": 1, "Next": "B"}}}
    )
    assert {n.name for n in layout.states()} == {"A", "B"}
    assert [(e.source, e.target, e.back) for e in layout.edges] == [("B", "B", True)]
