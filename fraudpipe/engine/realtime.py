"""Realtime scoring of one event: AFD's GetEventPrediction on the built-in engine.

Why a module of its own: the realtime path is latency-bound (one event, one card's history
from the entity store) while batch scoring in :mod:`fraudpipe.engine.scoring` is
throughput-bound; they share the feature code (:meth:`ModelArtifact.matrix`) so the same event
after the same history gets the same score either way.

Per event: one lock-free read of the card's state, the features of the card's recent rows plus
the event, LightGBM's single-row path (:mod:`fraudpipe.engine.single_row`), then one
conditional write of the updated state (see :class:`EntityStore` for why it is versioned).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from fraudpipe.engine.artifact import ModelArtifact
from fraudpipe.engine.dataset import EVENT_VARIABLES, NUMERIC_VARIABLES
from fraudpipe.engine.entities import CardState, EntityStore, entity_key
from fraudpipe.engine.features import to_cents
from fraudpipe.engine.rules import score_variable
from fraudpipe.engine.scoring import Detector
from fraudpipe.errors import DataValidationError

__all__ = ["predict_event"]


def predict_event(
    detector: Detector,
    store: EntityStore,
    event_id: str,
    event_timestamp: str,
    entity_id: str,
    event_variables: dict[str, Any],
) -> dict[str, Any]:
    """Score one event in AFD's GetEventPrediction shape and record it in the store."""
    ts = _epoch_seconds(event_id, event_timestamp)
    variables = {k: ("" if v is None else str(v)) for k, v in event_variables.items()}
    imputed = [v for v in EVENT_VARIABLES if not variables.get(v, "").strip()]
    numbers: dict[str, np.ndarray] = {}
    for name in NUMERIC_VARIABLES:
        text = variables.get(name, "").strip()
        try:
            numbers[name] = np.array([float(text) if text else np.nan])
        except ValueError as exc:
            raise DataValidationError(
                f"event {event_id}: variable {name} is not a number ({text!r})"
            ) from exc
    key = entity_key(str(entity_id).strip())
    first = detector.models[0].artifact
    cents = int(to_cents(first.impute({"amt": numbers["amt"]})["amt"])[0])
    scores = _score_and_record(detector, store, key, ts, cents, numbers, variables)
    strings = {name: np.array([variables.get(name, "")], dtype=object)
               for name in EVENT_VARIABLES if name in detector.rules.used_variables}
    hits = detector.rules.matches(detector.rule_variables(strings, numbers, scores), 1)[:, 0]
    return {
        "modelScores": [
            {
                "modelVersion": {"modelId": m.model_id, "modelType": m.model_type,
                                 "modelVersionNumber": m.version},
                "scores": {score_variable(m.model_id): float(scores[m.model_id][0])},
            }
            for m in detector.models
        ],
        "ruleResults": detector.rules.rule_results(hits),
        "externalModelOutputs": [],
        "imputedVariables": imputed,
        "detectorId": detector.detector_id,
        "detectorVersionId": detector.version,
    }


def _score_and_record(
    detector: Detector, store: EntityStore, key: str, ts: int, cents: int,
    numbers: dict[str, np.ndarray], variables: dict[str, str],
) -> dict[str, np.ndarray]:
    """Score the event on the card's stored history and add it to that history.

    Scoring runs outside any lock; the write applies only if no other process recorded an
    event of this card meanwhile, else the event is scored again on the newer history. After
    a few such races the card is scored under the store's writers' lock, which always wins.
    """
    for _ in range(store.OPTIMISTIC_ATTEMPTS):
        done = _attempt(detector, store, key, ts, cents, numbers, variables)
        if done is not None:
            return done
    with store.exclusive():
        done = _attempt(detector, store, key, ts, cents, numbers, variables)
    if done is None:  # pragma: no cover - nobody else writes while the lock is held
        raise RuntimeError(f"entity store {store.path} changed under its writers' lock")
    return done


def _attempt(
    detector: Detector, store: EntityStore, key: str, ts: int, cents: int,
    numbers: dict[str, np.ndarray], variables: dict[str, str],
) -> dict[str, np.ndarray] | None:
    """Scores, or None if the card's row changed between reading and writing it."""
    stored = store.read(key)
    state = stored.state if stored else detector.models[0].artifact.snapshot.card(key)
    scores = {model.model_id: _event_score(model.artifact, state, ts, numbers, variables)
              for model in detector.models}  # fmt: skip
    state.add(ts, cents, variables.get("category", "").strip())
    return scores if store.write(key, state, stored.version if stored else 0) else None


def _event_score(
    artifact: ModelArtifact, state: CardState, ts: int, numbers: dict[str, np.ndarray],
    variables: dict[str, str],
) -> np.ndarray:
    matrix = artifact.state_matrix(state, ts, numbers, variables)
    raw = artifact.row_predictor().raw(matrix[-1])
    return artifact.calibration.score(np.array([raw]))


def _epoch_seconds(event_id: str, stamp: str) -> int:
    """Whole seconds since the epoch of an ISO 8601 timestamp (UTC when no offset is given)."""
    try:
        parsed = datetime.fromisoformat(str(stamp).strip())
    except ValueError as exc:
        raise DataValidationError(
            f"event {event_id}: eventTimestamp {stamp!r} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return math.floor(parsed.timestamp())
