"""The AWS side of start / executions / redrive and the credential checks, without moto's
CloudFormation: redrive through botocore's Stubber (moto has no RedriveExecution)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from deploy.errors import (
    AwsCredentialsError,
    AwsRegionError,
    ExecutionNotFoundError,
    StackNameError,
    StackNotFoundError,
)
from deploy.names import StackNames, check_stack_name
from deploy.operations import list_executions, redrive_execution, start_execution
from deploy.session import aws_session
from fraudpipe.errors import InputValidationError

ACCOUNT = "123456789012"


class StubbedSession:
    """A session whose clients carry Stubbers (only what operations.py reads)."""

    region_name = "eu-west-1"

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name=self.region_name)
                        for name in ("sts", "stepfunctions")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}
        self.stubbers["sts"].add_response(
            "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::1:user/u",
                                    "UserId": "u"})

    def client(self, name: str) -> Any:
        return self.clients[name]


def test_redrive_calls_redrive_execution_on_the_stack_execution() -> None:
    session = StubbedSession()
    arn = f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:prod-pipeline:run-1"
    when = dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)
    session.stubbers["stepfunctions"].add_response(
        "redrive_execution", {"redriveDate": when},
        {"executionArn": arn, "clientToken": ANY})
    with session.stubbers["sts"], session.stubbers["stepfunctions"]:
        result = redrive_execution("prod", None, "run-1", session=session)  # type: ignore[arg-type]
    assert result == {"name": "run-1", "redrive_date": when}
    session.stubbers["stepfunctions"].assert_no_pending_responses()


def test_redrive_of_a_running_execution_reports_aws_error() -> None:
    session = StubbedSession()
    session.stubbers["stepfunctions"].add_client_error(
        "redrive_execution", "ExecutionNotRedrivable", "Execution is RUNNING")
    with session.stubbers["sts"], session.stubbers["stepfunctions"], \
            pytest.raises(session.clients["stepfunctions"].exceptions.ExecutionNotRedrivable):
        redrive_execution("prod", None, "run-1", session=session)  # type: ignore[arg-type]


def test_start_refuses_a_bad_input_before_calling_step_functions() -> None:
    session = StubbedSession()  # no start_execution response stubbed: a call would fail loudly
    with session.stubbers["sts"], session.stubbers["stepfunctions"], \
            pytest.raises(InputValidationError, match="min_auc"):
        start_execution("prod", None, {"min_auc": "high"}, session=session)  # type: ignore[arg-type]


def test_missing_region_is_refused_before_any_call(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Any) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AwsRegionError, match="--region"):
        aws_session()


def test_missing_credentials_are_refused_before_any_call(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AwsCredentialsError, match="credentials"):
        aws_session("eu-west-1")


@pytest.mark.parametrize("name", ["Prod", "a", "x" * 25, "1abc", "a--b", "ab-", "a_b"])
def test_stack_names_that_would_break_resource_names_are_refused(name: str) -> None:
    with pytest.raises(StackNameError, match="2-24 characters"):
        check_stack_name(name)


def test_derived_names_fit_aws_limits() -> None:
    names = StackNames("x" * 24, ACCOUNT, "ap-southeast-2")
    assert len(names.data_bucket) <= 63 and names.data_bucket == names.data_bucket.lower()
    assert len(f"{names.stack}-deploy-detector-version") <= 64
    assert names.state_machine_arn() == \
        f"arn:aws:states:ap-southeast-2:{ACCOUNT}:stateMachine:{'x' * 24}-pipeline"


def test_unknown_execution_is_named() -> None:
    session = StubbedSession()
    session.stubbers["stepfunctions"].add_client_error(
        "redrive_execution", "ExecutionDoesNotExist", "Execution does not exist")
    with session.stubbers["sts"], session.stubbers["stepfunctions"], \
            pytest.raises(ExecutionNotFoundError, match="'run-9' in prod-pipeline"):
        redrive_execution("prod", None, "run-9", session=session)  # type: ignore[arg-type]


def test_stack_without_state_machine_is_named() -> None:
    session = StubbedSession()
    session.stubbers["stepfunctions"].add_client_error(
        "list_executions", "StateMachineDoesNotExist", "State Machine Does Not Exist")
    with session.stubbers["sts"], session.stubbers["stepfunctions"], \
            pytest.raises(StackNotFoundError, match="is the stack prod deployed"):
        list_executions("prod", None, session=session)  # type: ignore[arg-type]
