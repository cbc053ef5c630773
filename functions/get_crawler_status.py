"""GetCrawlerStatus: RUNNING, or READY with the last crawl SUCCEEDED / FAILED (and why)."""

from __future__ import annotations

from typing import Any

from fraudpipe.etl.steps import get_crawler_status
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("GetCrawlerStatus", state)
    result = get_crawler_status(state)
    logger.info("crawler status", extra=result)
    return result
