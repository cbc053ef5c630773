"""One Lambda per handler (container image, command = the handler), its log group and its role.

Why one role per function: each handler gets only what it touches (``deploy.functions``), scoped
to the stack's named resources. Why a container image: the handlers import pandas, pyarrow,
LightGBM, scikit-learn and DuckDB, about 0.5 GB unpacked, twice Lambda's 250 MB limit for a zip
with its layers (docs/deploy.md).
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import arn, assume_role, getatt, policy, ref, statement, sub
from deploy.functions import (
    CRAWLER,
    DATA_READ,
    DATA_WRITE,
    ENGINE,
    ETL,
    FUNCTION_SPECS,
    RESUME,
    REVIEW,
    FunctionSpec,
    logical_id,
)
from deploy.resources.context import Context
from deploy.resources.glue import CRAWLER_NAME, JOB_NAME
from fraudpipe.review.factory import FLOW_DEFINITION_ENV

__all__ = ["function_name", "resources"]

PIPELINE_NAME = "${AWS::StackName}-pipeline"
AFD_ROLE = "FraudDetectorDataRole"


def function_name(spec: FunctionSpec) -> str:
    return "${AWS::StackName}-" + spec.short_name


def _log_group(spec: FunctionSpec) -> str:
    return "/aws/lambda/" + function_name(spec)


def _needs(need: str, ctx: Context) -> list[dict[str, Any]]:
    """IAM statements for one need of a handler."""
    objects = [sub("${DataBucket.Arn}/*")]
    if need == CRAWLER:
        return [statement("Crawler", ["glue:StartCrawler", "glue:GetCrawler"],
                          [arn("glue", "crawler/" + CRAWLER_NAME)])]
    if need == ETL:
        return [statement("EtlJob", ["glue:StartJobRun", "glue:GetJobRun"],
                          [arn("glue", "job/" + JOB_NAME)])]
    if need == DATA_READ:
        return [statement("ListData", ["s3:ListBucket"], [getatt("DataBucket", "Arn")]),
                statement("ReadData", ["s3:GetObject"], objects)]
    if need == DATA_WRITE:
        return [statement("WriteData", ["s3:PutObject", "s3:DeleteObject"], objects)]
    if need == REVIEW:
        return [statement("HumanLoops", ["sagemaker:StartHumanLoop", "sagemaker:DescribeHumanLoop",
                                         "sagemaker:StopHumanLoop"],
                          [arn("sagemaker", "flow-definition/*"),
                           arn("sagemaker", "human-loop/*")])]
    if need == RESUME:
        return [statement("ResumeExecution", ["states:SendTaskSuccess", "states:SendTaskFailure",
                                              "states:SendTaskHeartbeat"],
                          [arn("states", "stateMachine:" + PIPELINE_NAME)])]
    if need == ENGINE and ctx.afd:
        return [
            statement("FraudDetector", _AFD_ACTIONS,
                      [arn("frauddetector", kind) for kind in _AFD_RESOURCES]),
            statement("PassDataRole", ["iam:PassRole"], [getatt(AFD_ROLE, "Arn")]),
        ]
    return []


#: the AFD resource types the engine creates or reads (the stack's event type and entity type)
_AFD_RESOURCES = ("detector/*", "detector-version/*", "model/*", "model-version/*",
                  "batch-prediction/*", "rule/*", "outcome/*", "variable/*", "label/*",
                  "event-type/credit_card_transaction", "entity-type/card")

#: exactly the AFD operations fraudpipe.engine.afd calls
_AFD_ACTIONS = [
    "frauddetector:CreateModel", "frauddetector:CreateModelVersion",
    "frauddetector:UpdateModelVersion", "frauddetector:GetModelVersion",
    "frauddetector:DescribeModelVersions", "frauddetector:UpdateModelVersionStatus",
    "frauddetector:GetRules", "frauddetector:CreateRule", "frauddetector:UpdateRuleVersion",
    "frauddetector:PutDetector", "frauddetector:PutOutcome",
    "frauddetector:CreateDetectorVersion", "frauddetector:GetDetectorVersion",
    "frauddetector:UpdateDetectorVersionStatus", "frauddetector:DescribeDetector",
    "frauddetector:CreateBatchPredictionJob", "frauddetector:GetBatchPredictionJobs",
    "frauddetector:GetEventPrediction",
]


def _role(spec: FunctionSpec, ctx: Context) -> dict[str, Any]:
    group = arn("logs", "log-group:" + _log_group(spec) + ":*")
    statements = [
        statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [group]),
        # X-Ray's write actions take no resource ARN: AWS only accepts "*" for them
        statement("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]
    for need in spec.needs:
        statements.extend(_needs(need, ctx))
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume_role("lambda.amazonaws.com"),
        "Description": f"fraudpipe {spec.module} handler",
        "Policies": [policy(spec.short_name, statements)]}}


def _environment(ctx: Context) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "FRAUDPIPE_BACKEND": "aws",
        "FRAUDPIPE_BUCKET": ref("DataBucket"),
        "FRAUDPIPE_HOME": "/tmp/fraudpipe",
        "FRAUDPIPE_ENGINE": ctx.engine,
        "FRAUDPIPE_CRAWLER_NAME": sub(CRAWLER_NAME),
        "FRAUDPIPE_GLUE_DATABASE": ref("GlueDatabaseName"),
        "FRAUDPIPE_ETL_JOB_NAME": sub(JOB_NAME),
        FLOW_DEFINITION_ENV: ref("FlowDefinitionArn"),
        "POWERTOOLS_SERVICE_NAME": "fraudpipe",
    }
    if ctx.afd:
        variables["FRAUDPIPE_AFD_ROLE_ARN"] = getatt(AFD_ROLE, "Arn")
    return {"Variables": variables}


def _function(spec: FunctionSpec, ctx: Context) -> dict[str, Any]:
    name = logical_id(spec.module)
    return {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": sub(function_name(spec)),
        "Description": spec.description,
        "PackageType": "Image",
        "Code": {"ImageUri": ref("ImageUri")},
        "ImageConfig": {"Command": [spec.handler]},
        "Architectures": ["x86_64"],
        "MemorySize": spec.memory,
        "Timeout": spec.timeout,
        "EphemeralStorage": {"Size": 2048 if spec.memory >= 2048 else 512},
        "Role": getatt(f"{name}Role", "Arn"),
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": {"LogGroup": ref(f"{name}LogGroup"), "LogFormat": "JSON"},
        "Environment": _environment(ctx),
    }}


def resources(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in FUNCTION_SPECS.values():
        name = logical_id(spec.module)
        out[f"{name}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": sub(_log_group(spec)),
                           "RetentionInDays": ref("LogRetentionDays")}}
        out[f"{name}Role"] = _role(spec, ctx)
        out[name] = _function(spec, ctx)
    return out
