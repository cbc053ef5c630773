"""Write execution histories in the runtime's on-disk shape, for page and benchmark fixtures.

The events mirror what moto's interpreter emits for ``lambda:invoke`` tasks (TaskScheduled,
TaskStarted, TaskSucceeded/TaskFailed) and what the local runtime adds (ExecutionRedriven).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fraudpipe.workspace import Workspace, atomic_write_json

DATA = Path(__file__).parent / "data"
PIPELINE_ASL = DATA / "pipeline.asl.json"
T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HistoryWriter:
    """Build one execution's events step by step, then :meth:`save` it into a workspace."""

    def __init__(
        self, name: str, input: dict[str, Any] | None = None, start: datetime = T0,
        step: timedelta = timedelta(milliseconds=250),
    ) -> None:
        self.name = name
        self.input = input or {"bucket": "fraudpipe-local"}
        self.now = start
        self.start = start
        self.step = step
        self.events: list[dict[str, Any]] = []
        self.data = json.dumps(self.input)
        self.status = "RUNNING"
        self.error: str | None = None
        self.cause: str | None = None
        self.redrives = 0
        self._add("ExecutionStarted", executionStartedEventDetails={"input": self.data})

    def _add(self, kind: str, **details: Any) -> None:
        self.now += self.step
        last = len(self.events)
        self.events.append(
            {"id": last + 1, "previousEventId": last, "type": kind, "timestamp": iso(self.now),
             **details}
        )

    def enter(self, state: str, kind: str = "Task") -> None:
        self._add(f"{kind}StateEntered",
                  stateEnteredEventDetails={"name": state, "input": self.data})

    def exit(self, state: str, kind: str = "Task", result: dict[str, Any] | None = None) -> None:
        if result is not None:
            merged = {**json.loads(self.data), **result}
            self.data = json.dumps(merged)
        self._add(f"{kind}StateExited",
                  stateExitedEventDetails={"name": state, "output": self.data})

    def attempt(self, ok: bool = True, error: str = "", cause: str = "") -> None:
        self._add("TaskScheduled", taskScheduledEventDetails={"resource": "invoke",
                                                              "resourceType": "lambda"})
        self._add("TaskStarted", taskStartedEventDetails={"resource": "invoke"})
        if ok:
            self._add("TaskSucceeded", taskSucceededEventDetails={"output": "{}"})
        else:
            self._add("TaskFailed", taskFailedEventDetails={"error": error, "cause": cause})

    def task(self, state: str, result: dict[str, Any] | None = None, retries: int = 0) -> None:
        """A task that succeeds after ``retries`` failed attempts."""
        self.enter(state)
        for _ in range(retries):
            self.attempt(False, "TransientError", "try again")
        self.attempt()
        self.exit(state, result=result)

    def caught(self, state: str, error: str, cause: str) -> None:
        """A task whose error went to a Catch."""
        self.enter(state)
        self.attempt(False, error, cause)
        self.exit(state, result={"error": {"Error": error, "Cause": cause}})

    def passing(self, state: str, kind: str) -> None:
        """A Wait, Choice, Pass state entered and left."""
        self.enter(state, kind)
        self.exit(state, kind)

    def task_fails(self, state: str, error: str, cause: str) -> None:
        """A task whose error is not caught: the execution fails."""
        self.enter(state)
        self.attempt(False, error, cause)
        self.fail(error, cause)

    def fail_state(self, state: str, error: str, cause: str) -> None:
        self.enter(state, "Fail")
        self.fail(error, cause)

    def fail(self, error: str, cause: str) -> None:
        self._add("ExecutionFailed",
                  executionFailedEventDetails={"error": error, "cause": cause})
        self.status, self.error, self.cause = "FAILED", error, cause

    def succeed(self, state: str = "PipelineSucceeded") -> None:
        self.enter(state, "Succeed")
        self.exit(state, "Succeed")
        self._add("ExecutionSucceeded", executionSucceededEventDetails={"output": self.data})
        self.status = "SUCCEEDED"

    def redrive(self) -> None:
        self.redrives += 1
        self._add("ExecutionRedriven", executionRedrivenEventDetails={"redriveCount":
                                                                      self.redrives})
        self.status, self.error, self.cause = "RUNNING", None, None

    def record(self) -> dict[str, Any]:
        ended = self.status != "RUNNING"
        return {
            "name": self.name,
            "status": self.status,
            "input": self.input,
            "output": json.loads(self.data) if self.status == "SUCCEEDED" else None,
            "error": self.error,
            "cause": self.cause,
            "start_date": iso(self.start),
            "stop_date": iso(self.now) if ended else None,
            "redrive_count": self.redrives,
            "state_machine": "fraudpipe-fixture",
            "owner_pid": os.getpid(),  # a RUNNING execution needs a live owner process
        }

    def save(self, ws: Workspace, definition: Path | str = PIPELINE_ASL) -> Path:
        folder = ws.executions_dir / self.name
        folder.mkdir(parents=True, exist_ok=True)
        text = definition.read_text() if isinstance(definition, Path) else definition
        (folder / "definition.asl.json").write_text(text)
        (folder / "events.jsonl").write_text(
            "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in self.events)
        )
        atomic_write_json(folder / "execution.json", self.record())
        return folder


def pipeline_run(name: str, outcome: str = "succeeded", start: datetime = T0) -> HistoryWriter:
    """A whole fixture-pipeline history: polling loops, one retry, then ``outcome``.

    ``outcome``: ``succeeded``; ``failed`` (uncaught error in StartEtl); ``caught`` (the
    quality gate's error caught, ending in a Fail state); ``running`` (inside the training loop).
    """
    h = HistoryWriter(name, start=start)
    h.task("StartCrawler", {"crawl": {"state": "RUNNING"}})
    for last in ("", "SUCCEEDED"):
        h.passing("WaitForCrawler", "Wait")
        h.task("GetCrawlerStatus", {"crawl": {"state": "READY", "last_crawl": last or None}},
               retries=0 if last else 1)
        h.passing("CrawlerDone?", "Choice")
    if outcome == "failed":
        h.task_fails("StartEtl", "EtlError", "raw file fraudTrain.csv: no such file")
        return h
    h.task("StartEtl", {"etl": {"status": "RUNNING"}})
    h.passing("WaitForEtl", "Wait")
    h.task("GetEtlStatus", {"etl": {"status": "SUCCEEDED"}})
    h.passing("EtlDone?", "Choice")
    h.task("CreateModelVersion", {"training": {"status": "TRAINING_IN_PROGRESS"}})
    for status in ("TRAINING_IN_PROGRESS", "TRAINING_IN_PROGRESS", "TRAINING_COMPLETE"):
        h.passing("WaitForTraining", "Wait")
        if outcome == "running" and status == "TRAINING_COMPLETE":
            h.enter("GetTrainingStatus")
            h.attempt(False, "TransientError", "busy")
            return h
        h.task("GetTrainingStatus", {"training": {"status": status}})
        h.passing("TrainingDone?", "Choice")
    if outcome == "caught":
        h.caught("QualityGate", "QualityGateError", "AUC 0.71 is below min_auc 0.9")
        h.fail_state("QualityGateFailed", "QualityGateFailed", "QualityGate step failed")
        return h
    for state in ("QualityGate", "DeployDetectorVersion", "StartBatchPrediction"):
        h.task(state)
    h.passing("WaitForBatch", "Wait")
    h.task("GetBatchStatus", {"batch": {"status": "COMPLETE", "review_candidates": 0}})
    h.passing("BatchDone?", "Choice")
    h.passing("ReviewNeeded?", "Choice")
    h.succeed("Done")
    return h
