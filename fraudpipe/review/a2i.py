"""The A2I adapter: Amazon Augmented AI human loops, as the seed used them.

StartHumanLoop gets a unique loop name, the flow definition and ``InputContent``
``{"score": ..., "taskObject": ...}``. A2I keeps no link between a loop and a Step Functions
execution, so this adapter keeps it in the artefact bucket: ``review/loops/<loop>.json`` (loop →
execution, event, score) and ``review/executions/<execution>.json`` (the execution's loops and,
while it waits, its task token). The resume Lambda and CollectVerdicts read those.
Clients are passed in (tests attach botocore's Stubber).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from fraudpipe.errors import ReviewError
from fraudpipe.review.loops import A2I_ANSWERS
from fraudpipe.review.reviewers import LoopRequest, LoopResult
from fraudpipe.s3_objects import S3Objects, split_uri

__all__ = ["A2IReviewer", "parse_answer", "parse_s3_uri"]

PREFIX = "review"
DONE_STATUSES = ("Completed", "Failed", "Stopped")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an A2I output URI; a malformed one is a :class:`ReviewError`."""
    try:
        return split_uri(uri)
    except ValueError as exc:
        raise ReviewError(str(exc)) from exc


def _answer_of(value: Any, key: str | None = None) -> str | None:
    """Find the chosen answer in a worker's answerContent, whatever nesting the form produced."""
    if isinstance(value, str):
        return A2I_ANSWERS.get(value.strip().lower())
    if isinstance(value, bool):
        return A2I_ANSWERS.get((key or "").strip().lower()) if value else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _answer_of(v, k)
            if found:
                return found
            if k.strip().lower() in A2I_ANSWERS and isinstance(v, dict) and any(
                x is True for x in v.values()
            ):
                return A2I_ANSWERS[k.strip().lower()]
    if isinstance(value, list):
        for item in value:
            found = _answer_of(item, key)
            if found:
                return found
    return None


def parse_answer(output: dict[str, Any]) -> str | None:
    """The verdict (fraud / legit / escalate) in an A2I ``output.json``, or None."""
    for answer in output.get("humanAnswers") or []:
        found = _answer_of(answer.get("answerContent"))
        if found:
            return found
    return None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value) if value else None


class A2IReviewer:
    """Human loops in Amazon A2I; bookkeeping in ``s3://<bucket>/review/``."""

    def __init__(
        self,
        a2i_client: Any,
        s3_client: Any,
        bucket: str,
        flow_definition_arn: str | None = None,
        console_url: str | None = None,
    ) -> None:
        self.a2i, self.s3, self.bucket = a2i_client, s3_client, bucket
        self._documents = S3Objects(s3_client, bucket)
        self.flow_definition_arn = flow_definition_arn
        self.console_url = console_url

    # --- bookkeeping in S3 ------------------------------------------------------------------
    def _get(self, key: str) -> dict[str, Any] | None:
        found = self._documents.get_json(key)
        return None if found is None else found[0]

    def _put(self, key: str, data: dict[str, Any]) -> None:
        self._documents.put_json(key, data)

    def manifest(self, execution_name: str) -> dict[str, Any]:
        found = self._get(f"{PREFIX}/executions/{execution_name}.json")
        return found or {"execution_name": execution_name, "loops": [], "status": "NONE"}

    def loop_index(self, loop_name: str) -> dict[str, Any] | None:
        """Which execution and event a loop belongs to (None for a loop fraudpipe did not start)."""
        return self._get(f"{PREFIX}/loops/{loop_name}.json")

    # --- the port ---------------------------------------------------------------------------
    def start_loop(self, req: LoopRequest, flow_definition_arn: str | None = None) -> bool:
        """Start one loop; False if it already existed (a retried start)."""
        arn = flow_definition_arn or self.flow_definition_arn
        if not arn:
            raise ReviewError(
                "no A2I flow definition ARN configured (FRAUDPIPE_FLOW_DEFINITION_ARN)")
        content = {"score": {"fraud_model": req.score}, "taskObject": req.task_object}
        try:
            self.a2i.start_human_loop(
                HumanLoopName=req.loop_name,
                FlowDefinitionArn=arn,
                HumanLoopInput={"InputContent": json.dumps(content, default=str)},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConflictException":
                return False
            raise ReviewError(
                f"A2I refused human loop {req.loop_name}: {code}: "
                f"{exc.response.get('Error', {}).get('Message')}"
            ) from exc
        self._put(
            f"{PREFIX}/loops/{req.loop_name}.json",
            {"execution_name": req.execution_name, "event_id": req.event_id, "score": req.score},
        )
        return True

    def start_loops(self, execution_name: str, requests: list[LoopRequest]) -> list[str]:
        for req in requests:
            self.start_loop(req)
        manifest = self.manifest(execution_name)
        known = {loop["loop_name"] for loop in manifest["loops"]}
        manifest["loops"] += [
            {"loop_name": r.loop_name, "event_id": r.event_id, "score": r.score}
            for r in requests
            if r.loop_name not in known
        ]
        if manifest.get("status") == "NONE":
            manifest["status"] = "STARTED"
        self._put(f"{PREFIX}/executions/{execution_name}.json", manifest)
        return [r.loop_name for r in requests]

    def begin_wait(self, execution_name: str, task_token: str, timeout_seconds: float) -> None:
        manifest = self.manifest(execution_name)
        manifest.update(
            task_token=task_token, deadline=time.time() + timeout_seconds, status="WAITING"
        )
        self._put(f"{PREFIX}/executions/{execution_name}.json", manifest)

    def end_wait(self, execution_name: str, status: str = "CLOSED") -> None:
        manifest = self.manifest(execution_name)
        manifest["status"] = status
        manifest.pop("task_token", None)
        self._put(f"{PREFIX}/executions/{execution_name}.json", manifest)

    def result(self, loop_name: str, event_id: str, score: float) -> LoopResult:
        """Describe one loop and, when completed, read its verdict from output.json."""
        described = self.a2i.describe_human_loop(HumanLoopName=loop_name)
        status = described["HumanLoopStatus"]
        verdict = None
        if status == "Completed":
            uri = described.get("HumanLoopOutput", {}).get("OutputS3Uri")
            if uri:
                bucket, key = parse_s3_uri(uri)
                body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                verdict = parse_answer(json.loads(body))
        return LoopResult(
            loop_name=loop_name,
            event_id=event_id,
            score=score,
            verdict=verdict,
            answered_at=_iso(datetime.now(UTC)) if verdict else None,
            done=status in DONE_STATUSES,
        )

    def results(self, execution_name: str) -> list[LoopResult]:
        return [
            self.result(loop["loop_name"], loop["event_id"], loop["score"])
            for loop in self.manifest(execution_name)["loops"]
        ]

    def queue_url(self) -> str | None:
        return self.console_url
