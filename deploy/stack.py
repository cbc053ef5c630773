"""Create or update the stack and wait; tear it down with everything deploy created for it.

Clients come from a session checked by :func:`deploy.session.aws_session`; tests pass moto's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from deploy import artifacts
from deploy.errors import StackNotFoundError, StackOperationError
from deploy.names import StackNames
from deploy.template import template_json
from statemachines.inputs import validate_input

__all__ = ["DeployRequest", "deploy_stack", "stack_names", "stack_outputs", "teardown_stack"]

WAIT = {"Delay": 10, "MaxAttempts": 360}
CAPABILITIES = ["CAPABILITY_IAM"]


@dataclass
class DeployRequest:
    """What ``fraudpipe deploy`` was asked for."""

    stack: str
    engine: str = "builtin"
    image_uri: str | None = None
    schedule: str | None = None
    schedule_input: dict[str, Any] = field(default_factory=dict)
    flow_definition_arn: str = ""
    log_retention_days: int = 30


def stack_names(session: boto3.Session, stack: str) -> StackNames:
    account = session.client("sts").get_caller_identity()["Account"]
    return StackNames(stack, account, session.region_name)


def _exists(cfn: Any, stack: str) -> bool:
    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return status != "DELETE_COMPLETE"


def _failures(cfn: Any, stack: str) -> str:
    events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events
               if e.get("ResourceStatus", "").endswith("FAILED")]
    return "; ".join(reasons[:5]) or "no failure reason recorded"


def _wait(cfn: Any, waiter: str, stack: str) -> None:
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)
    except WaiterError as exc:
        raise StackOperationError(f"stack {stack}: {waiter} failed: {_failures(cfn, stack)}") \
            from exc


def stack_outputs(cfn: Any, stack: str) -> dict[str, str]:
    try:
        description = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        raise StackNotFoundError(f"stack {stack} does not exist") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}


def _schedule_input(request: DeployRequest, names: StackNames) -> str:
    """The schedule's execution input: validated, defaulted, pointed at the stack's bucket."""
    raw = {"bucket": names.data_bucket, **request.schedule_input}
    return json.dumps(validate_input(raw), separators=(",", ":"))


def _parameters(request: DeployRequest, names: StackNames, extra: dict[str, str]) -> list[dict]:
    values = {
        **extra,
        "ImageUri": request.image_uri or "",
        "GlueDatabaseName": names.glue_database,
        "ScheduleState": "ENABLED" if request.schedule else "DISABLED",
        "FlowDefinitionArn": request.flow_definition_arn,
        "LogRetentionDays": str(request.log_retention_days),
    }
    if request.schedule:
        values["ScheduleExpression"] = request.schedule
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def deploy_stack(session: boto3.Session, request: DeployRequest,
                 build_image: Callable[[Any, StackNames], str] | None = None) -> dict[str, str]:
    """Upload artifacts, build the image unless ``image_uri`` is given, create or update the
    stack, wait, and return its outputs."""
    names = stack_names(session, request.stack)
    schedule_input = _schedule_input(request, names)  # refuse a bad input before any change
    s3, cfn = session.client("s3"), session.client("cloudformation")
    glue_parameters = {**artifacts.upload_glue_files(s3, names), "ScheduleInput": schedule_input}
    if not request.image_uri:
        if build_image is None:
            raise StackOperationError("no image: pass --image-uri or let deploy build one")
        request.image_uri = build_image(session.client("ecr"), names)
    arguments = {"StackName": request.stack, "TemplateBody": template_json(request.engine),
                 "Parameters": _parameters(request, names, glue_parameters),
                 "Capabilities": CAPABILITIES,
                 "Tags": [{"Key": "fraudpipe:stack", "Value": request.stack}]}
    if _exists(cfn, request.stack):
        try:
            cfn.update_stack(**arguments)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
        else:
            _wait(cfn, "stack_update_complete", request.stack)
    else:
        cfn.create_stack(**arguments, OnFailure="DELETE")
        _wait(cfn, "stack_create_complete", request.stack)
    return stack_outputs(cfn, request.stack)


def _empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object (and version) of ``bucket``; returns how many."""
    deleted = 0
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if items:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": items, "Quiet": True})
                deleted += len(items)
    except s3.exceptions.NoSuchBucket:
        return 0
    return deleted


def teardown_stack(session: boto3.Session, stack: str,
                   confirm: Callable[[str], bool]) -> list[str]:
    """Empty the data bucket (if ``confirm`` agrees), delete the stack, then the artifacts and
    image repository deploy created. Returns what was removed."""
    names = stack_names(session, stack)
    s3, cfn, ecr = session.client("s3"), session.client("cloudformation"), session.client("ecr")
    removed: list[str] = []
    if _exists(cfn, stack):
        bucket = stack_outputs(cfn, stack).get("DataBucketName", names.data_bucket)
        if not confirm(bucket):
            raise StackOperationError(f"teardown cancelled: s3://{bucket} was not emptied")
        count = _empty_bucket(s3, bucket)
        removed.append(f"{count} objects in s3://{bucket}")
        cfn.delete_stack(StackName=stack)
        _wait(cfn, "stack_delete_complete", stack)
        removed.append(f"stack {stack}")
    removed += artifacts.remove(s3, ecr, names)
    return removed
