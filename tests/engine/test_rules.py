"""The rule language: parsing (with positions), evaluation, execution modes, boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from fraudpipe.engine.rules import RuleSet, default_rules, parse, rules_from_input
from fraudpipe.errors import RuleSyntaxError

SCORE = "fraud_model_insightscore"


def evaluate(expression: str, **variables: object) -> list[bool]:
    arrays = {k: np.asarray(v, dtype=float if isinstance(v[0], (int, float)) else object)
              for k, v in variables.items()}
    n = len(next(iter(arrays.values())))
    rules = RuleSet([{"ruleId": "r", "expression": expression, "outcomes": ["x"]}])
    return rules.matches(arrays, n)[0].tolist()


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        ("$amt >", 6, "expected a value"),
        ("$amt >> 3", 6, "expected a value"),
        ("$amt + 1", 5, "must be a condition"),
        ("amt > 1", 0, "unknown function or bare word 'amt'"),
        ("$amt > 1 and", 12, "expected a value"),
        ("$amt in [1, 2", 13, "expected ',' or ']'"),
        ('$category == "food', 13, "string is not closed"),
        ("$amt > 1 and 3", 13, "right side of 'and' must be a condition"),
        ("($amt > 1", 9, "expected ')'"),
        ("$amt > 1 )", 9, "unexpected ')'"),
        ("$ > 1", 0, "must be followed by a variable name"),
        ('regex_match("(", $merchant)', 12, "invalid pattern"),
        ("lowercase($a, $b) == 'x'", 0, "takes 1 argument"),
        ("$amt # 3", 5, "unexpected character '#'"),
        ("", 0, "empty"),
    ],
)
def test_bad_expressions_are_refused_with_position(
    expression: str, position: int, reason: str
) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse(expression)
    assert caught.value.position == position
    assert reason in str(caught.value)
    assert f"position {position}:" in str(caught.value)


def test_detector_rules_name_the_rule_and_refuse_unknown_variables() -> None:
    rules = [{"ruleId": "big", "expression": "$amount > 10", "outcomes": ["x"]}]
    with pytest.raises(RuleSyntaxError, match=r"rule 'big': position 0: unknown variable \$amount"):
        RuleSet(rules, variables={"amt"})


def test_operators_and_precedence() -> None:
    amt = [10.0, 50.0, 200.0, 1000.0]
    cat = ["food", "shopping_net", "Shopping_Net", "gas"]
    assert evaluate("$amt > 100", amt=amt) == [False, False, True, True]
    assert evaluate("$amt * 2 + 10 >= 110", amt=amt) == [False, True, True, True]
    assert evaluate("($amt - 10) / 2 == 20", amt=amt) == [False, True, False, False]
    assert evaluate("-$amt < -100", amt=amt) == [False, False, True, True]
    assert evaluate("$amt > 100 or $amt < 20 and $amt > 15", amt=amt) == [
        False, False, True, True]
    assert evaluate("not $amt > 100", amt=amt) == [True, True, False, False]
    assert evaluate("!($amt > 100)", amt=amt) == [True, True, False, False]
    assert evaluate('$category in ["food", "gas"]', category=cat) == [True, False, False, True]
    assert evaluate('$category not in ["food", "gas"]', category=cat) == [
        False, True, True, False]
    assert evaluate('lowercase($category) == "shopping_net"', category=cat) == [
        False, True, True, False]
    assert evaluate('regex_match("^shop", $category)', category=cat) == [
        False, True, False, False]
    assert evaluate('$category != "food" AND $category != "gas"', category=cat) == [
        False, True, True, False]


def test_string_numbers_compare_as_numbers_and_empty_never_matches() -> None:
    # batch files carry every variable as text
    assert evaluate("$amt > 100", amt=["150.5", "99", "", "abc"]) == [True, False, False, False]


@pytest.mark.parametrize(
    ("score", "rule", "outcome"),
    [(0, "approve", "low_risk"), (700, "approve", "low_risk"), (700.5, "review", "medium_risk"),
     (701, "review", "medium_risk"), (900, "review", "medium_risk"),
     (901, "investigate", "high_risk"), (1000, "investigate", "high_risk")],
)
def test_default_rules_boundaries(score: float, rule: str, outcome: str) -> None:
    rules = RuleSet(default_rules("fraud_model"), variables={SCORE})
    hits = rules.matches({SCORE: np.array([score])}, 1)[:, 0]
    assert rules.rule_results(hits) == [{"ruleId": rule, "outcomes": [outcome]}]


def test_first_matched_versus_all_matched() -> None:
    rules = [
        {"ruleId": "very_high", "expression": f"${SCORE} > 950", "outcomes": ["block"]},
        {"ruleId": "high", "expression": f"${SCORE} > 900", "outcomes": ["high_risk"]},
        {"ruleId": "night", "expression": "$amt > 500", "outcomes": ["review", "high_risk"]},
    ]
    variables = {SCORE: np.array([960.0, 920.0, 100.0]), "amt": np.array([600.0, 10.0, 10.0])}
    first = RuleSet(rules, "FIRST_MATCHED").matches(variables, 3)
    every = RuleSet(rules, "ALL_MATCHED").matches(variables, 3)
    assert first.T.tolist() == [[True, False, False], [False, True, False], [False, False, False]]
    assert every.T.tolist() == [[True, True, True], [False, True, False], [False, False, False]]


def test_rules_from_execution_input() -> None:
    rules, mode = rules_from_input(None, "fraud_model")
    assert [r["ruleId"] for r in rules] == ["investigate", "review", "approve"]
    assert mode == "FIRST_MATCHED"
    rules, _ = rules_from_input({"high_risk_above": 950, "medium_risk_above": 600}, "m")
    assert rules[0]["expression"] == "$m_insightscore > 950"
    assert rules[1]["expression"] == "$m_insightscore > 600 and $m_insightscore <= 950"
    custom = {"rules": [{"rule_id": "x", "expression": "$amt > 1", "outcomes": ["o"]}],
              "rule_execution_mode": "ALL_MATCHED"}
    rules, mode = rules_from_input(custom, "m")
    assert rules == [{"ruleId": "x", "expression": "$amt > 1", "outcomes": ["o"]}]
    assert mode == "ALL_MATCHED"
    with pytest.raises(ValueError, match="must be below"):
        rules_from_input({"high_risk_above": 700, "medium_risk_above": 900}, "m")
