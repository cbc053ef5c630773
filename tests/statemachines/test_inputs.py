"""Execution input: defaults filled, every problem reported as ``path: reason``."""

from __future__ import annotations

import pytest

from fraudpipe.errors import InputValidationError
from statemachines.inputs import defaults, validate_input


def _problems(raw: dict) -> list[str]:
    with pytest.raises(InputValidationError) as info:
        validate_input(raw)
    return info.value.problems


def test_empty_input_gets_every_documented_default():
    data = defaults()
    assert data["bucket"] == "fraudpipe-local" and data["raw_prefix"] == "input/"
    assert data["mode"] == "create" and data["model_version"] is None
    assert data["batch"] == {
        "mode": "sample",
        "fraud_samples": 12,
        "legit_samples": 130,
        "seed": 42,
    }
    assert data["review"] == {
        "enabled": True,
        "min": 700,
        "max": 900,
        "wait": False,
        "timeout_seconds": 3600,
        "max_items": 100,
    }
    assert data["poll_seconds"] == {
        "crawler": 5,
        "etl": 10,
        "training": 30,
        "batch": 10,
        "simultaneous_training": 60,
    }
    assert data["min_auc"] == 0.9 and data["engine"] == "builtin"
    assert data["on_simultaneous_training"] == "wait" and data["rules"] is None


def test_partial_nested_objects_keep_given_values_and_get_the_rest():
    data = validate_input({"review": {"wait": True}, "batch": {"mode": "full"}})
    assert data["review"]["wait"] is True and data["review"]["min"] == 700
    assert data["batch"] == {"mode": "full", "fraud_samples": 12, "legit_samples": 130, "seed": 42}


def test_validation_is_idempotent():
    once = validate_input({"mode": "update", "model_version": "1"})
    assert validate_input(once) == once


def test_review_min_above_max_is_refused_with_path_and_reason():
    assert _problems({"review": {"min": 950}}) == ["review.min: must be <= review.max"]


def test_every_schema_problem_is_listed_with_its_path():
    problems = _problems(
        {"mode": "retrain", "min_auc": 2, "batch": {"fraud_samples": -1}, "surprise": 1}
    )
    text = "\n".join(problems)
    assert "mode: 'retrain' is not one of ['create', 'update']" in text
    assert "min_auc: 2 is greater than the maximum of 1" in text
    assert "batch.fraud_samples: -1 is less than the minimum of 0" in text
    assert "(input): Additional properties are not allowed ('surprise' was unexpected)" in text


def test_update_needs_a_model_version():
    assert _problems({"mode": "update"}) == [
        "model_version: required when mode is 'update' (the major to update)"
    ]


def test_cutoffs_must_be_timestamps_in_order():
    assert _problems({"train_cutoff": "yesterday"}) == [
        "train_cutoff: 'yesterday' is not an ISO 8601 timestamp"
    ]
    assert _problems(
        {"train_cutoff": "2020-09-01T00:00:00Z", "test_cutoff": "2020-05-01T00:00:00Z"}
    ) == ["train_cutoff: must be <= test_cutoff"]


def test_rules_thresholds_or_rule_list():
    assert validate_input({"rules": {"high_risk_above": 950, "medium_risk_above": 600}})
    assert validate_input(
        {"rules": [{"rule_id": "big", "expression": "$amt > 1000", "outcomes": ["high_risk"]}]}
    )
    assert _problems({"rules": {"high_risk_above": 500, "medium_risk_above": 600}}) == [
        "rules.medium_risk_above: must be < rules.high_risk_above"
    ]


def test_non_object_input_is_refused():
    assert _problems([1, 2]) == ["(input): must be a JSON object, not list"]  # type: ignore[arg-type]


def test_schema_and_cross_field_problems_are_reported_together():
    problems = _problems({"mode": "update", "review": {"min": 950, "wait": "yes"}})
    assert "review.wait: 'yes' is not of type 'boolean'" in problems
    assert "review.min: must be <= review.max" in problems
    assert "model_version: required when mode is 'update' (the major to update)" in problems


def test_rules_problems_name_the_closest_shape():
    assert _problems({"rules": {"high_risk_above": "a", "medium_risk_above": 1}}) == [
        "rules.high_risk_above: 'a' is not of type 'number'"]
    assert _problems({"rules": [{"rule_id": "x", "expression": "", "outcomes": ["a"]}]}) == [
        "rules[0].expression: '' should be non-empty"]
