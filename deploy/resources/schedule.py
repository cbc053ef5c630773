"""EventBridge Scheduler: start the pipeline on a cron with a fixed input, disabled unless asked.

The cron (``ScheduleExpression``), its state (``ScheduleState``) and the execution input
(``ScheduleInput``, already validated and defaulted by ``fraudpipe deploy``) are parameters.
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import assume_role, policy, ref, statement, sub
from deploy.resources.context import STATE_MACHINE, Context

__all__ = ["resources"]


def resources(ctx: Context) -> dict[str, Any]:
    role = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume_role(
            "scheduler.amazonaws.com",
            {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}),
        "Description": "EventBridge Scheduler starting fraudpipe executions",
        "Policies": [policy("start-pipeline", [
            statement("StartPipeline", ["states:StartExecution"], [ref(STATE_MACHINE)])])]}}
    schedule = {"Type": "AWS::Scheduler::Schedule", "Properties": {
        "Name": sub("${AWS::StackName}-run"),
        "Description": "Runs the fraudpipe pipeline",
        "ScheduleExpression": ref("ScheduleExpression"),
        "ScheduleExpressionTimezone": "UTC",
        "State": ref("ScheduleState"),
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": ref(STATE_MACHINE), "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                   "Input": ref("ScheduleInput"),
                   "RetryPolicy": {"MaximumRetryAttempts": 2,
                                   "MaximumEventAgeInSeconds": 3600}}}}
    return {"SchedulerRole": role, "PipelineSchedule": schedule}
