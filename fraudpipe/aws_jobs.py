"""Asynchronous engine jobs on AWS: a worker Lambda invoked with ``InvocationType=Event``.

Why: locally a training or batch job runs in a detached worker process
(:class:`fraudpipe.jobs.LocalJobs`); a Lambda has no process that outlives its invocation, so on
AWS the starting handler invokes the engine worker function asynchronously and returns at once.
The job's state is a JSON record in S3 (``<registry>/jobs/<job_id>.json``), the same
:class:`~fraudpipe.jobs.JobRecord` the local jobs write, so the engine polls both alike.

A job that nobody finishes must not stay RUNNING for ever. Each record carries a ``deadline``:
at start, ``MAX_EVENT_AGE`` (how long Lambda may keep the event queued, also set on the function
by the template) plus a grace; when the worker picks the job up it moves the deadline to the
end of its own invocation (``context.get_remaining_time_in_millis()``, at most 15 minutes)
plus the grace. A RUNNING job past its deadline reads as FAILED (``WorkerTimedOut``): the
worker timed out, ran out of memory or never started. Lambda may deliver an asynchronous event
twice; the worker claims the job with a conditional write, so a duplicate does nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import time
import traceback
import uuid
from dataclasses import asdict
from typing import Any

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.jobs import FAILED, RUNNING, SUCCEEDED, JobRecord
from fraudpipe.s3_objects import ConditionFailed, S3Objects

__all__ = ["GRACE_SECONDS", "MAX_EVENT_AGE", "LambdaJobs", "run_lambda_job"]

#: seconds an asynchronous invocation may wait in Lambda's queue (EventInvokeConfig)
MAX_EVENT_AGE = 300
#: slack between the worker's own end and the moment a poller calls it dead
GRACE_SECONDS = 30


class LambdaJobs:
    """:class:`fraudpipe.jobs.LocalJobs`'s interface over a worker Lambda and S3 records."""

    def __init__(self, records: S3Objects, lambda_client: Any, function_name: str) -> None:
        self.records, self.lam, self.function_name = records, lambda_client, function_name

    def start(self, kind: str, target: str, params: dict[str, Any],
              job_id: str | None = None) -> JobRecord:
        """Record the job, invoke the worker asynchronously; returns at once."""
        job_id = job_id or f"{kind}-{uuid.uuid4().hex[:12]}"
        record = JobRecord(job_id=job_id, kind=kind, target=target, params=params,
                           deadline=time.time() + MAX_EVENT_AGE + GRACE_SECONDS)
        self.records.put_json(f"{job_id}.json", asdict(record), if_none_match=True)
        try:
            self.lam.invoke(FunctionName=self.function_name, InvocationType="Event",
                            Payload=json.dumps({"job_id": job_id}).encode())
        except Exception as exc:  # the job can never run: say so in its record, then raise
            record.status, record.error_type = FAILED, "WorkerInvokeFailed"
            record.error, record.ended_at = str(exc), time.time()
            self.records.put_json(f"{job_id}.json", asdict(record))
            raise
        return record

    def get(self, job_id: str) -> JobRecord:
        """Current state; a RUNNING job past its deadline reads (and is stored) as FAILED."""
        found = self.records.get_json(f"{job_id}.json")
        if found is None:
            raise ResourceNotFoundError(f"no job named {job_id!r}")
        data, etag = found
        record = JobRecord(**data)
        if record.status == RUNNING and record.deadline and time.time() > record.deadline:
            started = "was never picked up" if record.worker is None else "did not finish"
            record.status, record.error_type = FAILED, "WorkerTimedOut"
            record.error = (f"the worker Lambda of job {job_id} {started} before its deadline "
                            "(timed out, out of memory or crashed)")
            record.ended_at = time.time()
            try:
                self.records.put_json(f"{job_id}.json", asdict(record), if_match=etag)
            except ConditionFailed:  # the worker wrote meanwhile: its word wins
                return self.get(job_id)
        return record


def run_lambda_job(event: dict[str, Any], context: Any, records: S3Objects) -> dict[str, Any]:
    """The worker: claim job ``event["job_id"]``, run its target, record the outcome.

    A job's failure is data for the poller (status FAILED with the error), not a failed
    invocation: Lambda would otherwise retry the event and train twice."""
    job_id = str(event["job_id"])
    found = records.get_json(f"{job_id}.json")
    if found is None:
        raise ResourceNotFoundError(f"no job named {job_id!r} in {records.uri('')}")
    data, etag = found
    record = JobRecord(**data)
    if record.status != RUNNING or record.worker is not None:
        return {"job_id": job_id, "ran": False, "status": record.status}  # a duplicate event
    remaining = context.get_remaining_time_in_millis() / 1000 if context else 900.0
    record.worker = str(getattr(context, "aws_request_id", None) or "unknown request")
    record.progress = f"picked up by request {record.worker}"
    record.deadline = time.time() + remaining + GRACE_SECONDS
    try:
        etag = records.put_json(f"{job_id}.json", asdict(record), if_match=etag)
    except ConditionFailed:
        return {"job_id": job_id, "ran": False, "status": "claimed elsewhere"}

    def progress(message: str) -> None:
        nonlocal etag
        record.progress = message
        # a poller may have declared us dead (ConditionFailed): carry on, the end will tell
        with contextlib.suppress(ConditionFailed):
            etag = records.put_json(f"{job_id}.json", asdict(record), if_match=etag)

    try:
        module_name, _, func_name = record.target.partition(":")
        function = getattr(importlib.import_module(module_name), func_name)
        record.result, record.status = function(record.params, progress) or {}, SUCCEEDED
    except Exception as exc:
        record.status, record.error_type = FAILED, type(exc).__name__
        record.error = str(exc) or type(exc).__name__
        record.progress = (record.progress or "") + "\n" + traceback.format_exc(limit=5)
    record.ended_at = time.time()
    records.put_json(f"{job_id}.json", asdict(record))
    return {"job_id": job_id, "ran": True, "status": record.status}
