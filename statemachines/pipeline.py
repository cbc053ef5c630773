"""The fraudpipe pipeline as one Step Functions state machine, built with the Data Science SDK.

Why Python and not hand-written JSON: the graph (poll loops, Catch routes, one Fail state per
step) is easier to keep consistent in code; ``statemachines/pipeline.asl.json`` is generated
from here (``python -m statemachines.pipeline``) and a test fails when the two differ. Deploy and
the local runtime both consume the JSON, never this module's objects.

The definition holds no ARNs: each Lambda task's ``Resource`` is a ``${<Module>FunctionArn}``
placeholder (see :data:`FUNCTIONS`), filled by DefinitionSubstitutions on AWS and by the local
runtime with its own ARNs. Task states use the plain function ARN as resource, so a state's
result is the handler's return value itself (the SDK cannot express ``ResultSelector``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from stepfunctions.steps import (
    Catch,
    Chain,
    Choice,
    ChoiceRule,
    Fail,
    Graph,
    Pass,
    Retry,
    Succeed,
    Task,
    Wait,
)
from stepfunctions.steps.states import State

__all__ = [
    "ASL_PATH",
    "CALLBACK_RESOURCE",
    "FUNCTIONS",
    "NON_STATE_FUNCTIONS",
    "REDRIVE_FROM",
    "build_definition",
    "definition_json",
    "placeholder",
    "write_definition",
]

ASL_PATH = Path(__file__).with_name("pipeline.asl.json")

#: handler module (``functions/<module>.py``) -> DefinitionSubstitutions key, for every task state.
FUNCTIONS: dict[str, str] = {
    "start_crawler": "StartCrawlerFunctionArn",
    "get_crawler_status": "GetCrawlerStatusFunctionArn",
    "start_etl": "StartEtlFunctionArn",
    "get_etl_status": "GetEtlStatusFunctionArn",
    "create_model_version": "CreateModelVersionFunctionArn",
    "get_training_status": "GetTrainingStatusFunctionArn",
    "quality_gate": "QualityGateFunctionArn",
    "deploy_detector_version": "DeployDetectorVersionFunctionArn",
    "start_batch_prediction": "StartBatchPredictionFunctionArn",
    "get_batch_status": "GetBatchStatusFunctionArn",
    "start_human_review": "StartHumanReviewFunctionArn",
    "collect_verdicts": "CollectVerdictsFunctionArn",
}

#: handler modules that are not states of the pipeline (realtime API, A2I resume on EventBridge).
NON_STATE_FUNCTIONS: dict[str, str] = {
    "predict": "PredictFunctionArn",
    "resume_review": "ResumeReviewFunctionArn",
}

CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"

#: Fail states reached from a poll loop's Choice (the async work itself failed): a redrive
#: re-runs the loop from the state that started the work, not the Fail state.
REDRIVE_FROM: dict[str, str] = {
    "CrawlerFailed": "StartCrawler",
    "EtlFailed": "StartEtl",
    "TrainingFailed": "CreateModelVersion",
    "BatchFailed": "StartBatchPrediction",
}

#: errors every task retries with backoff: our own transient error and Lambda service hiccups.
TRANSIENT_ERRORS = [
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
RETRY_INTERVAL_SECONDS = 2
RETRY_MAX_ATTEMPTS = 3
RETRY_BACKOFF_RATE = 2.0

_PAYLOAD = {"execution_name.$": "$$.Execution.Name", "input.$": "$"}


def placeholder(module: str) -> str:
    """``${StartCrawlerFunctionArn}`` for ``start_crawler``."""
    table = FUNCTIONS if module in FUNCTIONS else NON_STATE_FUNCTIONS
    return "${" + table[module] + "}"


class FailWithPaths(Fail):
    """A Fail state whose Error and Cause come from the state data (``ErrorPath``/``CausePath``).

    The SDK's Fail only knows static ``Error``/``Cause``; these two fields are plain ASL, accepted
    by Step Functions, statelint and moto's interpreter, and they let the Cause quote the reason
    a step failed (``States.Format`` of the caught error).
    """

    def __init__(
        self, state_id: str, cause_path: str, error_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(state_id, **kwargs)
        self._paths = {"CausePath": cause_path}
        if error_path is not None:
            self._paths["ErrorPath"] = error_path

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        result.update(self._paths)
        return result


def _fail_after_catch(step: str) -> FailWithPaths:
    """The Fail state a task's Catch routes to: Cause = ``<step> failed: <caught cause>``."""
    return FailWithPaths(
        f"{step}Failed",
        error_path="$.error.Error",
        cause_path=f"States.Format('{step} failed: {{}}', $.error.Cause)",
        comment=f"{step} raised an error that retries did not cure.",
    )


def _fail_after_poll(name: str, what: str, result_key: str) -> FailWithPaths:
    """The Fail state of a poll loop whose async work reported failure."""
    return FailWithPaths(
        name,
        error=name,
        cause_path=f"States.Format('{what} failed: {{}}', {result_key}.error)",
        comment=f"The {what} finished unsuccessfully (status in {result_key}).",
    )


def _guarded(task: Task, *catches: Catch) -> Task:
    """Give ``task`` the standard error handling: Retry of transient errors with backoff, then
    ``catches`` (specific errors, in order), then ``States.ALL`` into the task's own Fail state,
    whose Cause names the step (``<name>Failed``, see :func:`_fail_after_catch`).

    Why one helper: every task needs all three, in this order (``States.ALL`` must come last),
    and a forgotten or doubled piece is easy to miss in a generated file.
    """
    task.add_retry(_retry())
    for catch in catches:
        task.add_catch(catch)
    task.add_catch(
        Catch(
            error_equals=["States.ALL"],
            next_step=_fail_after_catch(task.state_id),
            result_path="$.error",
        )
    )
    return task


def _task(
    name: str,
    module: str,
    result_path: str,
    comment: str | None = None,
    catches: tuple[Catch, ...] = (),
) -> Task:
    """A Lambda task with the standard payload and error handling (:func:`_guarded`)."""
    task = Task(
        name,
        resource=placeholder(module),
        parameters=dict(_PAYLOAD),
        result_path=result_path,
        comment=comment,
    )
    return _guarded(task, *catches)


def _retry() -> Retry:
    return Retry(
        error_equals=list(TRANSIENT_ERRORS),
        interval_seconds=RETRY_INTERVAL_SECONDS,
        max_attempts=RETRY_MAX_ATTEMPTS,
        backoff_rate=RETRY_BACKOFF_RATE,
    )


def _wait(name: str, poll_key: str) -> Wait:
    return Wait(name, seconds_path=f"$.poll_seconds.{poll_key}")


def _poll_loop(
    start: State,
    wait_name: str,
    poll_key: str,
    check: Task,
    choice_name: str,
    running: ChoiceRule,
    failed: Fail,
) -> Choice:
    """``start`` → Wait (``poll_seconds.<poll_key>``) → ``check`` → Choice: while ``running``
    wait again, otherwise ``failed``. Returns the Choice; the caller adds the success branch
    (it leads to a state built later)."""
    wait = _wait(wait_name, poll_key)
    done = Choice(choice_name)
    start.next(wait)
    wait.next(check)
    check.next(done)
    done.add_choice(running, wait)
    done.default_choice(failed)
    return done


def build_graph() -> Graph:
    """The whole pipeline as an SDK graph (see shared/DESIGN.md for the story it tells)."""
    succeeded = Succeed("PipelineSucceeded", comment="Batch scored; review loop handled.")

    # --- crawl -------------------------------------------------------------------------------
    start_crawler = _task(
        "StartCrawler", "start_crawler", "$.crawl", comment="Crawl the raw CSVs into the catalog."
    )
    crawler_done = _poll_loop(
        start_crawler,
        "WaitForCrawler",
        "crawler",
        _task("GetCrawlerStatus", "get_crawler_status", "$.crawl"),
        "CrawlerFinished?",
        running=ChoiceRule.StringEquals("$.crawl.state", "RUNNING"),
        failed=_fail_after_poll("CrawlerFailed", "crawl", "$.crawl"),
    )

    # --- ETL ---------------------------------------------------------------------------------
    start_etl = _task(
        "StartEtl",
        "start_etl",
        "$.etl",
        comment="Transform raw rows into training, test and batch files.",
    )
    etl_done = _poll_loop(
        start_etl,
        "WaitForEtl",
        "etl",
        _task("GetEtlStatus", "get_etl_status", "$.etl"),
        "EtlFinished?",
        running=ChoiceRule.StringEquals("$.etl.status", "RUNNING"),
        failed=_fail_after_poll("EtlFailed", "ETL job", "$.etl"),
    )

    # --- training ----------------------------------------------------------------------------
    on_simultaneous = Choice(
        "OnSimultaneousTraining?", comment="A version of this model is already training."
    )
    create_version = _task(
        "CreateModelVersion",
        "create_model_version",
        "$.training",
        comment="mode create: new major version; update: next minor.",
        catches=(
            Catch(
                error_equals=["SimultaneousTrainingError"],
                next_step=on_simultaneous,
                result_path="$.simultaneous",
            ),
        ),
    )
    wait_running = _wait("WaitForRunningTraining", "simultaneous_training")
    already_running = Pass(
        "TrainingAlreadyRunning",
        parameters={
            "status": "SKIPPED",
            "reason": "training already running",
            "cause.$": "$.simultaneous.Cause",
        },
        result_path="$.skipped",
    )
    skipped = Succeed(
        "SkippedTrainingAlreadyRunning",
        comment="Graceful end: another training of this model is running.",
    )
    training_done = _poll_loop(
        create_version,
        "WaitForTraining",
        "training",
        _task("GetTrainingStatus", "get_training_status", "$.training"),
        "TrainingFinished?",
        running=ChoiceRule.StringEquals("$.training.status", "TRAINING_IN_PROGRESS"),
        failed=_fail_after_poll("TrainingFailed", "training", "$.training"),
    )

    # --- gate, deploy, batch -----------------------------------------------------------------
    quality_gate = _task(
        "QualityGate",
        "quality_gate",
        "$.gate",
        comment="AUC must reach min_auc; raises QualityGateError otherwise.",
    )
    deploy = _task("DeployDetectorVersion", "deploy_detector_version", "$.detector")
    start_batch = _task("StartBatchPrediction", "start_batch_prediction", "$.batch")
    batch_done = _poll_loop(
        start_batch,
        "WaitForBatch",
        "batch",
        _task("GetBatchStatus", "get_batch_status", "$.batch"),
        "BatchFinished?",
        running=ChoiceRule.StringEquals("$.batch.status", "IN_PROGRESS"),
        failed=_fail_after_poll("BatchFailed", "batch prediction", "$.batch"),
    )

    # --- human review ------------------------------------------------------------------------
    review_needed = Choice("ReviewNeeded?", comment="Review enabled and scores in the band.")
    wait_for_reviewers = Choice("WaitForReviewers?")
    collect = _task("CollectVerdicts", "collect_verdicts", "$.verdicts")
    start_review = _task(
        "StartHumanReview",
        "start_human_review",
        "$.review",
        comment="Start one human loop per event in the band, do not wait.",
    )
    review_and_wait = _guarded(
        Task(
            "StartHumanReviewAndWait",
            resource=CALLBACK_RESOURCE,
            parameters={
                "FunctionName": placeholder("start_human_review"),
                "Payload": {**_PAYLOAD, "task_token.$": "$$.Task.Token"},
            },
            result_path="$.review",
            timeout_seconds_path="$.review.timeout_seconds",
            comment="Start the loops and wait for SendTaskSuccess, at most review.timeout_seconds.",
        ),
        Catch(error_equals=["States.Timeout"], next_step=collect, result_path="$.review_timeout"),
    )

    # --- wiring ------------------------------------------------------------------------------
    crawler_done.add_choice(ChoiceRule.StringEquals("$.crawl.last_crawl", "SUCCEEDED"), start_etl)
    etl_done.add_choice(ChoiceRule.StringEquals("$.etl.status", "SUCCEEDED"), create_version)
    on_simultaneous.add_choice(
        ChoiceRule.StringEquals("$.on_simultaneous_training", "wait"), wait_running
    )
    on_simultaneous.default_choice(already_running)
    wait_running.next(create_version)
    already_running.next(skipped)
    training_done.add_choice(
        ChoiceRule.StringEquals("$.training.status", "TRAINING_COMPLETE"), quality_gate
    )
    quality_gate.next(deploy)
    deploy.next(start_batch)
    batch_done.add_choice(ChoiceRule.StringEquals("$.batch.status", "COMPLETE"), review_needed)

    review_needed.add_choice(
        ChoiceRule.And(
            [
                ChoiceRule.BooleanEquals("$.review.enabled", True),
                ChoiceRule.NumericGreaterThan("$.batch.review_candidates", 0),
            ]
        ),
        wait_for_reviewers,
    )
    review_needed.default_choice(succeeded)
    wait_for_reviewers.add_choice(ChoiceRule.BooleanEquals("$.review.wait", True), review_and_wait)
    wait_for_reviewers.default_choice(start_review)
    start_review.next(collect)
    review_and_wait.next(collect)
    collect.next(succeeded)

    return Graph(
        Chain([start_crawler]),
        comment="fraudpipe: crawl, ETL, train, gate, deploy, batch-score and review transactions.",
    )


def build_definition() -> dict[str, Any]:
    """The ASL definition as a dict (placeholders unresolved)."""
    return build_graph().to_dict()


def definition_json() -> str:
    """The exact text of ``pipeline.asl.json`` (stable key order, trailing newline)."""
    return json.dumps(build_definition(), indent=2) + "\n"


def write_definition(path: Path = ASL_PATH) -> Path:
    """Regenerate ``pipeline.asl.json`` from the builder."""
    path.write_text(definition_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = write_definition(Path(sys.argv[1]) if len(sys.argv) > 1 else ASL_PATH)
    print(f"wrote {target}")
