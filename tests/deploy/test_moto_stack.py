"""Deploy the real template into moto's CloudFormation through ``deploy_stack``, find every piece,
run a whole execution whose handlers run in-process against moto, and tear it all down.

What the execution proves: every state of the pipeline runs to SUCCEEDED in the deployed
functions' environment, against the stack's crawler, Glue job, bucket and worker function:
crawl, ETL (moto's job run executes the repository's ETL through the harness in
``tests/deploy/moto_glue.py``), training by the engine worker Lambda (invoked asynchronously,
``tests/deploy/moto_lambda.py``) with the registry in the bucket's ``registry/`` prefix, the
quality gate, the detector version, batch scoring by the worker, the review decision, human
loops in A2I (botocore's Stubber: moto has no A2I) and the verdicts becoming labels; then the
deployed predict function, in a fresh container, scores with the version the run activated.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
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
from fraudpipe.engine.backends import reset_clients
from fraudpipe.local import moto_patches
from fraudpipe.review import factory as review_factory
from functions import predict as predict_function
from tests.conftest import load_event
from tests.deploy.moto_cfn import extended_cloudformation
from tests.deploy.moto_glue import RUNNER_ENV, glue_job_runs_run_the_etl
from tests.deploy.moto_lambda import asynchronous_events

STACK = "fp-test"
#: moto's CloudFormation warns for the types it skips (bucket policy, CSV classifier)
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
REGION = "us-east-1"
CRON = "cron(30 5 * * ? *)"
FLOW = f"arn:aws:sagemaker:{REGION}:123456789012:flow-definition/fraud-review"
#: every state of a run without waiting for reviewers, in order
FULL_RUN = [
    "StartCrawler", "WaitForCrawler", "GetCrawlerStatus", "CrawlerFinished?",
    "StartEtl", "WaitForEtl", "GetEtlStatus", "EtlFinished?",
    "CreateModelVersion", "WaitForTraining", "GetTrainingStatus", "TrainingFinished?",
    "QualityGate", "DeployDetectorVersion",
    "StartBatchPrediction", "WaitForBatch", "GetBatchStatus", "BatchFinished?",
    "ReviewNeeded?", "WaitForReviewers?", "StartHumanReview", "CollectVerdicts",
    "PipelineSucceeded",
]
#: a small run: 10 cards over 13 months (~10k rows), 2 human loops over the whole score range
#: (polls every 1 s of training and 0.2 s of batch at the test's time scale)
RUN_INPUT = {"raw_prefix": "input/", "min_auc": 0.5,
             "review": {"enabled": True, "min": 0, "max": 1000, "max_items": 2, "wait": False},
             "poll_seconds": {"crawler": 5, "etl": 10, "training": 1000, "batch": 200,
                              "simultaneous_training": 60}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    state_manager.set_transition("glue::crawl", {"progression": "immediate"})
    state_manager.set_transition("glue::job_run", {"progression": "immediate"})
    reset_clients()
    review_factory._client.cache_clear()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), \
                extended_cloudformation():
            yield aws_session(REGION)
    finally:
        state_manager.unset_transition("glue::crawl")
        state_manager.unset_transition("glue::job_run")
        reset_clients()
        review_factory._client.cache_clear()


def _image(ecr: object, names: StackNames) -> str:
    # the repository is really created (teardown must remove it); no Docker here to build
    return artifacts.ensure_repository(ecr, names) + ":test"


def _put_raw_files(s3: object, bucket: str) -> None:
    train, test = generate_kaggle_frames(customers=10, start="2019-06-01", end="2020-06-30",
                                         seed=7)  # fraud in both the fit and the last 15%
    for name, frame in (("fraudTrain.csv", train), ("fraudTest.csv", test)):
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        s3.put_object(Bucket=bucket, Key=f"input/{name}", Body=buffer.getvalue().encode())


def _stub_a2i(s3: object, bucket: str) -> Stubber:
    """A2I as botocore's Stubber answers it: two loops started; the first one answered
    'fraud' (its output.json in the bucket, as A2I writes it), the second still in progress."""
    a2i = review_factory._client("sagemaker-a2i-runtime")
    stub = Stubber(a2i)
    for n in (1, 2):
        stub.add_response("start_human_loop", {"HumanLoopArn": f"{FLOW}-loop-{n}"},
                          {"HumanLoopName": ANY, "FlowDefinitionArn": FLOW,
                           "HumanLoopInput": ANY})
    output = f"s3://{bucket}/review/a2i-output/loop-1/output.json"
    s3.put_object(Bucket=bucket, Key="review/a2i-output/loop-1/output.json", Body=json.dumps(
        {"humanAnswers": [{"answerContent": {"verdict": {"label": "Fraudulent"}}}]}).encode())
    for status in ("Completed", "InProgress"):
        described = {"CreationTime": "2026-11-24T17:00:00Z", "HumanLoopStatus": status,
                     "HumanLoopName": "loop", "HumanLoopArn": f"{FLOW}-loop",
                     "FlowDefinitionArn": FLOW}
        if status == "Completed":
            described["HumanLoopOutput"] = {"OutputS3Uri": output}
        stub.add_response("describe_human_loop", described, {"HumanLoopName": ANY})
    stub.activate()
    return stub


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


def _wait(session: boto3.Session, name: str, timeout: float = 180) -> dict:
    if os.environ.get(RUNNER_ENV) == "spark":  # a JVM start can take minutes on a busy machine
        timeout = 900
    deadline = time.monotonic() + timeout
    while True:
        info = describe_execution(STACK, REGION, name, session=session)
        if info["status"] != "RUNNING" or time.monotonic() > deadline:
            return info
        time.sleep(0.5)  # (each look reads the whole history: keep the GIL for the work)


@pytest.mark.slow
def test_deploy_run_and_teardown_on_moto(aws: boto3.Session, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the stack deployed with a schedule
    outputs = deploy_stack(aws, DeployRequest(stack=STACK, schedule=CRON,
                                              schedule_input={"min_auc": 0.8},
                                              flow_definition_arn=FLOW),
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
    moto_patches.clear_client_cache()
    for key_, value in functions[f"{STACK}-start-crawler"]["Environment"]["Variables"].items():
        monkeypatch.setenv(key_, value)
    monkeypatch.setenv("AWS_REGION", REGION)  # set by Lambda's runtime besides the variables
    monkeypatch.setenv("FRAUDPIPE_HOME", str(tmp_path / "lambda-tmp"))  # not a shared /tmp
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.001")
    _put_raw_files(s3, names.data_bucket)
    a2i = _stub_a2i(s3, names.data_bucket)
    with glue_job_runs_run_the_etl() as etl_runs, asynchronous_events() as worker_runs:
        name = start_execution(STACK, REGION, RUN_INPUT, session=aws)
        info = _wait(aws, name)
    a2i.deactivate()

    # THEN every state ran, in order, and the execution succeeded
    assert info["status"] == "SUCCEEDED", (info["error"], info["cause"])
    assert list(dict.fromkeys(info["states"])) == FULL_RUN  # (poll loops may go round)
    assert info["states"][-6:] == FULL_RUN[-6:]
    out = info["output"]
    # ... the crawl and the ETL against the stack's crawler and job
    assert len(glue.list_crawls(CrawlerName=outputs["CrawlerName"])["Crawls"]) == 1
    run = glue.get_job_runs(JobName=outputs["EtlJobName"])["JobRuns"][0]
    assert run["Arguments"]["--raw_path"] == f"s3://{names.data_bucket}/input/"
    assert run["Arguments"]["--training_output"] == out["etl"]["outputs"]["training"] == \
        f"s3://{names.data_bucket}/glue_transformed/{name}/train/fraudTrain.csv"
    assert [r["error"] for r in etl_runs] == [None]
    assert out["etl"]["counts"]["fraudTrain.csv"]["rows_in"] > 5_000
    # ... training and batch scoring in the worker function, two asynchronous invocations
    assert [t.name for t in worker_runs] == [f"lambda-event-{STACK}-run-engine-job"] * 2
    assert out["training"]["status"] == "TRAINING_COMPLETE"
    assert out["gate"]["passed"] is True and out["gate"]["auc"] >= 0.5
    registry = f"registry/models/fraud_model/versions/{out['training']['model_version']}"
    assert out["training"]["report"] == \
        f"s3://{names.data_bucket}/{registry}/report/index.html"
    for key_ in ("version.json", "model.txt", "metadata.json", "report/index.html"):
        s3.head_object(Bucket=names.data_bucket, Key=f"{registry}/{key_}")
    detector = json.loads(s3.get_object(
        Bucket=names.data_bucket, Key="registry/detectors/fraud_detector/detector.json")
        ["Body"].read())
    assert detector["activeVersion"] == out["detector"]["detector_version"] == "1"
    batch = out["batch"]
    assert batch["status"] == "COMPLETE" and batch["rows"] == 12 + 130
    assert sum(batch["outcome_counts"].values()) == batch["rows"] - batch["failed_rows"]
    results = s3.get_object(Bucket=names.data_bucket, Key=batch["output"][len(
        f"s3://{names.data_bucket}/"):])["Body"].read().decode()
    header = next(csv.reader(io.StringIO(results)))
    assert header[-4:] == ["MODEL_SCORES", "OUTCOMES", "RULE_RESULTS", "STATUS"]
    # ... two human loops, one verdict, which became a label for the next training
    assert out["review"]["loops_started"] == 2
    assert (out["verdicts"]["answered"], out["verdicts"]["labels_stored"]) == (1, 1)
    labels = s3.get_object(Bucket=names.data_bucket, Key="labels/labels.csv")["Body"].read()
    assert b",fraud," in labels
    assert [e["name"] for e in list_executions(STACK, REGION, session=aws)] == [name]

    # WHEN the deployed predict function gets an API Gateway request in a fresh container
    for key_, value in functions[f"{STACK}-predict"]["Environment"]["Variables"].items():
        monkeypatch.setenv(key_, value)
    container = tmp_path / "predict-container"
    monkeypatch.setenv("FRAUDPIPE_HOME", str(container))
    predict_function._predictor.cache_clear()
    try:
        answer = json.loads(lam.invoke(FunctionName=f"{STACK}-predict",
                                       Payload=json.dumps(load_event("predict_proxy")))
                            ["Payload"].read())
    finally:
        predict_function._predictor.cache_clear()

    # THEN it scores with the detector version the execution activated, read from S3
    assert answer["statusCode"] == 200, answer
    body = json.loads(answer["body"])
    assert body["detectorVersionId"] == "1" and 0 <= body["score"] <= 1000
    assert (container / "registry-cache" / registry.removeprefix("registry/") /
            "model.txt").exists()

    # WHEN teardown is not confirmed, nothing is touched
    with pytest.raises(StackOperationError, match="cancelled"):
        teardown_stack(aws, STACK, confirm=lambda bucket: False)
    assert s3.list_objects_v2(Bucket=names.data_bucket)["KeyCount"] > 2
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
