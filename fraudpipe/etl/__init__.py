"""Crawl and ETL: local adapters (a real crawl, DuckDB running glue/etl.sql) and AWS adapters
(the deployed Glue crawler and Glue Spark job), behind the four task-state functions."""

from __future__ import annotations

from fraudpipe.etl.aws import AwsCrawler, AwsEtl, check_raw_headers
from fraudpipe.etl.crawl import crawl_folder, table_name
from fraudpipe.etl.local import LocalCrawler, LocalEtl
from fraudpipe.etl.locations import EtlLocations, etl_locations, glue_names
from fraudpipe.etl.runner import run_etl
from fraudpipe.etl.steps import get_crawler_status, get_etl_status, start_crawler, start_etl

__all__ = [
    "AwsCrawler",
    "AwsEtl",
    "EtlLocations",
    "LocalCrawler",
    "LocalEtl",
    "check_raw_headers",
    "crawl_folder",
    "etl_locations",
    "get_crawler_status",
    "get_etl_status",
    "glue_names",
    "run_etl",
    "start_crawler",
    "start_etl",
    "table_name",
]
