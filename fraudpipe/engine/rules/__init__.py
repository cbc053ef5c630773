"""Detector rules: parsing AFD-style expressions and choosing outcomes.

``RuleSet.evaluate(variables, n)`` returns, for each of ``n`` events, which rules matched;
``FIRST_MATCHED`` (AFD's default) keeps the first matching rule in order, ``ALL_MATCHED`` keeps
every matching rule. The default rules close the seed's gap at exactly 900::

    investigate  $fraud_model_insightscore > 900                                  -> high_risk
    review       $fraud_model_insightscore > 700 and $fraud_model_insightscore <= 900 -> medium_risk
    approve      $fraud_model_insightscore <= 700                                 -> low_risk
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

import numpy as np

from fraudpipe.engine.rules.evaluate import Compiled, compile_node
from fraudpipe.engine.rules.lexer import rule_error, tokenize
from fraudpipe.engine.rules.parser import Node, parse
from fraudpipe.errors import RuleSyntaxError

__all__ = [
    "EXECUTION_MODES",
    "Rule",
    "RuleSet",
    "RuleSyntaxError",
    "default_rules",
    "parse",
    "rules_from_input",
    "score_variable",
    "tokenize",
]

EXECUTION_MODES = ("FIRST_MATCHED", "ALL_MATCHED")


def score_variable(model_id: str) -> str:
    """The rule variable holding a model's score, e.g. ``fraud_model_insightscore``."""
    return f"{model_id}_insightscore"


def default_rules(model_id: str, high: float = 900, medium: float = 700) -> list[dict[str, Any]]:
    """investigate / review / approve on the model score (no gap at exactly ``high``)."""
    if medium >= high:
        raise ValueError(f"medium_risk_above ({medium}) must be below high_risk_above ({high})")
    var = f"${score_variable(model_id)}"
    h, m = f"{high:g}", f"{medium:g}"
    return [
        {"ruleId": "investigate", "expression": f"{var} > {h}", "outcomes": ["high_risk"]},
        {"ruleId": "review", "expression": f"{var} > {m} and {var} <= {h}",
         "outcomes": ["medium_risk"]},
        {"ruleId": "approve", "expression": f"{var} <= {m}", "outcomes": ["low_risk"]},
    ]


def rules_from_input(
    value: Any, model_id: str
) -> tuple[list[dict[str, Any]], str]:
    """``(rules, execution mode)`` from the execution input's ``rules`` (None = defaults).

    Accepts ``{"high_risk_above": 900, "medium_risk_above": 700}`` or a list of
    ``{"rule_id", "expression", "outcomes"}`` (camelCase accepted too), optionally wrapped as
    ``{"rules": [...], "rule_execution_mode": "ALL_MATCHED"}``.
    """
    mode = "FIRST_MATCHED"
    if value is None:
        return default_rules(model_id), mode
    if isinstance(value, dict) and "rules" in value:
        mode = str(value.get("rule_execution_mode") or mode)
        value = value["rules"]
    if isinstance(value, dict):
        mode = str(value.get("rule_execution_mode") or mode)
        high = float(value.get("high_risk_above", 900))
        medium = float(value.get("medium_risk_above", 700))
        return default_rules(model_id, high, medium), mode
    if not isinstance(value, list) or not value:
        raise ValueError("rules must be thresholds {high_risk_above, medium_risk_above} or a "
                         "non-empty list of {rule_id, expression, outcomes}")
    rules = []
    for index, item in enumerate(value):
        rule_id = item.get("rule_id") or item.get("ruleId")
        if not rule_id or "expression" not in item:
            raise ValueError(f"rules[{index}] needs rule_id and expression")
        rules.append({"ruleId": str(rule_id), "expression": str(item["expression"]),
                      "outcomes": [str(o) for o in item.get("outcomes") or []]})
    return rules, mode


@dataclass
class Rule:
    rule_id: str
    expression: str
    outcomes: list[str]
    tree: Node
    run: Compiled


class RuleSet:
    """Compiled rules of one detector version."""

    def __init__(self, rules: list[dict[str, Any]], mode: str = "FIRST_MATCHED",
                 variables: set[str] | None = None) -> None:
        """Parse every rule; unknown ``$variables`` are refused when ``variables`` is given."""
        if mode not in EXECUTION_MODES:
            raise ValueError(f"rule_execution_mode must be one of {EXECUTION_MODES}, not {mode!r}")
        if not rules:
            raise ValueError("a detector version needs at least one rule")
        self.mode = mode
        self.rules: list[Rule] = []
        seen: set[str] = set()
        for rule in rules:
            rule_id, expression = rule["ruleId"], rule["expression"]
            if rule_id in seen:
                raise ValueError(f"rule id {rule_id!r} appears twice")
            seen.add(rule_id)
            try:
                tree = parse(expression)
                for var in tree.variables():
                    if variables is not None and var.value not in variables:
                        raise rule_error(expression, var.pos, f"unknown variable ${var.value}")
            except RuleSyntaxError as exc:
                raise RuleSyntaxError(f"rule {rule_id!r}: {exc}") from exc
            self.rules.append(Rule(rule_id, expression, list(rule.get("outcomes") or []), tree,
                                   compile_node(tree)))

    @cached_property
    def used_variables(self) -> frozenset[str]:
        """Names of the ``$variables`` the rules read (so callers build only those); the rules
        never change after parsing, so this is worked out once per detector version."""
        return frozenset(str(var.value) for rule in self.rules
                         for var in rule.tree.variables())

    def matches(self, variables: dict[str, Any], n: int) -> np.ndarray:
        """Boolean matrix (rules x events) of the rules that matched, after the mode is applied."""
        hits = np.zeros((len(self.rules), n), dtype=bool)
        for i, rule in enumerate(self.rules):
            hits[i] = np.broadcast_to(np.asarray(rule.run(variables), dtype=bool), (n,))
        if self.mode == "FIRST_MATCHED":
            first = np.argmax(hits, axis=0)
            any_hit = hits.any(axis=0)
            hits[:] = False
            hits[first[any_hit], np.flatnonzero(any_hit)] = True
        return hits

    def matches_each(self, rows: list[dict[str, Any]]) -> list[np.ndarray]:
        """Each event's column of :meth:`matches`, the events given one by one as
        ``{variable: value}`` (a number or a string) of at least :attr:`used_variables`."""
        if not rows:
            return []
        env = {}
        for name in self.used_variables:
            values = [row[name] for row in rows]
            env[name] = np.array(values, dtype=object if isinstance(values[0], str) else float)
        hits = self.matches(env, len(rows))
        return [hits[:, i] for i in range(len(rows))]

    #: Value combinations :meth:`rule_results_each` remembers (then it starts afresh).
    MEMO_SIZE = 4096

    @cached_property
    def _memo_key(self) -> Callable[[dict[str, Any]], Any]:
        """A row's key in the memo: its values of the used variables (in a fixed order)."""
        names = sorted(self.used_variables)
        return itemgetter(*names) if names else lambda row: ()

    def rule_results(self, matched: np.ndarray) -> list[dict[str, Any]]:
        """AFD's ``ruleResults`` for one event's column of :meth:`matches`."""
        return [{"ruleId": rule.rule_id, "outcomes": list(rule.outcomes)}
                for rule, hit in zip(self.rules, matched, strict=True) if hit]

    def rule_results_each(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """:meth:`rule_results` of each row's :meth:`matches_each` column (new lists and dicts
        for every row, so a caller may change its answer).

        Why: evaluating the rules on numpy arrays costs ~60 µs however few the events, and a
        realtime server evaluates one or a few at a time. The rules never change and their
        result depends only on the values of the variables they read (the default rules read
        only the score, an integer 0-1000), so the matched rules' ids and outcomes of the
        value combinations seen are remembered (at most :data:`MEMO_SIZE`), only events with
        new ones are evaluated, together, and only the dicts are built per event.
        """
        memo = self._results_memo
        keys = list(map(self._memo_key, rows))
        found = [memo.get(key) for key in keys]
        new = [j for j, pairs in enumerate(found) if pairs is None]
        if new:
            columns = self.matches_each([rows[j] for j in new])
            if len(memo) + len(new) > self.MEMO_SIZE:
                memo.clear()
            for j, column in zip(new, columns, strict=True):
                found[j] = memo[keys[j]] = tuple(
                    (rule.rule_id, tuple(rule.outcomes))
                    for rule, hit in zip(self.rules, column, strict=True) if hit)
        return [[{"ruleId": rule_id, "outcomes": list(outcomes)} for rule_id, outcomes in pairs]
                for pairs in found]  # type: ignore[union-attr]

    @cached_property
    def _results_memo(self) -> dict[Any, tuple[tuple[str, tuple[str, ...]], ...]]:
        return {}
