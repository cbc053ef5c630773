"""StartCrawler: crawl the raw CSVs into one Glue Data Catalog table."""

from __future__ import annotations

from typing import Any

from fraudpipe.etl.steps import start_crawler
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("StartCrawler", state)
    result = start_crawler(state)
    logger.info("crawl started", extra=result)
    return result
