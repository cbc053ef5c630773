"""The local runtime on compact state machines: history on disk, redrive, abandoned runs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from fraudpipe.local.history import ExecutionStore
from fraudpipe.local.redrive import plan_redrive
from fraudpipe.local.runtime import (
    ExecutionAlreadyExistsError,
    ExecutionNotRedrivableError,
    LocalRuntime,
)
from fraudpipe.local.summary import state_runs
from tests.local.handlers import calls

P = {"execution_name.$": "$$.Execution.Name", "input.$": "$"}
FUNCTIONS = {
    "OkFunctionArn": "tests.local.handlers.ok",
    "FailOnceFunctionArn": "tests.local.handlers.fail_once_then_ok",
    "SlowFunctionArn": "tests.local.handlers.slow",
}


def _machine(catch: bool) -> dict:
    second = {
        "Type": "Task",
        "Resource": "${FailOnceFunctionArn}",
        "Parameters": P,
        "ResultPath": "$.second",
        "Next": "Third",
    }
    states = {
        "First": {
            "Type": "Task",
            "Resource": "${OkFunctionArn}",
            "Parameters": P,
            "ResultPath": "$.first",
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Second"},
        "Second": second,
        "Third": {"Type": "Pass", "Result": "done", "ResultPath": "$.third", "End": True},
    }
    if catch:
        second["Catch"] = [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "SecondFailed"}
        ]
        states["SecondFailed"] = {
            "Type": "Fail",
            "ErrorPath": "$.error.Error",
            "CausePath": "States.Format('Second failed: {}', $.error.Cause)",
        }
    return {"StartAt": "First", "States": states}


def test_history_is_persisted_with_state_inputs_and_outputs(make_runtime, workspace):
    runtime = make_runtime(definition=_machine(catch=False), functions=FUNCTIONS)
    record = runtime.run({"n": 1}, timeout=30)
    folder = workspace.executions_dir / record["name"]
    stored = json.loads((folder / "execution.json").read_text())
    assert stored["status"] == "FAILED" and stored["error"] == "ValueError"
    assert stored["input"] == {"n": 1} and stored["redrive_count"] == 0
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    entered = [e for e in events if e["type"] == "TaskStateEntered"]
    assert json.loads(entered[1]["stateEnteredEventDetails"]["input"])["first"]["ok"] is True
    assert events[-1]["type"] == "ExecutionFailed"
    assert json.loads((folder / "definition.asl.json").read_text())["StartAt"] == "First"


def test_redrive_after_uncaught_failure_reruns_only_the_failed_state(make_runtime):
    runtime = make_runtime(definition=_machine(catch=False), functions=FUNCTIONS)
    name = runtime.run({"n": 1}, timeout=30)["name"]
    # WHEN redriven (the handler now succeeds)
    assert runtime.redrive(name) == name
    record = runtime.wait(name, timeout=30)
    # THEN same execution, one more redrive, First not re-run, output carries First's result
    assert record["status"] == "SUCCEEDED" and record["redrive_count"] == 1
    assert record["redrive_from"] == "Second"
    assert calls("ok", name) == 1 and calls("fail_once", name) == 2
    assert record["output"]["first"]["calls"] == 1 and record["output"]["third"] == "done"
    events = runtime.events(name)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events].count("ExecutionStarted") == 1
    redriven = next(e for e in events if e["type"] == "ExecutionRedriven")
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    runs = state_runs(events, record["status"])
    assert [(r["name"], r["status"]) for r in runs] == [
        ("First", "SUCCEEDED"),
        ("Pause", "SUCCEEDED"),
        ("Second", "FAILED"),
        ("Second", "SUCCEEDED"),
        ("Third", "SUCCEEDED"),
    ]


def test_redrive_after_a_caught_failure_restarts_the_task_not_the_fail_state(make_runtime):
    runtime = make_runtime(definition=_machine(catch=True), functions=FUNCTIONS)
    first = runtime.run({}, timeout=30)
    assert first["error"] == "ValueError"
    assert first["cause"].startswith("Second failed: ")
    runtime.redrive(first["name"])
    record = runtime.wait(first["name"], timeout=30)
    assert record["status"] == "SUCCEEDED" and record["redrive_from"] == "Second"
    assert "error" not in record["output"]  # restarted with the task's own input


def test_only_failed_timed_out_or_aborted_executions_can_be_redriven(make_runtime):
    runtime = make_runtime(
        definition={"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, functions={}
    )
    name = runtime.run({}, timeout=30)["name"]
    with pytest.raises(ExecutionNotRedrivableError, match="SUCCEEDED"):
        runtime.redrive(name)


def test_running_execution_of_a_dead_process_reads_as_aborted(workspace):
    # GIVEN an execution recorded as RUNNING by a process that has exited
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store = ExecutionStore(workspace)
    store.create(
        "ghost",
        {
            "name": "ghost",
            "status": "RUNNING",
            "input": {},
            "owner_pid": int(child.stdout),
            "owner_start": 1,
            "redrive_count": 0,
            "start_date": "2026-01-01T00:00:00.000Z",
        },
        json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
    )
    store.append_event(
        "ghost",
        {
            "id": 1,
            "previousEventId": 0,
            "type": "ExecutionStarted",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "executionStartedEventDetails": {"input": "{}"},
        },
    )
    # WHEN listed
    records = LocalRuntime(
        workspace, definition={"StartAt": "A", "States": {}}, functions={}
    ).list_executions()
    # THEN it is ABORTED, with an event saying why, and can be redriven
    assert records[0]["status"] == "ABORTED" and records[0]["error"] == "OwnerExited"
    assert store.events("ghost")[-1]["type"] == "ExecutionAborted"
    assert plan_redrive(
        json.loads(store.definition_path("ghost").read_text()), store.events("ghost")
    ) == ("A", {})


def test_two_executions_at_once_keep_separate_histories(make_runtime):
    runtime = make_runtime(definition=_machine(catch=True), functions=FUNCTIONS)
    names: list[str] = []
    threads = [
        threading.Thread(target=lambda i=i: names.append(runtime.start_execution({"i": i})))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [runtime.wait(name, timeout=30) for name in names]
    assert len(set(names)) == 2
    for record in records:
        assert record["error"] == "ValueError"  # each failed on its own first call
        assert calls("fail_once", record["name"]) == 1
        started = runtime.events(record["name"])[0]
        assert json.loads(started["executionStartedEventDetails"]["input"]) == record["input"]


def test_duplicate_name_is_refused(make_runtime):
    runtime = make_runtime(
        definition={"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, functions={}
    )
    runtime.run({}, name="same", timeout=30)
    with pytest.raises(ExecutionAlreadyExistsError, match="already exists"):
        runtime.start_execution({}, name="same")


def test_pipeline_runtime_refuses_invalid_input_before_starting(make_runtime, workspace):
    from fraudpipe.errors import InputValidationError

    runtime = make_runtime()
    with pytest.raises(InputValidationError, match=r"review.min: must be <= review.max"):
        runtime.start_execution({"review": {"min": 990}})
    assert not workspace.executions_dir.exists() or not any(workspace.executions_dir.iterdir())
