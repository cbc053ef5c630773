"""The CloudFormation template of the whole pipeline, built in Python (``fraudpipe template``).

Plain CloudFormation (no SAM transform) so cfn-lint checks every resource, including the state
machine's inline definition, and moto can deploy it. Each area lives in
``deploy/resources/<area>.py``; this module adds the parameters, conditions and outputs.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.cfn import getatt, ref, sub
from deploy.resources import afd, api, glue, lambdas, review, schedule, statemachine, storage
from deploy.resources.context import ENGINES, STATE_MACHINE, Context

__all__ = ["ENGINES", "LOG_RETENTION_DAYS", "build_template", "template_json"]

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
AREAS = (storage, glue, lambdas, statemachine, api, schedule, review, afd)


def _parameters() -> dict[str, Any]:
    return {
        "ImageUri": {"Type": "String", "Description":
                     "ECR image of the handlers (built by fraudpipe deploy or deploy/image)"},
        "ArtifactsBucket": {"Type": "String", "Description": "Bucket holding the Glue script"},
        "GlueScriptKey": {"Type": "String", "Description": "Key of glue/etl_job.py"},
        "GlueSqlKey": {"Type": "String", "Description": "Key of glue/etl.sql"},
        "GlueDatabaseName": {"Type": "String", "Default": "fraudpipe",
                             "AllowedPattern": "^[a-z0-9_]{1,255}$"},
        "RawPrefix": {"Type": "String", "Default": "input/",
                      "Description": "Prefix of the raw CSVs in the data bucket (crawler target)"},
        "ScheduleExpression": {"Type": "String", "Default": "cron(0 6 * * ? *)",
                               "Description": "EventBridge Scheduler expression (UTC)"},
        "ScheduleState": {"Type": "String", "Default": "DISABLED",
                          "AllowedValues": ["ENABLED", "DISABLED"]},
        "ScheduleInput": {"Type": "String", "Default": "{}",
                          "Description": "Execution input (JSON) the schedule starts with"},
        "FlowDefinitionArn": {"Type": "String", "Default": "",
                              "Description": "A2I flow definition for human review (optional)"},
        "LogRetentionDays": {"Type": "Number", "Default": 30,
                             "AllowedValues": list(LOG_RETENTION_DAYS)},
    }


def _outputs() -> dict[str, Any]:
    return {
        "ApiUrl": {"Description": "GET this URL with the x-api-key header",
                   "Value": sub("https://${PredictApi}.execute-api.${AWS::Region}."
                                "${AWS::URLSuffix}/" + api.STAGE + "/predict")},
        "ApiKeyId": {"Description": "aws apigateway get-api-key --include-value --api-key <id>",
                     "Value": ref("PredictApiKey")},
        "StateMachineArn": {"Value": ref(STATE_MACHINE)},
        "DataBucketName": {"Value": ref("DataBucket")},
        "CrawlerName": {"Value": ref("RawCrawler")},
        "EtlJobName": {"Value": ref("EtlJob")},
        "GlueDatabaseName": {"Value": ref("GlueDatabase")},
        "ScheduleName": {"Value": ref("PipelineSchedule")},
        "StateMachineRoleArn": {"Value": getatt("StateMachineRole", "Arn")},
    }


def build_template(engine: str = "builtin") -> dict[str, Any]:
    """The template as a dict; ``engine='afd'`` adds the Fraud Detector resources."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    ctx = Context(engine=engine)
    resources: dict[str, Any] = {}
    for area in AREAS:
        part = area.resources(ctx)
        clash = set(part) & set(resources)
        if clash:
            raise RuntimeError(f"{area.__name__} redefines {sorted(clash)}")
        resources.update(part)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"fraudpipe: fraud-detection pipeline on Step Functions (engine {engine})",
        "Parameters": _parameters(),
        "Conditions": {"HasFlowDefinition": {
            "Fn::Not": [{"Fn::Equals": [ref("FlowDefinitionArn"), ""]}]}},
        "Resources": resources,
        "Outputs": _outputs(),
    }


def template_json(engine: str = "builtin") -> str:
    return json.dumps(build_template(engine), indent=2, sort_keys=False) + "\n"
