"""AWS adapters: the deployed Glue crawler and Glue Spark job, driven through boto3.

Why normalise: the state machine's Choice states read only ``state``/``last_crawl`` and
``status`` (docs/contracts.md), whatever Glue calls them (STOPPING, CANCELLED, TIMEOUT, ...).
Clients are passed in so tests attach moto or botocore's Stubber.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fraudpipe.errors import DataValidationError
from fraudpipe.s3_objects import split_uri
from glue.etl_job import EtlInputError, check_header, first_line

__all__ = ["CRAWL_OUTCOMES", "JOB_STATES", "AwsCrawler", "AwsEtl", "check_raw_headers"]

#: Glue job run states -> the contract's RUNNING / SUCCEEDED / FAILED.
JOB_STATES = {"STARTING": "RUNNING", "RUNNING": "RUNNING", "STOPPING": "RUNNING",
              "WAITING": "RUNNING", "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED",
              "ERROR": "FAILED", "TIMEOUT": "FAILED", "STOPPED": "FAILED", "EXPIRED": "FAILED"}

#: Glue LastCrawl.Status -> the contract's SUCCEEDED / FAILED (moto reports COMPLETED).
CRAWL_OUTCOMES = {"SUCCEEDED": "SUCCEEDED", "COMPLETED": "SUCCEEDED", "FAILED": "FAILED",
                  "CANCELLED": "FAILED"}


class AwsCrawler:
    """The stack's crawler (it targets the raw prefix; the table is named after that folder)."""

    def __init__(self, glue_client: Any, name: str) -> None:
        self.glue, self.name = glue_client, name

    def start(self, table: str) -> dict[str, Any]:
        # a redriven execution polls the crawl already under way
        with contextlib.suppress(self.glue.exceptions.CrawlerRunningException):
            self.glue.start_crawler(Name=self.name)
        status = self.status(table)
        return {**status, "state": "RUNNING" if status["state"] == "READY" else status["state"]}

    def status(self, table: str) -> dict[str, Any]:
        crawler = self.glue.get_crawler(Name=self.name)["Crawler"]
        last = crawler.get("LastCrawl") or {}
        state = "READY" if crawler.get("State") == "READY" else "RUNNING"
        outcome = last.get("Status")
        last_crawl = CRAWL_OUTCOMES.get(outcome or "") if state == "READY" else None
        error = last.get("ErrorMessage") if last_crawl == "FAILED" else None
        if last_crawl == "FAILED" and not error:
            error = f"crawl {outcome.lower()}" if outcome else "crawl failed"
        return {"crawler_name": self.name, "database": crawler.get("DatabaseName"),
                "table": table, "state": state, "last_crawl": last_crawl, "error": error}


def check_raw_headers(s3_client: Any, raw_uri: str) -> list[str]:
    """Headers of the CSVs under ``raw_uri`` read with ranged GETs; DataValidationError if bad."""
    bucket, prefix = split_uri(raw_uri)
    names = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                    Prefix=prefix):
        for item in page.get("Contents", []):
            rest = item["Key"][len(prefix):]
            if not rest.lower().endswith(".csv") or "/" in rest:
                continue
            if item.get("Size", 0) == 0:
                raise DataValidationError(f"input file {rest} is empty (0 bytes)")
            head = s3_client.get_object(Bucket=bucket, Key=item["Key"],
                                        Range="bytes=0-65535")["Body"].read()
            try:
                check_header(rest, first_line(head))
            except EtlInputError as exc:
                raise DataValidationError(str(exc)) from exc
            if not head.split(b"\n", 1)[-1].strip() and item.get("Size", 0) <= len(head):
                raise DataValidationError(f"input file {rest} has a header but no data rows")
            names.append(rest)
    if not names:
        raise DataValidationError(f"no CSV files under {raw_uri}")
    return sorted(names)


class AwsEtl:
    """The deployed Glue job running glue/etl_job.py with this execution's arguments."""

    def __init__(self, glue_client: Any, s3_client: Any, job_name: str) -> None:
        self.glue, self.s3, self.job_name = glue_client, s3_client, job_name

    def start(self, locations: dict[str, str], options: dict[str, Any]) -> dict[str, Any]:
        check_raw_headers(self.s3, locations["raw"])
        batch = options.get("batch") or {}
        arguments = {
            "--raw_path": locations["raw"],
            "--training_output": locations["training"],
            "--test_output": locations["test"],
            "--batch_output": locations["batch"],
            "--quarantine_output": locations["quarantine"],
            "--counts_output": locations["counts"],
            "--labels_path": locations["labels"],
            "--batch_mode": str(batch.get("mode", "sample")),
            "--fraud_samples": str(int(batch.get("fraud_samples", 12))),
            "--legit_samples": str(int(batch.get("legit_samples", 130))),
            "--batch_seed": str(int(batch.get("seed", 42))),
        }
        for key in ("train_cutoff", "test_cutoff"):
            if options.get(key):  # Glue refuses empty argument values: leave unset for default
                arguments[f"--{key}"] = str(options[key])
        run = self.glue.start_job_run(JobName=self.job_name, Arguments=arguments)
        return {"job_run_id": run["JobRunId"], "status": "RUNNING"}

    def status(self, job_run_id: str, counts_uri: str) -> dict[str, Any]:
        run = self.glue.get_job_run(JobName=self.job_name, RunId=job_run_id)["JobRun"]
        status = JOB_STATES.get(run.get("JobRunState", ""), "FAILED")
        result: dict[str, Any] = {"job_run_id": job_run_id, "status": status, "error": None,
                                  "counts": None}
        if status == "FAILED":
            result["error"] = run.get("ErrorMessage") or f"job run {run.get('JobRunState')}"
        elif status == "SUCCEEDED":
            bucket, key = split_uri(counts_uri)
            summary = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            result.update({k: summary.get(k) for k in
                           ("counts", "output_rows", "quarantine_reasons", "cutoffs")})
        return result
