"""Realtime rule results are remembered per value combination: the same matches as evaluating
the rules, whatever was seen before and when the memo starts afresh."""

from __future__ import annotations

import numpy as np
import pytest

from fraudpipe.engine.realtime import _Parsed, _rule_rows
from fraudpipe.engine.rules import RuleSet
from fraudpipe.engine.scoring import Detector, ScoringModel

RULES = [
    {"ruleId": "night_shop", "outcomes": ["review"],
     "expression": '$category == "shopping_pos" and $fraud_model_insightscore > 500'},
    {"ruleId": "big", "outcomes": ["high_risk"], "expression": "$amt > 300"},
    {"ruleId": "rest", "outcomes": ["low_risk"], "expression": "$fraud_model_insightscore <= 900"},
]  # fmt: skip


def _item(category: str, amt: float) -> _Parsed:
    return _Parsed(ts=0, key="k", cents=int(amt * 100), imputed=[],
                   variables={"category": category, "amt": str(amt), "city_pop": "10"},
                   numbers={"amt": amt, "city_pop": 10.0})


@pytest.mark.parametrize("mode", ["FIRST_MATCHED", "ALL_MATCHED"])
def test_each_rows_matches_are_the_rules_matches(mode):
    model = ScoringModel("fraud_model", "1.0", "TRANSACTION_FRAUD_INSIGHTS", None)  # type: ignore[arg-type]
    detector = Detector("d", "1", [model], RuleSet(RULES, mode))
    rng = np.random.default_rng(3)
    for _ in range(40):
        # GIVEN a few events, values often repeated and sometimes new
        n = int(rng.integers(1, 6))
        items = [_item(str(rng.choice(["shopping_pos", "travel", ""])),
                       float(rng.choice([12.5, 301.0, 999.99]))) for _ in range(n)]
        scores = [{"fraud_model": float(rng.choice([100.0, 501.0, 901.0]))} for _ in range(n)]
        # WHEN their rule columns are asked for
        columns = detector.rules.matches_each(_rule_rows(detector, items, scores))
        # THEN they are the columns of evaluating the rules on all of them
        env = detector.rule_variables(
            {"category": np.array([i.variables["category"] for i in items], dtype=object)},
            {name: np.array([i.numbers[name] for i in items]) for name in ("amt", "city_pop")},
            {"fraud_model": np.array([s["fraud_model"] for s in scores])})
        expected = detector.rules.matches(env, n)
        for j in range(n):
            np.testing.assert_array_equal(columns[j], expected[:, j])


def test_rules_reading_no_variable_are_remembered_too():
    rules = RuleSet([{"ruleId": "always", "outcomes": ["x"], "expression": "1 > 0"},
                     {"ruleId": "never", "outcomes": ["y"], "expression": "1 < 0"}],
                    "ALL_MATCHED")
    for _ in range(2):  # evaluated, then remembered
        columns = rules.matches_each([{}, {"amt": 3.0}])
        assert [c.tolist() for c in columns] == [[True, False], [True, False]]
        results = rules.rule_results_each([{}, {"amt": 3.0}])
        assert results == [[{"ruleId": "always", "outcomes": ["x"]}]] * 2


@pytest.mark.parametrize("mode", ["FIRST_MATCHED", "ALL_MATCHED"])
def test_remembered_rule_results_are_the_results_of_the_columns(mode, monkeypatch):
    monkeypatch.setattr(RuleSet, "MEMO_SIZE", 5)  # the memo starts afresh several times
    rules = RuleSet(RULES, mode)
    rng = np.random.default_rng(4)
    for _ in range(30):
        rows = [{"category": str(rng.choice(["shopping_pos", "travel"])),
                 "amt": float(rng.choice([12.5, 301.0])),
                 "fraud_model_insightscore": float(rng.choice([100.0, 501.0, 901.0]))}
                for _ in range(int(rng.integers(1, 5)))]
        found = rules.rule_results_each(rows)
        assert found == [rules.rule_results(c) for c in rules.matches_each(rows)]
        found[0].append({"ruleId": "changed by a caller"})  # answers are the caller's own
        assert rules.rule_results_each(rows[:1]) == [rules.rule_results(
            rules.matches_each(rows[:1])[0])]
