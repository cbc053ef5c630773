"""QualityGate: refuse to deploy a model whose AUC is below the execution's min_auc."""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.steps import quality_gate
from fraudpipe.handler import parse_event, state_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    logger = state_logger("QualityGate", state)
    result = quality_gate(state)
    logger.info("quality gate passed", extra={k: result.get(k) for k in ("auc", "min_auc")})
    return result
