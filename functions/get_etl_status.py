"""GetEtlStatus: poll the ETL; outputs and per-file row counts once it succeeded."""

from __future__ import annotations

from typing import Any

from fraudpipe.etl.steps import get_etl_status
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("GetEtlStatus", state)
    result = get_etl_status(state)
    logger.info("etl status", extra={k: result.get(k) for k in ("job_run_id", "status", "error",
                                                                "counts")})
    return result
