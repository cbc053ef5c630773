"""One Lambda per handler (container image, command = the handler), its log group and its role.

With the built-in engine, one more function: the engine worker, invoked asynchronously by
CreateModelVersion and StartBatchPrediction (``InvocationType=Event``), never retried by Lambda
(a failed job is recorded, not re-run), its events dropped after ``MAX_EVENT_AGE`` seconds in
the queue (the job then reads as FAILED: see ``fraudpipe.aws_jobs``). The engine's registry is
the data bucket's ``registry/`` prefix (``FRAUDPIPE_REGISTRY``).

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
    ENGINE_READ,
    ETL,
    RESUME,
    REVIEW,
    START_WORKER,
    WORKER_MODULE,
    WORKER_SPEC,
    FunctionSpec,
    function_specs,
    logical_id,
)
from deploy.resources.context import Context
from deploy.resources.glue import CRAWLER_NAME, JOB_NAME
from fraudpipe.aws_jobs import MAX_EVENT_AGE
from fraudpipe.engine.backends import REGISTRY_ENV, TTL_ENV, WORKER_ENV
from fraudpipe.review.factory import FLOW_DEFINITION_ENV

__all__ = ["function_name", "resources"]

PIPELINE_NAME = "${AWS::StackName}-pipeline"
AFD_ROLE = "FraudDetectorDataRole"
#: the built-in engine's registry in the data bucket (fraudpipe.engine.s3_registry)
REGISTRY_PREFIX = "registry"
#: seconds the predict function reuses the ACTIVE detector version before re-reading it
DETECTOR_TTL_SECONDS = 10


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
    if need in (ENGINE, ENGINE_READ) and ctx.afd:
        return [
            statement("FraudDetector", _AFD_ACTIONS,
                      [arn("frauddetector", kind) for kind in _AFD_RESOURCES]),
            statement("PassDataRole", ["iam:PassRole"], [getatt(AFD_ROLE, "Arn")]),
        ]
    if need in (ENGINE, ENGINE_READ):
        return _registry_statements(write=need == ENGINE)
    if need == START_WORKER and not ctx.afd:
        name = function_name(WORKER_SPEC)
        return [statement("StartEngineWorker", ["lambda:InvokeFunction"],
                          [arn("lambda", f"function:{name}")])]
    return []


def _registry_statements(write: bool) -> list[dict[str, Any]]:
    """The built-in engine's S3 registry: its prefix only (records, lock, model files, jobs)."""
    records = [sub("${DataBucket.Arn}/" + REGISTRY_PREFIX + "/*")]
    listing = {"Sid": "ListRegistry", "Effect": "Allow", "Action": ["s3:ListBucket"],
               "Resource": [getatt("DataBucket", "Arn")],
               "Condition": {"StringLike": {"s3:prefix": [REGISTRY_PREFIX + "/*"]}}}
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    return [listing, statement("Registry" if write else "ReadRegistry", actions, records)]


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


def _environment(spec: FunctionSpec, ctx: Context) -> dict[str, Any]:
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
    else:
        variables[REGISTRY_ENV] = sub("s3://${DataBucket}/" + REGISTRY_PREFIX)
        variables[WORKER_ENV] = sub(function_name(WORKER_SPEC))
    if ENGINE_READ in spec.needs:
        variables[TTL_ENV] = str(DETECTOR_TTL_SECONDS)
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
        "EphemeralStorage": {"Size": spec.ephemeral or (2048 if spec.memory >= 2048 else 512)},
        "Role": getatt(f"{name}Role", "Arn"),
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": {"LogGroup": ref(f"{name}LogGroup"), "LogFormat": "JSON"},
        "Environment": _environment(spec, ctx),
    }}


def resources(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in function_specs(ctx.engine):
        name = logical_id(spec.module)
        out[f"{name}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": sub(_log_group(spec)),
                           "RetentionInDays": ref("LogRetentionDays")}}
        out[f"{name}Role"] = _role(spec, ctx)
        out[name] = _function(spec, ctx)
    if not ctx.afd:
        out[logical_id(WORKER_MODULE) + "EventInvokeConfig"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {"FunctionName": ref(logical_id(WORKER_MODULE)), "Qualifier": "$LATEST",
                           "MaximumRetryAttempts": 0,
                           "MaximumEventAgeInSeconds": MAX_EVENT_AGE}}
    return out
