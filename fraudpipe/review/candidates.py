"""Which batch-scored events go to a human: scores in the band, highest first, capped.

Reads the batch output (input columns + ``MODEL_SCORES`` JSON + ``STATUS``); rows that could not
be scored are skipped. The cap (``review.max_items``) keeps a bad model from flooding reviewers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd

from fraudpipe.errors import DataValidationError
from fraudpipe.review.settings import ReviewSettings
from fraudpipe.review.task import task_object

__all__ = ["Candidate", "select_candidates", "top_score"]


@dataclass(frozen=True)
class Candidate:
    event_id: str
    score: float
    task_object: dict[str, Any]


def top_score(model_scores: Any) -> float | None:
    """The highest model score in a MODEL_SCORES cell (JSON text or dict), None if absent."""
    if isinstance(model_scores, str):
        if not model_scores.strip():
            return None
        model_scores = json.loads(model_scores)
    if not isinstance(model_scores, dict) or not model_scores:
        return None
    return max(float(v) for v in model_scores.values())


def select_candidates(
    source: str | IO[str] | Any, settings: ReviewSettings, name: str = "batch output"
) -> tuple[list[Candidate], int]:
    """``(candidates to review, number of rows in the band)`` from a batch output CSV."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    missing = [c for c in ("EVENT_ID", "MODEL_SCORES") if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{name} lacks columns {missing}")
    found: list[Candidate] = []
    for index, row in enumerate(frame.to_dict("records")):
        if row.get("STATUS", "SUCCESS") not in ("SUCCESS", ""):
            continue
        try:
            score = top_score(row["MODEL_SCORES"])
        except (ValueError, TypeError) as exc:
            raise DataValidationError(
                f"{name} row {index + 2}: MODEL_SCORES is not a JSON object of scores"
            ) from exc
        if score is None or not settings.in_band(score):
            continue
        found.append(Candidate(str(row["EVENT_ID"]), score, task_object(row)))
    found.sort(key=lambda c: (-c.score, c.event_id))
    return found[: settings.max_items], len(found)
