"""Deploy the real template into moto's CloudFormation through ``deploy_stack``, find every piece,
run an execution whose handlers run in-process against moto S3 and Glue, and tear it all down.

What the execution proves: StartCrawler, GetCrawlerStatus (after a Wait) and StartEtl run in the
deployed functions' environment against the stack's crawler, job and bucket. moto's Glue job run
turns SUCCEEDED without running the script, so GetEtlStatus finds no ``counts.json`` and the
execution ends in ``GetEtlStatusFailed``: the states after the ETL need the real Glue job.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern
from moto.moto_api import state_manager

from deploy import artifacts
from deploy.errors import StackOperationError
from deploy.functions import FUNCTION_SPECS
from deploy.names import StackNames
from deploy.operations import describe_execution, list_executions, start_execution
from deploy.session import aws_session
from deploy.stack import DeployRequest, deploy_stack, teardown_stack
from fraudpipe.data import generate_kaggle_frames
from fraudpipe.local import moto_patches
from tests.deploy.moto_cfn import extended_cloudformation

STACK = "fp-test"
#: moto's CloudFormation warns for the types it skips (bucket policy, CSV classifier)
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
REGION = "us-east-1"
CRON = "cron(30 5 * * ? *)"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    state_manager.set_transition("glue::crawl", {"progression": "immediate"})
    state_manager.set_transition("glue::job_run", {"progression": "immediate"})
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), \
                extended_cloudformation():
            yield aws_session(REGION)
    finally:
        state_manager.unset_transition("glue::crawl")
        state_manager.unset_transition("glue::job_run")


def _image(ecr: object, names: StackNames) -> str:
    # the repository is really created (teardown must remove it); no Docker here to build
    return artifacts.ensure_repository(ecr, names) + ":test"


def _put_raw_files(s3: object, bucket: str) -> None:
    train, test = generate_kaggle_frames(customers=3, start="2020-01-01", end="2020-03-31")
    for name, frame in (("fraudTrain.csv", train.head(40)), ("fraudTest.csv", test.head(20))):
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        s3.put_object(Bucket=bucket, Key=f"input/{name}", Body=buffer.getvalue().encode())


def _a2i_event(status: str) -> dict:
    """The shape of the event A2I sends to EventBridge when a human loop changes status."""
    return {"version": "0", "id": "5c5b4e6a-0000-0000-0000-000000000000",
            "detail-type": "SageMaker A2I HumanLoop Status Change", "source": "aws.sagemaker",
            "account": "123456789012", "time": "2026-11-24T17:00:00Z", "region": REGION,
            "resources": [], "detail": {
                "creationTime": "2026-11-24T16:00:00Z", "humanLoopName": "loop-1",
                "humanLoopArn": f"arn:aws:sagemaker:{REGION}:123456789012:human-loop/loop-1",
                "flowDefinitionArn": f"arn:aws:sagemaker:{REGION}:123456789012:"
                                     "flow-definition/fraud-review",
                "humanLoopStatus": status,
                "humanLoopOutput": {"outputS3Uri": "s3://b/review/loop-1/output.json"}}}


def _wait(session: boto3.Session, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = describe_execution(STACK, REGION, name, session=session)
        if info["status"] != "RUNNING" or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


@pytest.mark.slow
def test_deploy_run_and_teardown_on_moto(aws: boto3.Session,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the stack deployed with a schedule
    outputs = deploy_stack(aws, DeployRequest(stack=STACK, schedule=CRON,
                                              schedule_input={"min_auc": 0.8}),
                           build_image=_image)
    names = StackNames(STACK, "123456789012", REGION)

    # THEN every piece is there
    assert outputs["DataBucketName"] == names.data_bucket
    assert outputs["StateMachineArn"] == names.state_machine_arn()
    assert outputs["ApiUrl"].endswith(".execute-api.us-east-1.amazonaws.com/prod/predict")
    sfn, lam, glue = aws.client("stepfunctions"), aws.client("lambda"), aws.client("glue")
    s3, iam, scheduler = aws.client("s3"), aws.client("iam"), aws.client("scheduler")
    definition = json.loads(sfn.describe_state_machine(
        stateMachineArn=outputs["StateMachineArn"])["definition"])
    assert definition["States"]["StartCrawler"]["Resource"] == \
        f"arn:aws:lambda:{REGION}:123456789012:function:{STACK}-start-crawler"
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert set(functions) == {f"{STACK}-{s.short_name}" for s in FUNCTION_SPECS.values()}
    crawler = glue.get_crawler(Name=outputs["CrawlerName"])["Crawler"]
    assert crawler["Targets"]["S3Targets"][0]["Path"] == f"s3://{names.data_bucket}/input/"
    job = glue.get_job(JobName=outputs["EtlJobName"])["Job"]
    script = job["Command"]["ScriptLocation"]
    assert script.startswith(f"s3://{names.artifacts_bucket}/{STACK}/glue/")
    bucket, key = script[5:].split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == \
        Path("glue/etl_job.py").read_bytes()
    assert glue.get_database(Name=names.glue_database)["Database"]["Name"] == "fraudpipe_fp_test"
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert len([r for r in roles if r.startswith(STACK)]) == len(FUNCTION_SPECS) + 3
    schedule = scheduler.get_schedule(Name=f"{STACK}-run")
    assert (schedule["State"], schedule["ScheduleExpression"]) == ("ENABLED", CRON)
    scheduled_input = json.loads(schedule["Target"]["Input"])
    assert scheduled_input["bucket"] == names.data_bucket and scheduled_input["min_auc"] == 0.8
    api = aws.client("apigateway")
    plan = api.get_usage_plans()["items"][0]
    assert plan["name"] == f"{STACK}-plan" and plan["apiStages"][0]["stage"] == "prod"
    key = api.get_api_keys()["items"][0]
    assert key["id"] == outputs["ApiKeyId"] and key["enabled"] is True
    assert [k["id"] for k in api.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == \
        [key["id"]]
    events = aws.client("events")
    rule = events.list_rules()["Rules"][0]
    target = events.list_targets_by_rule(Rule=rule["Name"])["Targets"][0]
    assert target["Arn"] == functions[f"{STACK}-resume-review"]["FunctionArn"]
    pattern = EventPattern.load(rule["EventPattern"])  # moto lacks TestEventPattern
    assert pattern.matches_event(_a2i_event("Completed"))
    assert not pattern.matches_event(_a2i_event("InProgress"))
    s3.head_bucket(Bucket=names.data_bucket)  # (moto's CloudFormation skips its settings)

    # WHEN an execution runs with the handlers in-process, in a deployed function's environment
    moto_patches.apply()
    for key_, value in functions[f"{STACK}-start-crawler"]["Environment"]["Variables"].items():
        monkeypatch.setenv(key_, value)
    monkeypatch.setenv("AWS_REGION", REGION)  # set by Lambda's runtime besides the variables
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.001")
    _put_raw_files(s3, names.data_bucket)
    name = start_execution(STACK, REGION, {"raw_prefix": "input/"}, session=aws)
    info = _wait(aws, name)

    # THEN the crawl and the ETL start ran against the stack's resources, and it stops where
    # moto's Glue job (which runs no script) leaves no counts file
    assert info["states"][:6] == ["StartCrawler", "WaitForCrawler", "GetCrawlerStatus",
                                  "CrawlerFinished?", "StartEtl", "WaitForEtl"]
    assert "GetEtlStatus" in info["states"]
    assert info["status"] == "FAILED" and info["states"][-1] == "GetEtlStatusFailed"
    crawl = glue.list_crawls(CrawlerName=outputs["CrawlerName"])["Crawls"]
    assert len(crawl) == 1
    run = glue.get_job_runs(JobName=outputs["EtlJobName"])["JobRuns"][0]
    assert run["Arguments"]["--raw_path"] == f"s3://{names.data_bucket}/input/"
    assert run["Arguments"]["--training_output"] == \
        f"s3://{names.data_bucket}/glue_transformed/{name}/train/fraudTrain.csv"
    assert [e["name"] for e in list_executions(STACK, REGION, session=aws)] == [name]

    # WHEN teardown is not confirmed, nothing is touched
    with pytest.raises(StackOperationError, match="cancelled"):
        teardown_stack(aws, STACK, confirm=lambda bucket: False)
    assert s3.list_objects_v2(Bucket=names.data_bucket)["KeyCount"] == 2
    assert len(lam.list_functions()["Functions"]) == len(FUNCTION_SPECS)

    # WHEN the stack is torn down
    removed = teardown_stack(aws, STACK, confirm=lambda bucket: bucket == names.data_bucket)

    # THEN nothing is left: stack resources, artifacts, image repository
    assert f"stack {STACK}" in removed and f"ecr:{names.ecr_repository}" in removed
    assert s3.list_buckets()["Buckets"] == []
    assert lam.list_functions()["Functions"] == []
    assert glue.get_crawlers()["Crawlers"] == [] and glue.get_jobs()["Jobs"] == []
    assert glue.get_databases()["DatabaseList"] == []
    assert sfn.list_state_machines()["stateMachines"] == []
    assert [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(STACK)] == []
    assert scheduler.list_schedules()["Schedules"] == []
    assert aws.client("apigateway").get_rest_apis()["items"] == []
    assert aws.client("events").list_rules()["Rules"] == []
    assert aws.client("logs").describe_log_groups()["logGroups"] == []
    assert aws.client("ecr").describe_repositories()["repositories"] == []
