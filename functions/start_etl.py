"""StartEtl: check the raw files, then start the ETL (DuckDB job locally, Glue job on AWS)."""

from __future__ import annotations

from typing import Any

from fraudpipe.etl.steps import start_etl
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("StartEtl", state)
    result = start_etl(state)
    logger.info("etl started", extra=result)
    return result
