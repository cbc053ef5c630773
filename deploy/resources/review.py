"""A2I resume wiring: EventBridge rule on human-loop status changes → the resume_review Lambda,
which stores the labels and sends SendTaskSuccess to the waiting execution.

When ``FlowDefinitionArn`` is given the rule matches only that flow's loops.
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import getatt, ref
from deploy.resources.context import Context

__all__ = ["DETAIL_TYPE", "resources"]

DETAIL_TYPE = "SageMaker A2I HumanLoop Status Change"


def resources(ctx: Context) -> dict[str, Any]:
    pattern = {"source": ["aws.sagemaker"], "detail-type": [DETAIL_TYPE],
               "detail": {"humanLoopStatus": ["Completed", "Failed", "Stopped"],
                          "flowDefinitionArn": {"Fn::If": [
                              "HasFlowDefinition", [ref("FlowDefinitionArn")],
                              ref("AWS::NoValue")]}}}
    return {
        "ReviewStatusRule": {"Type": "AWS::Events::Rule", "Properties": {
            "Description": "A2I human loop finished: resume the waiting fraudpipe execution",
            "State": "ENABLED", "EventPattern": pattern,
            "Targets": [{"Id": "resume-review",
                         "Arn": getatt("ResumeReviewFunction", "Arn")}]}},
        "ResumeReviewPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": getatt("ResumeReviewFunction", "Arn"),
            "Principal": "events.amazonaws.com",
            "SourceArn": getatt("ReviewStatusRule", "Arn")}},
    }
