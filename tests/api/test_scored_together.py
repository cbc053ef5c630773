"""Events scored together (what ``serve`` does with requests that arrive together) get exactly
the answers of scoring them one after the other, at the engine and through the HTTP app."""

from __future__ import annotations

import asyncio
import json
import shutil

import httpx
import pandas as pd
import pytest

from fraudpipe.api.keys import ensure_api_key
from fraudpipe.api.schema import PredictRequest
from fraudpipe.api.service import Predictor
from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.realtime import RealtimeEvent
from fraudpipe.errors import DataValidationError
from fraudpipe.review.settings import ReviewSettings
from fraudpipe.server import create_app
from fraudpipe.workspace import get_workspace
from tests.api.trained import DETECTOR, VARIABLES, batch_score, test_events

pytestmark = pytest.mark.slow  # trains a model once per worker (a few seconds)


def _event(row: dict[str, str]) -> RealtimeEvent:
    return RealtimeEvent(row["trans_num"], row["EVENT_TIMESTAMP"], row["cc_num"],
                         {k: row[k] for k in VARIABLES})


def _one_by_one(engine: BuiltinEngine, event: RealtimeEvent) -> dict | str:
    try:
        return engine.get_event_prediction(DETECTOR, event.event_id, event.event_timestamp,
                                           event.entity_id, event.event_variables)
    except DataValidationError as exc:
        return f"refused: {exc}"


def test_events_scored_together_get_the_answers_of_one_by_one(trained_ws, trained_root,
                                                               tmp_path):
    # GIVEN a sequence where cards recur within a chunk, a value the engine refuses, and
    # events too far in the future or the past to share a feature call (scored alone)
    rows = test_events(trained_ws, limit=90)
    rows[13] = {**rows[13], "amt": "not a number"}
    rows[40] = {**rows[40], "EVENT_TIMESTAMP": "2200-01-01T00:00:00Z"}
    rows[50] = {**rows[50], "EVENT_TIMESTAMP": "1970-01-02T00:00:00Z"}  # and too far back
    events = [_event(row) for row in rows]
    chunks = [events[i:i + 9] for i in range(0, len(events), 9)]
    assert any(len({e.entity_id for e in chunk}) < len(chunk) for chunk in chunks)
    other = get_workspace(tmp_path / "other")
    shutil.copytree(trained_root, other.root,
                    ignore=shutil.ignore_patterns("entity_store.sqlite*", "*.lock", "jobs"))
    alone, together = BuiltinEngine(trained_ws), BuiltinEngine(other)
    try:
        # WHEN one engine scores them one by one and another nine at a time
        expected = [_one_by_one(alone, event) for event in events]
        found = []
        for chunk in chunks:
            for answer in together.get_event_predictions(DETECTOR, chunk):
                found.append(f"refused: {answer}" if isinstance(answer, Exception) else answer)
    finally:
        alone.close()
        together.close()
    # THEN every answer is the same, refusals included, and the histories agree
    assert found == expected
    assert str(found[13]).startswith("refused: event") and "amt" in str(found[13])
    assert len({json.dumps(a["modelScores"]) for a in found if isinstance(a, dict)}) > 10


def test_concurrent_requests_are_scored_together_and_equal_the_batch_job(trained_ws,
                                                                         tmp_path):
    # GIVEN the first 60 test events, in time order, and their scores from a batch job
    events = test_events(trained_ws, limit=60)
    batch_file = tmp_path / "batch.csv"
    pd.DataFrame(events).drop(columns=["EVENT_LABEL"]).to_csv(batch_file, index=False)
    batch = {row["EVENT_ID"]: json.loads(row["MODEL_SCORES"])["fraud_model"]
             for row in batch_score(trained_ws, batch_file).to_dict("records")}
    app = create_app(trained_ws)
    key = ensure_api_key(trained_ws)

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api",
                                     headers={"x-api-key": key}) as client:
            answers = []
            for start in range(0, len(events), 15):  # 15 requests in flight at a time
                answers += await asyncio.gather(*(
                    client.get("/predict", params={
                        **{k: e[k] for k in VARIABLES}, "event_timestamp": e["EVENT_TIMESTAMP"]})
                    for e in events[start:start + 15]))
            return answers

    # WHEN they are sent 15 at a time, in order
    responses = asyncio.run(send_all())
    # THEN they were scored in groups, and every event got its batch score
    assert all(r.status_code == 200 for r in responses), responses[0].text
    queue = app.state.scoring_queue
    assert queue.requests == 60 and queue.calls < 60 and queue.largest > 1
    scores = {e["trans_num"]: r.json()["score"] for e, r in zip(events, responses, strict=True)}
    assert scores == pytest.approx(batch, abs=1e-6)


def test_a_failure_building_one_answer_stays_that_requests_own(trained_ws):
    # GIVEN three requests scored together, the middle one asking for a human review
    # through an adapter that fails unexpectedly
    rows = test_events(trained_ws, limit=3)

    def broken_reviewer(request: PredictRequest) -> None:
        raise RuntimeError("review adapter down")

    engine = BuiltinEngine(trained_ws)
    predictor = Predictor(engine, DETECTOR, reviewer=broken_reviewer,
                          review=ReviewSettings(min=0, max=1000))
    requests = [PredictRequest.model_validate({
        **{k: row[k] for k in VARIABLES}, "event_timestamp": row["EVENT_TIMESTAMP"],
        "review": index == 1}) for index, row in enumerate(rows)]
    try:
        # WHEN they are scored in one call
        first, middle, last = predictor.predict_many(requests)
    finally:
        engine.close()
    # THEN only the middle one failed (its caller answers 500); the others have their scores
    assert isinstance(middle, RuntimeError)
    assert first["eventId"] == rows[0]["trans_num"] and last["eventId"] == rows[2]["trans_num"]
    assert first["review"]["requested"] is False and 0 <= last["score"] <= 1000
