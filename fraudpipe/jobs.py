"""Local asynchronous jobs: the local twin of Glue job runs, crawls, AFD trainings and batch jobs.

Why: the state machine starts long work and polls it (Start -> Wait -> GetStatus), exactly as on
AWS. Locally the work runs in a detached worker process (``python -m fraudpipe.jobs JOBFILE``) so
that it uses its own core, survives a SIGKILL of the process running the state machine, and can
be polled by a redriven execution. The job's state is a JSON file in the workspace, written
atomically by the worker; a RUNNING job whose worker is gone reads as FAILED.

``FRAUDPIPE_JOB_MODE=thread`` runs jobs in a thread of the calling process instead (faster
start, used by unit tests); the file protocol is the same. On AWS the engine's jobs run in a
worker Lambda instead (:class:`fraudpipe.aws_jobs.LambdaJobs`, same interface, same
:class:`JobRecord` stored in S3, a deadline in place of the process check).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import Workspace, atomic_write_json, get_workspace, read_json

__all__ = ["JobRecord", "LocalJobs", "ProgressFn"]

ProgressFn = Callable[[str], None]
JOB_MODE_ENV = "FRAUDPIPE_JOB_MODE"
RUNNING, SUCCEEDED, FAILED = "RUNNING", "SUCCEEDED", "FAILED"


@dataclass
class JobRecord:
    """State of one job, as stored in ``<workspace>/jobs/<job_id>.json``."""

    job_id: str
    kind: str
    target: str
    params: dict[str, Any]
    status: str = RUNNING
    pid: int | None = None
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    error: str | None = None
    error_type: str | None = None
    result: dict[str, Any] | None = None
    progress: str | None = None
    #: epoch seconds after which a RUNNING job counts as dead (AWS worker jobs; None locally)
    deadline: float | None = None
    #: who picked the job up (the worker Lambda's request id; None locally and until then)
    worker: str | None = None

    @property
    def done(self) -> bool:
        return self.status != RUNNING


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie (a finished child nobody waited for)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class LocalJobs:
    """Start, poll and run jobs whose state lives in the workspace."""

    _threads: dict[str, threading.Thread] = {}
    _children: dict[str, subprocess.Popen[bytes]] = {}

    def __init__(self, workspace: Workspace | None = None, mode: str | None = None) -> None:
        self.workspace = workspace or get_workspace()
        self.mode = mode or os.environ.get(JOB_MODE_ENV, "process")
        if self.mode not in ("process", "thread"):
            raise ValueError(f"{JOB_MODE_ENV} must be 'process' or 'thread', not {self.mode!r}")

    def _file(self, job_id: str) -> Path:
        return self.workspace.jobs_dir / f"{job_id}.json"

    def start(
        self, kind: str, target: str, params: dict[str, Any], job_id: str | None = None
    ) -> JobRecord:
        """Start ``target`` (``"module:function"``) with ``params``; returns at once.

        The function is called as ``function(params, progress)`` and returns a JSON-able dict.
        """
        job_id = job_id or f"{kind}-{uuid.uuid4().hex[:12]}"
        record = JobRecord(job_id=job_id, kind=kind, target=target, params=params)
        path = self._file(job_id)
        atomic_write_json(path, asdict(record))
        if self.mode == "thread":
            record.pid = os.getpid()
            atomic_write_json(path, asdict(record))
            # Not a daemon: the interpreter waits for the job at exit instead of tearing it
            # down mid-call (a daemon thread still importing LightGBM while the process
            # finalizes aborts the whole process), and the job's record always gets its end.
            thread = threading.Thread(target=run_job_file, args=(path,), name=job_id)
            self._threads[job_id] = thread
            thread.start()
        else:
            env = {**os.environ, "FRAUDPIPE_HOME": str(self.workspace.root)}
            log = (self.workspace.jobs_dir / f"{job_id}.log").open("ab")
            child = subprocess.Popen(
                [sys.executable, "-m", "fraudpipe.jobs", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
            log.close()
            self._children[job_id] = child
            record.pid = child.pid
            current = read_json(path, {})
            if current.get("status") == RUNNING:
                current["pid"] = child.pid
                atomic_write_json(path, current)
        return record

    def get(self, job_id: str) -> JobRecord:
        """Current state of a job; a RUNNING job whose worker died reads as FAILED."""
        data = read_json(self._file(job_id))
        if data is None:
            raise ResourceNotFoundError(f"no job named {job_id!r}")
        record = JobRecord(**data)
        if record.status == RUNNING and not self._worker_alive(record):
            # A worker writes its final record before it ends, so read again now that it has
            # ended: a job that finished between the first read and the check is not failed.
            record = JobRecord(**read_json(self._file(job_id), data))
            if record.status != RUNNING:
                return record
            record.status = FAILED
            record.error_type = "WorkerDied"
            record.error = f"the worker process of job {job_id} exited without a result"
            record.ended_at = time.time()
            atomic_write_json(self._file(job_id), asdict(record))
        return record

    def wait(self, job_id: str, timeout: float = 3600.0, interval: float = 0.05) -> JobRecord:
        """Block until the job is done (for CLIs and tests; the state machine polls instead)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get(job_id)
            if record.done:
                return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {record.status} after {timeout}s")
            time.sleep(interval)

    def _worker_alive(self, record: JobRecord) -> bool:
        thread = self._threads.get(record.job_id)
        if thread is not None:
            return thread.is_alive()
        child = self._children.get(record.job_id)
        if child is not None:
            return child.poll() is None
        if record.pid is None:  # between the first write and the spawn
            return time.time() - record.started_at < 30
        if record.pid == os.getpid():  # a thread job of this process that we do not know
            return False
        return _pid_alive(record.pid)


def run_job_file(path: Path) -> None:
    """Run the job described by ``path`` and record its result or error in the same file."""
    data = read_json(path)
    record = JobRecord(**data)

    def progress(message: str) -> None:
        current = read_json(path, data)
        current["progress"] = message
        atomic_write_json(path, current)

    try:
        module_name, _, func_name = record.target.partition(":")
        function = getattr(importlib.import_module(module_name), func_name)
        result = function(record.params, progress)
        record = JobRecord(**read_json(path, data))
        record.status, record.result = SUCCEEDED, result or {}
    except BaseException as exc:  # the job's failure is data for the poller, not a crash
        record = JobRecord(**read_json(path, data))
        record.status = FAILED
        record.error_type = type(exc).__name__
        record.error = str(exc) or type(exc).__name__
        record.progress = (record.progress or "") + "\n" + traceback.format_exc(limit=5)
        if not isinstance(exc, Exception):
            raise
    finally:
        record.ended_at = time.time()
        atomic_write_json(path, asdict(record))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m fraudpipe.jobs JOBFILE", file=sys.stderr)
        return 2
    run_job_file(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
