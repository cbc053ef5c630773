"""Executions of a deployed stack's state machine: what ``fraudpipe start|executions|redrive``
do when given ``--stack`` (docs/contracts.md).

The state machine ARN is derived from the stack name, account and region (it is named
``<stack>-pipeline``), so no CloudFormation call is needed; the input is validated and defaulted
like a local run, with the stack's data bucket as ``bucket`` unless the input names one.
Each function takes an optional ``session`` (tests pass moto's or one with a Stubber).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError

from deploy.errors import ExecutionNotFoundError, StackNotFoundError
from deploy.names import StackNames
from deploy.session import aws_session
from statemachines.inputs import validate_input

__all__ = ["describe_execution", "list_executions", "redrive_execution", "start_execution"]


def _context(stack: str, region: str | None,
             session: boto3.Session | None) -> tuple[Any, StackNames]:
    session = session or aws_session(region)
    account = session.client("sts").get_caller_identity()["Account"]
    names = StackNames(stack, account, session.region_name)
    return session.client("stepfunctions"), names


@contextmanager
def _named_errors(names: StackNames, execution: str | None = None) -> Iterator[None]:
    """Step Functions' not-found errors as errors that name the stack / execution."""
    try:
        yield
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "StateMachineDoesNotExist":
            raise StackNotFoundError(
                f"no state machine {names.state_machine} in {names.region}: is the stack "
                f"{names.stack} deployed there?") from exc
        if code == "ExecutionDoesNotExist":
            raise ExecutionNotFoundError(
                f"no execution {execution!r} in {names.state_machine} ({names.region})") from exc
        raise


def _arn(names: StackNames, name: str) -> str:
    base = names.state_machine_arn()
    return base.replace(":stateMachine:", ":execution:") + f":{name}"


def start_execution(stack: str, region: str | None, input: dict[str, Any] | None,
                    name: str | None = None, session: boto3.Session | None = None) -> str:
    """Start an execution (input validated first); returns its name."""
    sfn, names = _context(stack, region, session)
    document = validate_input({"bucket": names.data_bucket, **(input or {})})
    name = name or f"run-{uuid.uuid4().hex[:12]}"
    with _named_errors(names):
        sfn.start_execution(stateMachineArn=names.state_machine_arn(), name=name,
                            input=json.dumps(document))
    return name


def list_executions(stack: str, region: str | None, status: str | None = None,
                    limit: int = 50, session: boto3.Session | None = None) -> list[dict[str, Any]]:
    """Newest first: ``name``, ``status``, ``start_date``, ``stop_date``, ``redrive_count``."""
    sfn, names = _context(stack, region, session)
    kwargs: dict[str, Any] = {"stateMachineArn": names.state_machine_arn(),
                              "maxResults": min(limit, 1000)}
    if status:
        kwargs["statusFilter"] = status
    with _named_errors(names):
        items = sfn.list_executions(**kwargs)["executions"]
    return [{"name": e["name"], "status": e["status"], "start_date": e.get("startDate"),
             "stop_date": e.get("stopDate"), "redrive_count": e.get("redriveCount", 0)}
            for e in items[:limit]]


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def describe_execution(stack: str, region: str | None, name: str,
                       session: boto3.Session | None = None) -> dict[str, Any]:
    """Status, input/output, error and cause, and the states that ran (from the history)."""
    sfn, names = _context(stack, region, session)
    arn = _arn(names, name)
    with _named_errors(names, name):
        info = sfn.describe_execution(executionArn=arn)
        events = _history(sfn, arn)
    states = [e["stateEnteredEventDetails"]["name"] for e in events
              if "stateEnteredEventDetails" in e]
    return {"name": name, "status": info["status"],
            "input": json.loads(info.get("input") or "null"),
            "output": json.loads(info["output"]) if info.get("output") else None,
            "error": info.get("error"), "cause": info.get("cause"),
            "start_date": info.get("startDate"), "stop_date": info.get("stopDate"),
            "redrive_count": info.get("redriveCount", 0), "states": states}


def redrive_execution(stack: str, region: str | None, name: str,
                      session: boto3.Session | None = None) -> dict[str, Any]:
    """RedriveExecution: re-run a failed/aborted/timed-out execution from where it failed."""
    sfn, names = _context(stack, region, session)
    with _named_errors(names, name):
        response = sfn.redrive_execution(executionArn=_arn(names, name),
                                         clientToken=uuid.uuid4().hex)
    return {"name": name, "redrive_date": response["redriveDate"]}
