"""Local async jobs: results, errors, dead workers, both modes."""

from __future__ import annotations

import json
import os
import signal

import pytest

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.jobs import FAILED, SUCCEEDED, LocalJobs

TARGETS = "tests.unit.jobs_targets"


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_job_result_is_recorded(workspace, mode):
    jobs = LocalJobs(workspace, mode=mode)
    started = jobs.start("calc", f"{TARGETS}:add", {"a": 2, "b": 3})
    record = jobs.wait(started.job_id, timeout=60)
    assert record.status == SUCCEEDED
    assert record.result["sum"] == 5
    assert record.progress == "adding"
    assert (record.result["pid"] == os.getpid()) is (mode == "thread")


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_job_error_keeps_type_and_message(workspace, mode):
    jobs = LocalJobs(workspace, mode=mode)
    started = jobs.start("etl", f"{TARGETS}:fail", {"file": "fraudTrain.csv"})
    record = jobs.wait(started.job_id, timeout=60)
    assert record.status == FAILED
    assert record.error_type == "EtlError"
    assert record.error == "bad file fraudTrain.csv"


def test_killed_worker_reads_as_failed(workspace):
    jobs = LocalJobs(workspace, mode="process")
    started = jobs.start("slow", f"{TARGETS}:sleep", {"seconds": 60})
    os.kill(started.pid, signal.SIGKILL)
    record = jobs.wait(started.job_id, timeout=30)
    assert record.status == FAILED
    assert record.error_type == "WorkerDied"
    # a second reader (another process) sees the same verdict from the file
    assert LocalJobs(workspace, mode="process").get(started.job_id).status == FAILED


def test_unknown_job_is_a_clear_error(workspace):
    with pytest.raises(ResourceNotFoundError, match="no job named 'nope'"):
        LocalJobs(workspace).get("nope")


def test_bad_mode_is_refused(workspace):
    with pytest.raises(ValueError, match="FRAUDPIPE_JOB_MODE"):
        LocalJobs(workspace, mode="cluster")


def test_job_finishing_while_it_is_polled_is_not_failed(workspace, monkeypatch):
    # GIVEN a poll that reads the job as RUNNING, after which the worker writes its result and
    # ends before the poll checks whether the worker is alive (the race two executions hit)
    jobs = LocalJobs(workspace, mode="thread")
    started = jobs.start("calc", f"{TARGETS}:add", {"a": 1, "b": 1})
    done = jobs.wait(started.job_id, timeout=60)
    path = workspace.jobs_dir / f"{started.job_id}.json"
    finished = path.read_text()
    running = json.loads(finished) | {"status": "RUNNING", "result": None}
    path.write_text(json.dumps(running))

    def worker_ends_meanwhile(record):
        path.write_text(finished)
        return False

    monkeypatch.setattr(jobs, "_worker_alive", worker_ends_meanwhile)
    # WHEN the job is polled THEN it reads as the worker recorded it, and the file keeps that
    record = jobs.get(started.job_id)
    assert (record.status, record.result) == (SUCCEEDED, done.result)
    assert json.loads(path.read_text())["status"] == SUCCEEDED
