"""Local adapters of the Glue crawler and the Glue ETL job (workspace + ``fraudpipe.jobs``).

Why jobs: Start/Wait/GetStatus must poll real asynchronous work, as on AWS; a crawl or an ETL
started by one process can be polled by another (a redriven execution). Crawler state lives in
``ws.catalog_dir/crawlers/<name>.json``: RUNNING while its job runs, then READY with the last
crawl SUCCEEDED or FAILED (and its error message).
"""

from __future__ import annotations

import time
from typing import Any

from fraudpipe.etl.catalog import upsert_table
from fraudpipe.etl.raw import inspect_files
from fraudpipe.jobs import FAILED, RUNNING, SUCCEEDED, LocalJobs
from fraudpipe.workspace import Workspace, atomic_write_json, read_json

__all__ = ["LocalCrawler", "LocalEtl"]

READY = "READY"


class LocalCrawler:
    """A crawler named ``name`` over one raw folder, writing one table of ``database``."""

    def __init__(self, workspace: Workspace, name: str, database: str,
                 glue_client: Any = None, sample_rows: int = 1000) -> None:
        self.workspace, self.name, self.database = workspace, name, database
        self.glue, self.sample_rows = glue_client, sample_rows
        self.jobs = LocalJobs(workspace)

    @property
    def _file(self) -> Any:
        return self.workspace.catalog_dir / "crawlers" / f"{self.name}.json"

    def _state(self) -> dict[str, Any]:
        return read_json(self._file, {"name": self.name, "state": READY, "last_crawl": None,
                                      "error": None, "database": self.database, "table": None})

    def start(self, raw_uri: str, table: str) -> dict[str, Any]:
        """Start a crawl of ``raw_uri`` unless one is running (then report that one)."""
        state = self._state()
        if state["state"] == RUNNING and self.jobs.get(state["job_id"]).status == RUNNING:
            return self._public(state)
        job = self.jobs.start("crawl", "fraudpipe.etl.crawl:crawl_job", {
            "raw_dir": str(self.workspace.local_path(raw_uri)), "location": raw_uri,
            "database": self.database, "table": table, "sample_rows": self.sample_rows,
        })
        state.update(state=RUNNING, job_id=job.job_id, table=table, started_at=time.time())
        atomic_write_json(self._file, state)
        return self._public(state)

    def status(self) -> dict[str, Any]:
        """Poll: finish the crawl's bookkeeping (and write the table) once its job is done."""
        state = self._state()
        if state["state"] == RUNNING:
            job = self.jobs.get(state["job_id"])
            if job.status == RUNNING:
                return self._public(state)
            state.update(state=READY, ended_at=job.ended_at)
            if job.status == SUCCEEDED:
                state.update(last_crawl=SUCCEEDED, error=None, result=job.result)
            else:
                state.update(last_crawl=FAILED, error=job.error, result=None)
            atomic_write_json(self._file, state)
        if state.get("last_crawl") == SUCCEEDED and self.glue is not None:
            upsert_table(self.glue, self.workspace, self.database, state["table"],
                         state["result"])
        return self._public(state)

    def _public(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"crawler_name": self.name, "database": self.database, "table": state["table"],
                "state": state["state"], "last_crawl": state.get("last_crawl"),
                "error": state.get("error")}


class LocalEtl:
    """The ETL job: validation now (clear Cause), the transform in a DuckDB job."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.jobs = LocalJobs(workspace)

    def start(self, locations: dict[str, str], options: dict[str, Any]) -> dict[str, Any]:
        """Check the raw files' headers (raises DataValidationError) and start the job."""
        ws = self.workspace
        raw_dir = ws.local_path(locations["raw"])
        inspect_files(raw_dir)
        labels = ws.labels_dir / "labels.csv"
        params = {
            "raw_dir": str(raw_dir),
            "outputs": {k: str(ws.local_path(locations[k]))
                        for k in ("training", "test", "batch", "quarantine")},
            "counts_path": str(ws.local_path(locations["counts"])),
            "labels_path": str(labels),
            **options,
        }
        job = self.jobs.start("etl", "fraudpipe.etl.runner:run_etl", params)
        return {"job_run_id": job.job_id, "status": RUNNING}

    def status(self, job_run_id: str) -> dict[str, Any]:
        """RUNNING / SUCCEEDED (with counts) / FAILED (with the error)."""
        job = self.jobs.get(job_run_id)
        result: dict[str, Any] = {"job_run_id": job_run_id, "status": job.status,
                                  "error": None, "counts": None}
        if job.status == SUCCEEDED and job.result:
            result.update({k: job.result.get(k) for k in
                           ("counts", "output_rows", "quarantine_reasons", "cutoffs")})
        elif job.status == FAILED:
            result["error"] = f"{job.error_type}: {job.error}"
        return result
