"""Engine worker (not a state): runs one training or batch job the engine started asynchronously.

CreateModelVersion and StartBatchPrediction invoke this function with ``InvocationType=Event``
and return at once; it runs ``fraudpipe.engine.workers`` and records the outcome in the S3
registry, where GetTrainingStatus and GetBatchStatus read it (see ``fraudpipe.aws_jobs``).
"""

from __future__ import annotations

from typing import Any

from fraudpipe.aws_jobs import run_lambda_job
from fraudpipe.engine.backends import job_records
from fraudpipe.logs import get_logger

logger = get_logger("RunEngineJob")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run_lambda_job(event, context, job_records())
    logger.info("engine job", extra=result)
    return result
