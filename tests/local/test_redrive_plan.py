"""Where a redrive restarts, decided from history events alone."""

from __future__ import annotations

import json

import pytest

from fraudpipe.local.redrive import RedrivePlanError, plan_redrive
from statemachines.pipeline import REDRIVE_FROM, build_definition

DEFINITION = build_definition()


def entered(name: str, data: dict, kind: str = "Task") -> dict:
    return {
        "type": f"{kind}StateEntered",
        "stateEnteredEventDetails": {"name": name, "input": json.dumps(data)},
    }


def test_poll_loop_failure_restarts_the_job_with_its_input():
    events = [
        entered("CreateModelVersion", {"step": 1}),
        entered("WaitForTraining", {"step": 2}, "Wait"),
        entered("GetTrainingStatus", {"step": 3}),
        entered("TrainingFinished?", {"step": 4}, "Choice"),
        entered("TrainingFailed", {"step": 5}, "Fail"),
    ]
    assert plan_redrive(DEFINITION, events, REDRIVE_FROM) == ("CreateModelVersion", {"step": 1})


def test_caught_task_failure_restarts_the_task():
    events = [
        entered("QualityGate", {"gate": "in"}),
        entered("QualityGateFailed", {"gate": "in", "error": {}}, "Fail"),
    ]
    assert plan_redrive(DEFINITION, events, REDRIVE_FROM) == ("QualityGate", {"gate": "in"})


def test_interrupted_wait_restarts_where_it_stopped():
    events = [entered("StartEtl", {"a": 1}), entered("WaitForEtl", {"a": 2}, "Wait")]
    assert plan_redrive(DEFINITION, events) == ("WaitForEtl", {"a": 2})


def test_no_state_entered_restarts_from_the_beginning_with_the_execution_input():
    events = [
        {
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": json.dumps({"x": 1})},
        }
    ]
    assert plan_redrive(DEFINITION, events) == ("StartCrawler", {"x": 1})


def test_unknown_state_is_refused():
    with pytest.raises(RedrivePlanError, match="NotAState"):
        plan_redrive(DEFINITION, [entered("NotAState", {})])
