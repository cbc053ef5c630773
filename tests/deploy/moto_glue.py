"""moto's Glue job runs that really run the ETL, so an execution can go past GetEtlStatus.

moto 5.2.5 records a job run and moves it to SUCCEEDED without running any script. This hook
makes ``StartJobRun`` of the deployed job run the repository's ETL on the run's own arguments:
it copies the raw CSVs (and the labels file, if any) from moto S3 to a local folder, runs the
transform there, and uploads the four outputs and the counts document to the S3 URIs the run
was given, exactly where GetEtlStatus and the engine look for them. A failing transform makes
the run FAILED with the error as its ``ErrorMessage``, as Glue reports it.

Two runners:

- ``duckdb`` (default): :func:`fraudpipe.etl.runner.run_etl`, the local twin of the Glue job,
  on the same ``glue/etl.sql``; the hook first checks that the SQL the stack uploaded (the job's
  ``--sql_path``) is byte for byte that file. About a second on small data.
- ``spark`` (``FRAUDPIPE_TEST_GLUE_RUNNER=spark``): the script the stack uploaded (the job's
  ``ScriptLocation``) under local PySpark with the uploaded SQL. Faithful to Glue but a JVM
  start costs 30 s to several minutes on a loaded machine, too slow for the default suite;
  ``tests/etl/test_parity.py`` proves the two runners give the same rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.glue.models import FakeJob, FakeJobRun

from fraudpipe.etl.runner import run_etl
from fraudpipe.s3_objects import S3Objects, split_uri
from glue.etl_job import SQL_PATH, list_csv

__all__ = ["RUNNER_ENV", "glue_job_runs_run_the_etl"]

RUNNER_ENV = "FRAUDPIPE_TEST_GLUE_RUNNER"
OUTPUTS = {"training": "--training_output", "test": "--test_output",
           "batch": "--batch_output", "quarantine": "--quarantine_output"}


def _download(uri: str, path: Path) -> Path:
    bucket, key = split_uri(uri)
    return S3Objects(boto3.client("s3"), bucket).download(key, path)


def _upload(path: Path, uri: str) -> None:
    bucket, key = split_uri(uri)
    S3Objects(boto3.client("s3"), bucket).upload(path, key)


def _stage_inputs(args: dict[str, str], folder: Path) -> tuple[Path, Path | None]:
    """Raw CSVs (and labels when present) from S3 into ``folder``."""
    raw = folder / "raw"
    for name, location in list_csv(args["--raw_path"]):
        _download(location, raw / name)
    labels = None
    if args.get("--labels_path"):
        try:
            labels = _download(args["--labels_path"], folder / "labels.csv")
        except Exception as exc:  # no verdicts stored yet: the ETL runs without labels
            if "404" not in str(exc) and "Not Found" not in str(exc):
                raise
    return raw, labels


def _run_duckdb(args: dict[str, str], folder: Path, raw: Path, labels: Path | None,
                script: str) -> None:
    uploaded = folder / "etl.sql"
    _download(args["--sql_path"], uploaded)
    if uploaded.read_bytes() != SQL_PATH.read_bytes():
        raise RuntimeError(f"the job's SQL {args['--sql_path']} is not glue/etl.sql")
    run_etl({
        "raw_dir": str(raw), "labels_path": str(labels) if labels else None,
        "outputs": {name: str(folder / f"{name}.csv") for name in OUTPUTS},
        "counts_path": str(folder / "counts.json"), "threads": 1,
        "train_cutoff": args.get("--train_cutoff"), "test_cutoff": args.get("--test_cutoff"),
        "batch": {"mode": args["--batch_mode"], "fraud_samples": int(args["--fraud_samples"]),
                  "legit_samples": int(args["--legit_samples"]),
                  "seed": int(args["--batch_seed"])},
    })


def _run_spark(args: dict[str, str], folder: Path, raw: Path, labels: Path | None,
               script: str) -> None:
    job = _download(script, folder / "etl_job.py")
    sql = _download(args["--sql_path"], folder / "etl.sql")
    command = [sys.executable, str(job), "--raw_path", str(raw), "--sql_path", str(sql),
               "--counts_output", str(folder / "counts.json")]
    for name, flag in OUTPUTS.items():
        command += [flag, str(folder / f"{name}.csv")]
    for flag in ("--batch_mode", "--fraud_samples", "--legit_samples", "--batch_seed",
                 "--train_cutoff", "--test_cutoff"):
        if args.get(flag):
            command += [flag, args[flag]]
    if labels:
        command += ["--labels_path", str(labels)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])


RUNNERS: dict[str, Callable[..., None]] = {"duckdb": _run_duckdb, "spark": _run_spark}


def run_job_locally(args: dict[str, str], script: str) -> None:
    """Run the ETL of one job run (its ``--name value`` arguments) and store its outputs."""
    runner = RUNNERS[os.environ.get(RUNNER_ENV, "duckdb")]
    with tempfile.TemporaryDirectory(prefix="glue-run-") as tmp:
        folder = Path(tmp)
        raw, labels = _stage_inputs(args, folder)
        runner(args, folder, raw, labels, script)
        for name, flag in OUTPUTS.items():
            _upload(folder / f"{name}.csv", args[flag])
        _upload(folder / "counts.json", args["--counts_output"])


@contextmanager
def glue_job_runs_run_the_etl() -> Iterator[list[dict[str, Any]]]:
    """Patch moto's Glue so StartJobRun runs the ETL; yields a log of the runs it executed."""
    original_start, original_dict = FakeJob.start_job_run, FakeJobRun.as_dict
    executed: list[dict[str, Any]] = []

    def start_job_run(self: Any, **kwargs: Any) -> str:
        run_id = original_start(self, **kwargs)
        run = next(r for r in self.job_runs if r.job_run_id == run_id)
        try:
            run_job_locally(dict(run.arguments or {}), self.command["ScriptLocation"])
            executed.append({"run_id": run_id, "error": None})
        except Exception as exc:  # the run fails, as a failing Glue script does
            run._transitions = [("STARTING", "RUNNING"), ("RUNNING", "FAILED")]
            run.error_message = f"{type(exc).__name__}: {exc}"
            executed.append({"run_id": run_id, "error": run.error_message})
        return run_id

    def as_dict(self: Any) -> dict[str, Any]:
        data = original_dict(self)
        if getattr(self, "error_message", None):
            data["ErrorMessage"] = self.error_message
        return data

    FakeJob.start_job_run = start_job_run  # type: ignore[method-assign]
    FakeJobRun.as_dict = as_dict  # type: ignore[method-assign]
    try:
        yield executed
    finally:
        FakeJob.start_job_run = original_start  # type: ignore[method-assign]
        FakeJobRun.as_dict = original_dict  # type: ignore[method-assign]
