"""Realtime scoring, shared by ``fraudpipe serve`` and the AWS predict Lambda.

Scores one event with the ACTIVE detector version (the engine answers in AFD's
GetEventPrediction shape), adds the outcomes, and, when the caller asked for review and the
score is in the band, starts a human loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fraudpipe.api.errors import BadRequestError, NotReadyError
from fraudpipe.api.schema import PredictRequest
from fraudpipe.errors import (
    DataValidationError,
    NoActiveDetectorError,
    ResourceNotFoundError,
    ReviewError,
)
from fraudpipe.review.candidates import top_score
from fraudpipe.review.reviewers import Reviewer
from fraudpipe.review.service import request_realtime_review
from fraudpipe.review.settings import ReviewSettings
from fraudpipe.review.task import task_object

__all__ = ["DEFAULT_DETECTOR", "Predictor", "outcomes_of"]

DEFAULT_DETECTOR = "fraud_detector"
HOW_TO_GET_ONE = (
    "no ACTIVE detector version of {detector!r} to score with ({reason}): train and deploy one "
    "with `fraudpipe run` (or `fraudpipe demo`), then retry"
)


def outcomes_of(prediction: dict[str, Any]) -> list[str]:
    """Every outcome of the matched rules, in order, without repeats."""
    seen: list[str] = []
    for rule in prediction.get("ruleResults") or []:
        for outcome in rule.get("outcomes") or []:
            if outcome not in seen:
                seen.append(outcome)
    return seen


def score_of(prediction: dict[str, Any]) -> float | None:
    """The highest insight score of the prediction."""
    scores: dict[str, float] = {}
    for model in prediction.get("modelScores") or []:
        scores.update(model.get("scores") or {})
    return top_score(scores)


class Predictor:
    """Scores requests with ``engine``; ``reviewer()`` builds the review adapter when needed."""

    def __init__(
        self,
        engine: Any,
        detector_id: str = DEFAULT_DETECTOR,
        reviewer: Callable[[PredictRequest], Reviewer] | None = None,
        review: ReviewSettings | None = None,
    ) -> None:
        self.engine = engine
        self.detector_id = detector_id
        self.reviewer = reviewer
        self.review = review or ReviewSettings()

    def predict(self, request: PredictRequest) -> dict[str, Any]:
        """AFD's response shape plus ``eventId``, ``outcomes``, ``score`` and ``review``."""
        [answer] = self.predict_many([request])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def predict_many(self, requests: list[PredictRequest]) -> list[dict[str, Any] | Exception]:
        """:meth:`predict` of several requests, scored as if one after the other in order;
        each answer is the response or the exception of that request: its ApiError (400, 503),
        or an unexpected error of building its response (e.g. from a review adapter), which
        stays that request's alone.

        Why: the built-in engine scores events given together for about the cost of one
        (:func:`fraudpipe.engine.realtime.predict_events`); other engines are called per event.
        """
        try:
            predictions = self._predictions(requests)
        except (NoActiveDetectorError, ResourceNotFoundError) as exc:
            reason = str(exc).rstrip(".")
            message = HOW_TO_GET_ONE.format(detector=self.detector_id, reason=reason)
            return [NotReadyError(message) for _ in requests]
        answers: list[dict[str, Any] | Exception] = []
        for request, prediction in zip(requests, predictions, strict=True):
            if isinstance(prediction, DataValidationError):  # a value the engine refused
                answers.append(BadRequestError([{"field": "event", "problem": str(prediction)}]))
                continue
            try:
                answers.append(self._response(request, prediction))
            except Exception as exc:  # handed to that request's caller, not the others
                answers.append(exc)
        return answers

    def _predictions(self, requests: list[PredictRequest]) -> list[Any]:
        many = getattr(self.engine, "get_event_predictions", None)
        if many is not None:
            from fraudpipe.engine.realtime import RealtimeEvent  # the built-in engine is loaded

            return many(self.detector_id, [RealtimeEvent(
                r.trans_num, r.event_timestamp, r.cc_num, r.event_variables())
                for r in requests])
        out: list[Any] = []
        for r in requests:
            try:
                out.append(self.engine.get_event_prediction(
                    detector_id=self.detector_id, event_id=r.trans_num,
                    event_timestamp=r.event_timestamp, entity_id=r.cc_num,
                    event_variables=r.event_variables()))
            except DataValidationError as exc:
                out.append(exc)
        return out

    def _response(self, request: PredictRequest, prediction: dict[str, Any]) -> dict[str, Any]:
        score = score_of(prediction)
        in_band = score is not None and self.review.in_band(score)
        loop_name = review_error = None
        if request.review_requested and in_band and self.reviewer is not None:
            event = {**request.event_variables(), "EVENT_TIMESTAMP": request.event_timestamp}
            try:
                loop_name = request_realtime_review(
                    self.reviewer(request), request.trans_num, float(score), task_object(event)
                )
            except ReviewError as exc:  # the score stands even if no human loop could start
                review_error = str(exc)
        return {
            "eventId": request.trans_num,
            "detectorId": self.detector_id,
            "detectorVersionId": prediction.get("detectorVersionId"),
            "modelScores": prediction.get("modelScores") or [],
            "ruleResults": prediction.get("ruleResults") or [],
            "outcomes": outcomes_of(prediction),
            "score": score,
            "review": {
                "requested": request.review_requested,
                "inBand": in_band,
                "loopName": loop_name,
                **({"error": review_error} if review_error else {}),
            },
        }
