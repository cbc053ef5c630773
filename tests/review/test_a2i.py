"""The A2I path: StartHumanLoop / DescribeHumanLoop (botocore Stubber), bookkeeping in S3 (moto),
output.json parsing, and the resume Lambda's SendTaskSuccess (Stubber)."""

from __future__ import annotations

import copy
import csv
import io
import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from fraudpipe.errors import ReviewError
from fraudpipe.review.a2i import A2IReviewer, parse_answer
from fraudpipe.review.a2i_events import handle_status_change
from fraudpipe.review.labels import LabelStore, S3LabelFile
from fraudpipe.review.service import start_human_review
from tests.conftest import load_event
from tests.review.helpers import COLUMNS, batch_row

BUCKET = "fraudpipe-artefacts"
FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/fraudpipe-review"
EXECUTION = "exec-a2i-1"


def _answer(choice: str) -> dict:
    """answerContent as the crowd-radio-group of our worker template produces it."""
    buttons = {"fraudulent": "Fraudulent", "valid": "Valid",
               "needs_further_review": "Needs further review"}  # fmt: skip
    return {key: {label: label == choice} for key, label in buttons.items()}


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        a2i = boto3.client("sagemaker-a2i-runtime", region_name="us-east-1")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        with Stubber(a2i) as a2i_stub, Stubber(sfn) as sfn_stub:
            yield {"s3": s3, "a2i": a2i, "a2i_stub": a2i_stub, "sfn": sfn, "sfn_stub": sfn_stub}
            a2i_stub.assert_no_pending_responses()
            sfn_stub.assert_no_pending_responses()


def _put_batch_output(s3, scores: dict[str, float]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for event_id, score in scores.items():
        writer.writerow(batch_row(event_id, score))
    key = f"batch_output/{EXECUTION}/DetectorBatchResults.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=out.getvalue().encode())
    return f"s3://{BUCKET}/{key}"


def _open(s3):
    def open_uri(uri: str):
        bucket, _, key = uri[5:].partition("/")
        return io.StringIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())

    return open_uri


def _describe(name: str, status: str, output_uri: str | None = None) -> dict:
    response = {
        "CreationTime": "2026-11-24T16:55:00Z",
        "HumanLoopStatus": status,
        "HumanLoopName": name,
        "HumanLoopArn": f"arn:aws:sagemaker:us-east-1:123456789012:human-loop/{name}",
        "FlowDefinitionArn": FLOW,
    }
    if output_uri:
        response["HumanLoopOutput"] = {"OutputS3Uri": output_uri}
    return response


def _write_output(s3, name: str, choice: str) -> str:
    key = f"a2i/{name}/output.json"
    body = {"flowDefinitionArn": FLOW, "humanLoopName": name, "inputContent": {},
            "humanAnswers": [{"answerContent": _answer(choice), "workerId": "w1"}]}  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    return f"s3://{BUCKET}/{key}"


def test_loops_start_in_a2i_with_the_seed_input_content(aws):
    # GIVEN a batch output in S3 with two scores in the band and one outside
    uri = _put_batch_output(aws["s3"], {"ev-1": 820.0, "ev-2": 710.0, "ev-3": 950.0})
    reviewer = A2IReviewer(aws["a2i"], aws["s3"], BUCKET, FLOW)
    for _ in range(2):
        aws["a2i_stub"].add_response(
            "start_human_loop",
            {"HumanLoopArn": "arn:aws:sagemaker:us-east-1:123456789012:human-loop/x"},
            {"HumanLoopName": ANY, "FlowDefinitionArn": FLOW, "HumanLoopInput": ANY},
        )
    execution_input = {"review": {"wait": True, "timeout_seconds": 600}, "batch": {"output": uri}}
    # WHEN StartHumanReview runs with a task token
    result = start_human_review(
        EXECUTION, execution_input, reviewer, _open(aws["s3"]), task_token="tok-1"
    )
    # THEN one loop per in-band event was started, highest score first
    assert result["loops_started"] == 2 and result["waiting"]
    aws["a2i_stub"].assert_no_pending_responses()
    manifest = reviewer.manifest(EXECUTION)
    assert [loop["event_id"] for loop in manifest["loops"]] == ["ev-1", "ev-2"]
    assert manifest["task_token"] == "tok-1" and manifest["status"] == "WAITING"
    assert reviewer.loop_index(result["loop_names"][0])["execution_name"] == EXECUTION


def test_start_human_loop_sends_score_and_task_object(aws):
    from fraudpipe.review.reviewers import LoopRequest

    reviewer = A2IReviewer(aws["a2i"], aws["s3"], BUCKET, FLOW)
    task = {"trans_num": "ev-1", "amt": 512.25, "merchant": "m"}
    aws["a2i_stub"].add_response(
        "start_human_loop",
        {"HumanLoopArn": "arn:aws:sagemaker:us-east-1:123456789012:human-loop/l1"},
        {
            "HumanLoopName": "l1",
            "FlowDefinitionArn": FLOW,
            "HumanLoopInput": {
                "InputContent": json.dumps({"score": {"fraud_model": 820.0}, "taskObject": task})
            },
        },
    )
    assert reviewer.start_loop(LoopRequest("l1", EXECUTION, "ev-1", 820.0, task))
    # a loop that already exists (a retried start) is not an error
    aws["a2i_stub"].add_client_error("start_human_loop", "ConflictException", "exists")
    assert not reviewer.start_loop(LoopRequest("l1", EXECUTION, "ev-1", 820.0, task))
    aws["a2i_stub"].add_client_error("start_human_loop", "ValidationException", "bad arn")
    with pytest.raises(ReviewError, match="ValidationException: bad arn"):
        reviewer.start_loop(LoopRequest("l2", EXECUTION, "ev-2", 820.0, task))
    with pytest.raises(ReviewError, match="flow definition"):
        A2IReviewer(aws["a2i"], aws["s3"], BUCKET).start_loop(
            LoopRequest("l3", EXECUTION, "ev-3", 820.0, task)
        )


@pytest.mark.parametrize(
    ("content", "verdict"),
    [
        (_answer("Fraudulent"), "fraud"),
        (_answer("Valid"), "legit"),
        (_answer("Needs further review"), "escalate"),
        ({"verdict": {"label": "Valid"}}, "legit"),
        ({"nothing": {"chosen": False}}, None),
    ],
)
def test_answers_of_the_worker_template_are_parsed(content, verdict):
    assert parse_answer({"humanAnswers": [{"answerContent": content}]}) == verdict


def test_status_changes_store_labels_and_resume_when_all_loops_are_done(aws):
    # GIVEN an execution waiting on two A2I loops
    s3, a2i_stub, sfn_stub = aws["s3"], aws["a2i_stub"], aws["sfn_stub"]
    reviewer = A2IReviewer(aws["a2i"], s3, BUCKET, FLOW)
    labels = LabelStore(S3LabelFile(s3, BUCKET))
    for _ in range(2):
        a2i_stub.add_response("start_human_loop", {"HumanLoopArn": "arn:x"})
    uri = _put_batch_output(s3, {"ev-1": 820.0, "ev-2": 710.0})
    started = start_human_review(
        EXECUTION,
        {"review": {"wait": True}, "batch": {"output": uri}},
        reviewer,
        _open(s3),
        task_token="tok-9",
    )
    first, second = started["loop_names"]
    out1 = _write_output(s3, first, "Fraudulent")

    # WHEN the first loop completes
    event = load_event("resume_review")
    event["detail"]["humanLoopName"] = first
    a2i_stub.add_response("describe_human_loop", _describe(first, "Completed", out1))
    a2i_stub.add_response("describe_human_loop", _describe(first, "Completed", out1))
    a2i_stub.add_response("describe_human_loop", _describe(second, "InProgress"))
    result = handle_status_change(event, reviewer, labels, aws["sfn"])
    # THEN its label is stored, and the execution still waits for the second
    assert result["verdict"] == "fraud" and not result["resumed"]
    assert result["waiting_for"] == 1
    assert [(x.event_id, x.label, x.source) for x in labels.read()] == [("ev-1", "fraud", "review")]

    # WHEN the second completes
    out2 = _write_output(s3, second, "Valid")
    event2 = copy.deepcopy(event)
    event2["detail"]["humanLoopName"] = second
    a2i_stub.add_response("describe_human_loop", _describe(second, "Completed", out2))
    a2i_stub.add_response("describe_human_loop", _describe(first, "Completed", out1))
    a2i_stub.add_response("describe_human_loop", _describe(second, "Completed", out2))
    expected_output = {"answered": 2, "unanswered": 0, "loop_names": [first, second]}
    sfn_stub.add_response(
        "send_task_success", {}, {"taskToken": "tok-9", "output": json.dumps(expected_output)}
    )
    result = handle_status_change(event2, reviewer, labels, aws["sfn"])
    # THEN the execution is resumed with SendTaskSuccess, once
    assert result["resumed"] and result["answered"] == 2
    assert {x.event_id: x.label for x in labels.read()} == {"ev-1": "fraud", "ev-2": "legit"}
    assert reviewer.manifest(EXECUTION)["status"] == "RESUMED"
    # a repeated event (at-least-once delivery) sends nothing more
    a2i_stub.add_response("describe_human_loop", _describe(second, "Completed", out2))
    assert not handle_status_change(event2, reviewer, labels, aws["sfn"])["resumed"]


def test_a_timed_out_token_closes_the_wait(aws):
    s3, a2i_stub, sfn_stub = aws["s3"], aws["a2i_stub"], aws["sfn_stub"]
    reviewer = A2IReviewer(aws["a2i"], s3, BUCKET, FLOW)
    a2i_stub.add_response("start_human_loop", {"HumanLoopArn": "arn:x"})
    uri = _put_batch_output(s3, {"ev-1": 820.0})
    [name] = start_human_review(
        EXECUTION, {"review": {"wait": True}, "batch": {"output": uri}}, reviewer, _open(s3),
        task_token="tok-old",
    )["loop_names"]  # fmt: skip
    event = load_event("resume_review")
    event["detail"].update(humanLoopName=name, humanLoopStatus="Failed")
    a2i_stub.add_response("describe_human_loop", _describe(name, "Failed"))
    sfn_stub.add_client_error("send_task_success", "TaskTimedOut", "too late")
    result = handle_status_change(event, reviewer, LabelStore(S3LabelFile(s3, BUCKET)), aws["sfn"])
    assert result["stale_token"] and not result["resumed"]
    assert reviewer.manifest(EXECUTION)["status"] == "CLOSED"


def test_loops_fraudpipe_did_not_start_are_ignored(aws):
    reviewer = A2IReviewer(aws["a2i"], aws["s3"], BUCKET, FLOW)
    event = load_event("resume_review")
    result = handle_status_change(
        event, reviewer, LabelStore(S3LabelFile(aws["s3"], BUCKET)), aws["sfn"]
    )
    assert result["ignored"] and not result["resumed"]


def test_the_worker_template_shows_the_fields_and_its_answers_parse():
    import re
    from pathlib import Path

    import fraudpipe.review

    template = (Path(fraudpipe.review.__file__).parent / "templates"
                / "a2i-worker.liquid.html").read_text()  # fmt: skip
    assert "<crowd-form>" in template and "crowd-html-elements.js" in template
    shown = set(re.findall(r"\{\{\s*task\.input\.(?:taskObject|score)\.(\w+)\s*\}\}", template))
    assert shown == {"fraud_model", "EVENT_TIMESTAMP", "trans_num", "amt", "category",
                     "merchant", "city", "state", "job"}  # fmt: skip
    assert "cc_num" not in template and "task.input.taskObject.first" not in template
    buttons = re.findall(r'<crowd-radio-button name="(\w+)" value="([^"]+)"', template)
    assert [value for _, value in buttons] == ["Fraudulent", "Valid", "Needs further review"]
    # each button, chosen alone, is read back as its verdict
    for (name, value), verdict in zip(buttons, ["fraud", "legit", "escalate"], strict=True):
        content = {n: {v: n == name} for n, v in buttons}
        assert parse_answer({"humanAnswers": [{"answerContent": content}]}) == verdict, value


@pytest.fixture
def aws_backend(monkeypatch):
    """The review handlers configured for AWS (A2I + S3 in moto), with fresh cached clients."""
    from fraudpipe.review import factory

    monkeypatch.setenv("FRAUDPIPE_BACKEND", "aws")
    monkeypatch.setenv("FRAUDPIPE_BUCKET", BUCKET)
    monkeypatch.setenv("FRAUDPIPE_FLOW_DEFINITION_ARN", FLOW)
    factory._client.cache_clear()
    try:
        with mock_aws():
            factory._client("s3").create_bucket(Bucket=BUCKET)
            yield factory._client
    finally:
        factory._client.cache_clear()


def test_the_resume_handler_wires_the_aws_adapters(aws_backend, lambda_context):
    from functions import resume_review

    result = resume_review.handler(load_event("resume_review"), lambda_context)
    assert result == {"loop_name": "LOOP_NAME", "status": "Completed", "resumed": False,
                      "ignored": "not a fraudpipe loop"}  # fmt: skip


def test_the_review_handlers_on_the_aws_backend(aws_backend, lambda_context):
    """StartHumanReview and CollectVerdicts handlers, wired by configuration to A2I and S3."""
    from functions import collect_verdicts, start_human_review

    s3 = aws_backend("s3")
    uri = _put_batch_output(s3, {"ev-1": 880.0, "ev-2": 100.0})
    event = {"execution_name": EXECUTION,
             "input": {"review": {"wait": False}, "batch": {"output": uri}}}  # fmt: skip
    a2i = aws_backend("sagemaker-a2i-runtime")  # the client the handlers use
    with Stubber(a2i) as stub:
        stub.add_response("start_human_loop", {"HumanLoopArn": "arn:x"},
                          {"HumanLoopName": ANY, "FlowDefinitionArn": FLOW,
                           "HumanLoopInput": ANY})  # fmt: skip
        started = start_human_review.handler(event, lambda_context)
        [name] = started["loop_names"]
        out = _write_output(s3, name, "Fraudulent")
        stub.add_response("describe_human_loop", _describe(name, "Completed", out))
        collected = collect_verdicts.handler(event, lambda_context)
        stub.assert_no_pending_responses()
    labels = LabelStore(S3LabelFile(s3, BUCKET)).read()
    assert started["loops_started"] == 1 and not started["waiting"]
    assert collected["answered"] == 1 and collected["labels_stored"] == 1
    assert [(x.event_id, x.label) for x in labels] == [("ev-1", "fraud")]
