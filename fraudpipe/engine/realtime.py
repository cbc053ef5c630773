"""Realtime scoring: AFD's GetEventPrediction on the built-in engine, one event or several.

Why a module of its own: the realtime path is latency-bound (a few events, their cards'
histories from the entity store) while batch scoring in :mod:`fraudpipe.engine.scoring` is
throughput-bound; they share the feature code (:meth:`ModelArtifact.states_matrix`) so the same
event after the same history gets the same score either way.

Per call: one lock-free read of each card's state, the features of every card's recent rows
plus its event in one :func:`~fraudpipe.engine.features.build_features` call, LightGBM's
single-row path per event (:mod:`fraudpipe.engine.single_row`), the rules over all events at
once, then one transaction of conditional writes (see :class:`EntityStore` for why they are
versioned).

Why several events per call: building features costs per numpy call, not per row, so the
events a server has received together (``fraudpipe serve`` scores the requests of one turn of
its event loop together) cost about what one costs. The result is the one of scoring them one
after the other in the given order: each round takes at most one event per card (a card's
second event waits for the next round, after the first is recorded), and a card's rows never
mix with another card's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from fraudpipe.engine.dataset import EVENT_VARIABLES, NUMERIC_VARIABLES
from fraudpipe.engine.entities import CardState, EntityStore, StoredCard, entity_key
from fraudpipe.engine.features import HISTORY_SPAN, to_cents
from fraudpipe.engine.rules import score_variable
from fraudpipe.engine.scoring import Detector
from fraudpipe.errors import DataValidationError

__all__ = ["RealtimeEvent", "predict_event", "predict_events"]

#: Card codes and timestamps share one int64 key in the window search of
#: :func:`~fraudpipe.engine.features.history_features` (``card << 32 | ts``, searched back by up
#: to :data:`HISTORY_SPAN`): an event whose timestamp is outside this range could reach another
#: card's rows, so it is scored alone (card code 0), where that cannot happen.
_SHARED_TS = range(HISTORY_SPAN, 2**32)


@dataclass(frozen=True)
class RealtimeEvent:
    """One event to score (GetEventPrediction's request fields)."""

    event_id: str
    event_timestamp: str
    entity_id: str
    event_variables: dict[str, Any]


@dataclass
class _Parsed:
    ts: int
    key: str
    cents: int
    variables: dict[str, str]
    numbers: dict[str, float]  # NaN when missing
    imputed: list[str]


def predict_event(
    detector: Detector, store: EntityStore, event_id: str, event_timestamp: str,
    entity_id: str, event_variables: dict[str, Any],
) -> dict[str, Any]:
    """Score one event in AFD's GetEventPrediction shape and record it in the store."""
    [answer] = predict_events(detector, store, [
        RealtimeEvent(event_id, event_timestamp, entity_id, event_variables)])
    if isinstance(answer, DataValidationError):
        raise answer
    return answer


def predict_events(
    detector: Detector, store: EntityStore, events: list[RealtimeEvent],
) -> list[dict[str, Any] | DataValidationError]:
    """Score ``events`` as if one after the other, in order, and record them in the store.

    Each answer is AFD's GetEventPrediction shape, or the DataValidationError of an event
    whose values the engine refuses (the other events are scored all the same).
    """
    answers: list[dict[str, Any] | DataValidationError | None] = [None] * len(events)
    parsed: dict[int, _Parsed] = {}
    for index, event in enumerate(events):
        try:
            parsed[index] = _parse(detector, event)
        except DataValidationError as exc:
            answers[index] = exc
    scores: dict[int, dict[str, float]] = {}
    waiting = list(parsed)
    while waiting:
        batch, later, cards, alone = [], [], set(), False
        for index in waiting:
            item = parsed[index]
            apart = item.ts not in _SHARED_TS
            if item.key in cards or (batch and (apart or alone)):
                later.append(index)  # and every later event of its card after it
            else:
                batch.append(index)
                alone = alone or apart
            cards.add(item.key)
        found = _score_and_record(detector, store, [parsed[i] for i in batch])
        scores.update(zip(batch, found, strict=True))
        waiting = later
    if scores:
        order = sorted(scores)
        _answer(detector, [parsed[i] for i in order], [scores[i] for i in order], order,
                answers)
    return answers  # type: ignore[return-value]


def _parse(detector: Detector, event: RealtimeEvent) -> _Parsed:
    ts = _epoch_seconds(event.event_id, event.event_timestamp)
    variables = {k: ("" if v is None else str(v)) for k, v in event.event_variables.items()}
    numbers: dict[str, float] = {}
    for name in NUMERIC_VARIABLES:
        text = variables.get(name, "").strip()
        try:
            numbers[name] = float(text) if text else math.nan
        except ValueError as exc:
            raise DataValidationError(
                f"event {event.event_id}: variable {name} is not a number ({text!r})"
            ) from exc
    amt = numbers["amt"]
    if math.isnan(amt):  # imputed as ModelArtifact.impute does
        amt = float(detector.models[0].artifact.medians["amt"])
    return _Parsed(ts, entity_key(str(event.entity_id).strip()), cents_of(amt), variables,
                   numbers, [v for v in EVENT_VARIABLES if not variables.get(v, "").strip()])


#: Amounts in cents up to this size are converted in Python (:func:`cents_of`).
_EXACT_CENTS = 2.0**62


def cents_of(amt: float) -> int:
    """:func:`~fraudpipe.engine.features.to_cents` of one amount, without three numpy calls.

    Why it is the same integer: ``amt * 100.0`` is the same IEEE double product in Python as
    in numpy; ``np.rint`` and Python's ``round`` both round it to the nearest integer, ties to
    even, and both exactly (below 2**62 the integer fits in int64, and a double of 2**52 or
    more is an integer already), so numpy's cast to int64 changes nothing. Outside +-2**62 (or
    NaN, infinities) the numpy function itself decides (its casts there are not Python's).
    """
    scaled = amt * 100.0
    if -_EXACT_CENTS < scaled < _EXACT_CENTS:
        return round(scaled)
    return int(to_cents(np.array([amt]))[0])


def _answer(
    detector: Detector, items: list[_Parsed], scores: list[dict[str, float]],
    indexes: list[int], answers: list[Any],
) -> None:
    """Rules over the scored events at once, then each event's response."""
    results = detector.rules.rule_results_each(_rule_rows(detector, items, scores))
    models = [(m.model_id, m.model_type, m.version, score_variable(m.model_id))
              for m in detector.models]
    for j, (index, item) in enumerate(zip(indexes, items, strict=True)):
        found = scores[j]
        answers[index] = {
            "modelScores": [
                {
                    "modelVersion": {"modelId": model_id, "modelType": model_type,
                                     "modelVersionNumber": version},
                    "scores": {variable: found[model_id]},
                }
                for model_id, model_type, version, variable in models
            ],
            "ruleResults": results[j],
            "externalModelOutputs": [],
            "imputedVariables": item.imputed,
            "detectorId": detector.detector_id,
            "detectorVersionId": detector.version,
        }


def _rule_rows(
    detector: Detector, items: list[_Parsed], scores: list[dict[str, float]],
) -> list[dict[str, Any]]:
    """Each event's values of the variables its rules read."""
    used = detector.rules.used_variables
    return [{name: _rule_value(name, item, score) for name in used}
            for item, score in zip(items, scores, strict=True)]


def _rule_value(name: str, item: _Parsed, scores: dict[str, float]) -> Any:
    """The value of ``$name`` the rules see for this event (as ``Detector.rule_variables``
    builds them: a model's score by its variable name, numeric variables as numbers, other
    variables as the event's strings)."""
    for model_id, value in scores.items():  # the scores are set last, over the others
        if score_variable(model_id) == name:
            return value
    if name in item.numbers:
        return item.numbers[name]
    return item.variables.get(name, "")


def _score_and_record(
    detector: Detector, store: EntityStore, items: list[_Parsed],
) -> list[dict[str, float]]:
    """Score events of distinct cards on their stored histories and add them to those.

    Scoring runs outside any lock; each write applies only if no other process recorded an
    event of that card meanwhile, else that event is scored again on the newer history. After
    a few such races the card is scored under the store's writers' lock, which always wins.
    """
    stored = store.read_many([item.key for item in items])
    written, scores = _attempt(detector, store, items, [stored.get(i.key) for i in items])
    for j, ok in enumerate(written):
        if not ok:
            scores[j] = _score_one(detector, store, items[j])
    return scores


def _score_one(detector: Detector, store: EntityStore, item: _Parsed) -> dict[str, float]:
    """One event, retried until its write applies (the path of a lost race)."""
    for _ in range(store.OPTIMISTIC_ATTEMPTS - 1):
        [ok], [scores] = _attempt(detector, store, [item], [store.read(item.key)])
        if ok:
            return scores
    with store.exclusive():
        [ok], [scores] = _attempt(detector, store, [item], [store.read(item.key)])
    if not ok:  # pragma: no cover - nobody else writes while the lock is held
        raise RuntimeError(f"entity store {store.path} changed under its writers' lock")
    return scores


def _attempt(
    detector: Detector, store: EntityStore, items: list[_Parsed],
    stored: list[StoredCard | None],
) -> tuple[list[bool], list[dict[str, float]]]:
    """Score the events on the given states and write the new states; which writes applied."""
    snapshot = detector.models[0].artifact.snapshot
    states: list[CardState] = [s.state if s else snapshot.card(i.key)
                               for s, i in zip(stored, items, strict=True)]
    scores: list[dict[str, float]] = [{} for _ in items]
    for model in detector.models:
        artifact = model.artifact
        matrix, rows = artifact.states_matrix(
            states, [i.ts for i in items], [i.numbers for i in items],
            [i.variables for i in items])
        raw = np.array(artifact.row_predictor().raw_rows(matrix, rows.tolist()))
        for j, value in enumerate(artifact.calibration.score(raw).tolist()):
            scores[j][model.model_id] = value
    for state, item in zip(states, items, strict=True):
        state.add(item.ts, item.cents, item.variables.get("category", "").strip())
    written = store.write_many([
        (item.key, state, found.version if found else 0)
        for item, state, found in zip(items, states, stored, strict=True)])
    return written, scores


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
