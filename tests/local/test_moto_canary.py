"""Canary: fails loudly, naming the attribute, if a moto upgrade moves a patched point.

fraudpipe.local.moto_patches replaces a few named attributes of moto; each only works while
moto still calls it the way it did when the patch was written. These tests check both that
the attribute exists and that its caller still calls it.
"""

from __future__ import annotations

import importlib
import inspect
import os
from importlib.metadata import version

import pytest

from fraudpipe.local import moto_patches
from fraudpipe.local.moto_patches import PATCH_POINTS

#: (module, function that must still call the patched point, text of the call)
CALLERS = [
    ("moto.awslambda.models", "LambdaFunction.invoke", "self._invoke_lambda("),
    (
        "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction._eval_body",
        "self._wait_interval(",
    ),
    (
        "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl",
        "RetrierDecl._eval_body",
        "time.sleep(",
    ),
    (
        "moto.stepfunctions.parser.asl.eval.event.event_manager",
        "EventManager.add_event",
        "self._publish_history_event(",
    ),
    (
        "moto.stepfunctions.parser.backend.execution_worker",
        "ExecutionWorker._execution_logic",
        "self._get_evaluation_environment()",
    ),
    (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
        "_invoke_lambda_function",
        "boto_client_for(",
    ),
    (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
        "exec_lambda_function",
        "boto_client_for(",
    ),
]


def _resolve(module: str, path: str) -> object:
    target: object = importlib.import_module(module)
    for part in path.split("."):
        assert hasattr(target, part), f"moto moved {module}.{path}: no attribute {part!r}"
        target = getattr(target, part)
    return target


def test_moto_is_the_pinned_version():
    assert version("moto") == "5.2.5", "moto upgraded: re-check every point in moto_patches"


@pytest.mark.parametrize(("module", "path"), PATCH_POINTS)
def test_patched_attribute_exists(module, path):
    _resolve(module, path)


@pytest.mark.parametrize(("module", "path", "call"), CALLERS)
def test_patched_attribute_is_still_called_by_moto(module, path, call):
    source = inspect.getsource(_resolve(module, path))  # type: ignore[arg-type]
    assert call in source, f"{module}.{path} no longer contains {call!r}: a patch is bypassed"


def test_original_signatures_still_match():
    from moto.awslambda.models import LambdaFunction
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    moto_patches.apply()
    assert list(inspect.signature(LambdaFunction.invoke).parameters)[:2] == ["self", "body"]
    assert "_history_event_list" in inspect.getsource(EventManager.__init__)


def test_patches_work_end_to_end(make_runtime, workspace):
    # GIVEN a Wait of 1000 s and a Retry interval of 100 s, scaled by 1/1000
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 1000, "Next": "Flaky"},
            "Flaky": {
                "Type": "Task",
                "Resource": "${FlakyFunctionArn}",
                "Parameters": {"execution_name.$": "$$.Execution.Name", "input.$": "$"},
                "Retry": [
                    {
                        "ErrorEquals": ["TransientError"],
                        "IntervalSeconds": 100,
                        "MaxAttempts": 3,
                        "BackoffRate": 1.0,
                    }
                ],
                "End": True,
            },
        },
    }
    runtime = make_runtime(
        definition=definition, functions={"FlakyFunctionArn": "tests.local.handlers.flaky"}
    )
    # WHEN it runs
    record = runtime.run({}, timeout=30)
    # THEN it finished quickly, the handler ran here, and every event reached the disk
    assert record["status"] == "SUCCEEDED", record
    assert record["output"] == {"ok": True, "attempts": 3}
    types = [e["type"] for e in runtime.events(record["name"])]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert types.count("LambdaFunctionFailed") == 2
    assert os.environ["FRAUDPIPE_TIME_SCALE"] == "0.001"
