"""The crawl and ETL task states as library functions (one per handler in ``functions/``).

Why here: a handler parses its event and calls one of these; each picks the local or the AWS
adapter by ``fraudpipe.config.settings().backend`` and returns exactly the keys
docs/contracts.md promises at the state's ResultPath.
"""

from __future__ import annotations

from typing import Any

import boto3

from fraudpipe.config import settings
from fraudpipe.errors import DataValidationError
from fraudpipe.etl.aws import AwsCrawler, AwsEtl
from fraudpipe.etl.crawl import table_name
from fraudpipe.etl.local import LocalCrawler, LocalEtl
from fraudpipe.etl.locations import etl_locations, glue_names, glue_settings
from fraudpipe.handler import StateEvent
from fraudpipe.workspace import Workspace, get_workspace

__all__ = ["get_crawler_status", "get_etl_status", "start_crawler", "start_etl"]


def _raw(event: StateEvent) -> tuple[str, str]:
    inp = event.input
    bucket = str(inp.get("bucket") or settings().bucket or "fraudpipe-local")
    return bucket, str(inp.get("raw_prefix") or "input/")


def _crawler(workspace: Workspace | None, glue_client: Any) -> LocalCrawler | AwsCrawler:
    names = glue_names()
    if settings().is_aws:
        return AwsCrawler(glue_client or boto3.client("glue"), names.crawler)
    return LocalCrawler(workspace or get_workspace(), names.crawler, names.database,
                        glue_client or boto3.client("glue"),
                        int(glue_settings().get("sample_rows", 1000)))


def start_crawler(event: StateEvent, workspace: Workspace | None = None,
                  glue_client: Any = None) -> dict[str, Any]:
    """StartCrawler: crawl the raw prefix into one catalog table."""
    bucket, prefix = _raw(event)
    crawler = _crawler(workspace, glue_client)
    if isinstance(crawler, AwsCrawler):
        result = crawler.start(table_name(prefix))
    else:
        result = crawler.start(etl_locations(bucket, prefix, event.execution_name).raw,
                               table_name(prefix))
    return {k: result[k] for k in ("crawler_name", "database", "table", "state")}


def get_crawler_status(event: StateEvent, workspace: Workspace | None = None,
                       glue_client: Any = None) -> dict[str, Any]:
    """GetCrawlerStatus: ``state`` RUNNING/READY, ``last_crawl`` SUCCEEDED/FAILED, ``error``."""
    _, prefix = _raw(event)
    crawler = _crawler(workspace, glue_client)
    if isinstance(crawler, AwsCrawler):
        return crawler.status(table_name(prefix))
    return crawler.status()


def _options(event: StateEvent) -> dict[str, Any]:
    inp = event.input
    batch = {"mode": "sample", "fraud_samples": 12, "legit_samples": 130, "seed": 42}
    batch.update(inp.get("batch") or {})
    return {"train_cutoff": inp.get("train_cutoff"), "test_cutoff": inp.get("test_cutoff"),
            "batch": batch}


def start_etl(event: StateEvent, workspace: Workspace | None = None, glue_client: Any = None,
              s3_client: Any = None) -> dict[str, Any]:
    """StartEtl: check the raw headers (DataValidationError names what is missing), start."""
    locations = etl_locations(*_raw(event), event.execution_name).to_dict()
    if settings().is_aws:
        etl = AwsEtl(glue_client or boto3.client("glue"), s3_client or boto3.client("s3"),
                     glue_names().etl_job)
        return etl.start(locations, _options(event))
    return LocalEtl(workspace or get_workspace()).start(locations, _options(event))


def get_etl_status(event: StateEvent, workspace: Workspace | None = None,
                   glue_client: Any = None, s3_client: Any = None) -> dict[str, Any]:
    """GetEtlStatus: status, outputs (S3 URIs) and per-file counts once SUCCEEDED."""
    job_run_id = event.section("etl").get("job_run_id")
    if not job_run_id:
        raise DataValidationError("GetEtlStatus needs $.etl.job_run_id (run StartEtl first)")
    locations = etl_locations(*_raw(event), event.execution_name)
    if settings().is_aws:
        etl = AwsEtl(glue_client or boto3.client("glue"), s3_client or boto3.client("s3"),
                     glue_names().etl_job)
        result = etl.status(job_run_id, locations.counts)
    else:
        result = LocalEtl(workspace or get_workspace()).status(job_run_id)
    return {**result, "outputs": locations.outputs()}
