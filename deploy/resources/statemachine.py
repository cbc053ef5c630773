"""The pipeline state machine: Standard type, inline definition from ``pipeline.asl.json`` with
the function ARNs filled by ``DefinitionSubstitutions``, logs to CloudWatch, X-Ray tracing.

Why inline (``Definition``) rather than an uploaded file: cfn-lint then validates the ASL with
the rest of the template. Execution data is not logged (``IncludeExecutionData: false``): state
data carries card numbers and names.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.cfn import arn, assume_role, getatt, policy, ref, statement, sub
from deploy.functions import FUNCTION_SPECS, logical_id, state_function_modules
from deploy.resources.context import STATE_MACHINE, Context
from deploy.resources.lambdas import PIPELINE_NAME, function_name
from statemachines.pipeline import ASL_PATH

__all__ = ["definition", "resources"]

LOG_GROUP = "/aws/vendedlogs/states/${AWS::StackName}-pipeline"


def definition() -> dict[str, Any]:
    """The ASL the runtime engineer generates (never edited here)."""
    return json.loads(ASL_PATH.read_text(encoding="utf-8"))


def _role() -> dict[str, Any]:
    functions = []
    for module in state_function_modules():
        name = function_name(FUNCTION_SPECS[module])
        functions += [arn("lambda", f"function:{name}"), arn("lambda", f"function:{name}:*")]
    statements = [
        statement("InvokeHandlers", ["lambda:InvokeFunction"], functions),
        # CloudWatch Logs delivery for Step Functions is configured on "*" (AWS documents it so:
        # these actions have no resource-level permissions)
        statement("LogDelivery", ["logs:CreateLogDelivery", "logs:GetLogDelivery",
                                  "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                                  "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                                  "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
                  ["*"]),
        statement("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                              "xray:GetSamplingRules", "xray:GetSamplingTargets"], ["*"]),
    ]
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume_role(
            "states.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}),
        "Description": "fraudpipe pipeline state machine",
        "Policies": [policy("invoke-handlers-log-trace", statements)]}}


def resources(ctx: Context) -> dict[str, Any]:
    substitutions = {FUNCTION_SPECS[m].substitution: getatt(logical_id(m), "Arn")
                     for m in state_function_modules()}
    return {
        "StateMachineRole": _role(),
        "StateMachineLogGroup": {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": sub(LOG_GROUP),
                           "RetentionInDays": ref("LogRetentionDays")}},
        STATE_MACHINE: {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": sub(PIPELINE_NAME),
            "StateMachineType": "STANDARD",
            "RoleArn": getatt("StateMachineRole", "Arn"),
            "Definition": definition(),
            "DefinitionSubstitutions": substitutions,
            "LoggingConfiguration": {
                "Level": "ALL", "IncludeExecutionData": False,
                "Destinations": [{"CloudWatchLogsLogGroup": {
                    "LogGroupArn": getatt("StateMachineLogGroup", "Arn")}}]},
            "TracingConfiguration": {"Enabled": True},
        }},
    }
