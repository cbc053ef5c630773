"""``fraudpipe deploy`` (create, then update) and ``teardown --yes`` end to end on moto."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import typer
from moto import mock_aws
from typer.testing import CliRunner

from deploy.cli import register
from deploy.packaging import build_context, context_tag
from tests.deploy.moto_cfn import extended_cloudformation

#: moto's CloudFormation warns for the types it skips (bucket policy, CSV classifier)
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
REGION = "eu-west-1"
IMAGE = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/fraudpipe/fp-cli:abc123"


def _push_current_image() -> str:
    """Put an image tagged like the current code into the stack's repository; its tag."""
    with tempfile.TemporaryDirectory() as folder:
        tag = context_tag(build_context(Path(folder) / "image"))
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="fraudpipe/fp-cli")
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + hashlib.sha256(b"c").hexdigest()}})
    ecr.put_image(repositoryName="fraudpipe/fp-cli", imageManifest=manifest, imageTag=tag)
    return tag


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    app = typer.Typer()
    register(app)
    with mock_aws(), extended_cloudformation():
        yield app


@pytest.mark.slow
def test_deploy_update_and_teardown_commands(cli: typer.Typer, tmp_path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    # GIVEN a first deploy without a schedule
    first = runner.invoke(cli, ["deploy", "--stack", "fp-cli", "--region", REGION,
                                "--image-uri", IMAGE])
    assert first.exit_code == 0, first.output
    assert "StateMachineArn  arn:aws:states:eu-west-1:123456789012:stateMachine:fp-cli-pipeline" \
        in first.output
    assert f"DataBucketName   fp-cli-data-123456789012-{REGION}" in first.output
    assert "ApiUrl           https://" in first.output
    scheduler = boto3.client("scheduler", region_name=REGION)
    assert scheduler.get_schedule(Name="fp-cli-run")["State"] == "DISABLED"

    # WHEN deployed again with a schedule and an input, without --image-uri, the image of the
    # current code being already in the repository (immutable tags): the stack is updated and
    # nothing is built or pushed (no docker on PATH)
    tag = _push_current_image()
    monkeypatch.setenv("PATH", "/nonexistent")
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"min_auc": 0.85, "batch": {"mode": "full"}}))
    second = runner.invoke(cli, ["deploy", "--stack", "fp-cli", "--region", REGION,
                                 "--schedule", "rate(1 day)", "--input", str(run)])
    assert second.exit_code == 0, second.output
    assert "already pushed (code unchanged)" in second.output
    function = boto3.client("lambda", region_name=REGION).get_function(
        FunctionName="fp-cli-predict")
    assert function["Code"]["ImageUri"].endswith(f"fraudpipe/fp-cli:{tag}")
    schedule = scheduler.get_schedule(Name="fp-cli-run")
    assert (schedule["State"], schedule["ScheduleExpression"]) == ("ENABLED", "rate(1 day)")
    assert json.loads(schedule["Target"]["Input"])["batch"]["mode"] == "full"
    cfn = boto3.client("cloudformation", region_name=REGION)
    assert cfn.describe_stacks(StackName="fp-cli")["Stacks"][0]["StackStatus"] == \
        "UPDATE_COMPLETE"

    # THEN teardown --yes removes the stack and the artifacts deploy uploaded
    gone = runner.invoke(cli, ["teardown", "--stack", "fp-cli", "--region", REGION, "--yes"])
    assert gone.exit_code == 0, gone.output
    assert "removed stack fp-cli" in gone.output
    assert "removed s3://fraudpipe-artifacts-123456789012-eu-west-1\n" in gone.output + "\n"
    assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []
    assert boto3.client("lambda", region_name=REGION).list_functions()["Functions"] == []
    again = runner.invoke(cli, ["teardown", "--stack", "fp-cli", "--region", REGION, "--yes"])
    assert again.exit_code == 0 and again.output.strip() == "nothing to remove"


@pytest.mark.slow
def test_bad_input_file_is_refused_before_any_change(cli: typer.Typer, tmp_path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a short path: the error box does not wrap it
    (tmp_path / "run.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["deploy", "--stack", "fp-cli", "--region", REGION,
                                      "--image-uri", IMAGE, "--input", "run.json"])
    assert result.exit_code == 2 and "run.json" in result.output
    assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []


@pytest.mark.slow
def test_invalid_schedule_input_is_refused_by_field(cli: typer.Typer, tmp_path) -> None:
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"mode": "sometimes"}))
    result = CliRunner().invoke(cli, ["deploy", "--stack", "fp-cli", "--region", REGION,
                                      "--image-uri", IMAGE, "--input", str(run)])
    assert result.exit_code == 1 and "mode" in result.output and "Traceback" not in result.output
    assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []


@pytest.mark.slow
def test_deploy_without_docker_or_image_says_what_to_do(cli: typer.Typer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker binary to find
    result = CliRunner().invoke(cli, ["deploy", "--stack", "fp-cli", "--region", REGION])
    assert result.exit_code == 1
    assert "docker is not installed" in result.output and "--image-uri" in result.output
    # the repository deploy created for the image is there for the next attempt
    repos = boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repos] == ["fraudpipe/fp-cli"]
