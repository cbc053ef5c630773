"""StartHumanReview and CollectVerdicts handlers on the local backend."""

from __future__ import annotations

import copy
import csv

from fraudpipe.review.queue import ReviewQueue
from fraudpipe.review.resume import pending_resumptions
from fraudpipe.review.service import decide
from functions import collect_verdicts, start_human_review
from tests.conftest import load_event
from tests.review.helpers import write_batch_output

SCORES = {"ev-low": 120.0, "ev-700": 700.0, "ev-750": 750.0, "ev-900": 900.0,
          "ev-901": 901.0, "ev-880": 880.0}  # fmt: skip


def _event(workspace, **review):
    event = load_event("start_human_review")
    event["input"]["review"].update(review)
    write_batch_output(workspace.local_path(event["input"]["batch"]["output"]), SCORES)
    return event


def test_one_loop_per_event_in_the_band_highest_first(workspace, lambda_context):
    # GIVEN a batch output with scores inside, on the edges of, and outside the band
    event = _event(workspace)
    # WHEN StartHumanReview runs
    result = start_human_review.handler(event, lambda_context)
    # THEN the band's four events (edges included) are queued, highest score first
    assert result["loops_started"] == 4 and result["waiting"] is False
    assert result["queue_url"] == "http://127.0.0.1:8000/review"
    items = ReviewQueue(workspace.review_db).items("PENDING")
    assert [i.event_id for i in items] == ["ev-900", "ev-880", "ev-750", "ev-700"]
    assert [i.loop_name for i in items] == result["loop_names"]
    # the task object carries what the reviewer needs, not the card number or the name
    assert items[0].task_object["merchant"] == "fraud_Kirlin and Sons"
    assert "cc_num" not in items[0].task_object and "first" not in items[0].task_object
    # a retried start adds nothing
    again = start_human_review.handler(copy.deepcopy(event), lambda_context)
    assert again["loop_names"] == result["loop_names"]
    assert len(ReviewQueue(workspace.review_db).items()) == 4


def test_max_items_keeps_the_highest_scores(workspace, lambda_context):
    result = start_human_review.handler(_event(workspace, max_items=2), lambda_context)
    assert result["loops_started"] == 2 and result["in_band"] == 4
    assert [i.event_id for i in ReviewQueue(workspace.review_db).items()] == ["ev-900", "ev-880"]


def test_review_disabled_starts_nothing(workspace, lambda_context):
    result = start_human_review.handler(_event(workspace, enabled=False), lambda_context)
    assert result["loops_started"] == 0


def test_wait_records_the_token_until_every_loop_is_answered(workspace, lambda_context):
    event = _event(workspace, wait=True, max_items=2)
    event["task_token"] = "tok-123"
    result = start_human_review.handler(event, lambda_context)
    assert result["waiting"] is True
    assert pending_resumptions(workspace) == []
    for name in result["loop_names"]:
        decide(workspace, name, "fraud")
    [ready] = pending_resumptions(workspace)
    assert ready.execution_name == event["execution_name"] and ready.task_token == "tok-123"
    assert ready.output["answered"] == 2


def test_collect_verdicts_stores_labels_and_reports_the_unanswered(workspace, lambda_context):
    # GIVEN four loops of which two got fraud/legit, one escalate, one nothing (timeout)
    start = start_human_review.handler(_event(workspace, wait=True), lambda_context)
    names = dict(zip(["ev-900", "ev-880", "ev-750", "ev-700"], start["loop_names"], strict=True))
    queue = ReviewQueue(workspace.review_db)
    queue.add_wait("fraudpipe-20261124-ab12", "tok", 60)
    queue.decide(names["ev-900"], "fraud")  # answered through the queue only: no label yet
    queue.decide(names["ev-880"], "legit")
    queue.decide(names["ev-750"], "escalate")
    # WHEN CollectVerdicts runs
    result = collect_verdicts.handler(load_event("collect_verdicts"), lambda_context)
    # THEN labels are stored for fraud/legit, and the unanswered loop is recorded
    assert result["answered"] == 3 and result["unanswered"] == 1
    assert result["labels_stored"] == 2 and result["escalated"] == 1
    assert result["unanswered_loops"] == [names["ev-700"]]
    rows = list(csv.DictReader((workspace.labels_dir / "labels.csv").open()))
    assert {(r["EVENT_ID"], r["EVENT_LABEL"], r["source"]) for r in rows} == {
        ("ev-900", "fraud", "review"),
        ("ev-880", "legit", "review"),
    }
    # and the execution no longer waits: a late answer never resumes it
    decide(workspace, names["ev-700"], "fraud")
    assert pending_resumptions(workspace) == []


def test_review_without_a_batch_output_is_a_review_error(workspace, lambda_context):
    import pytest

    from fraudpipe.errors import ReviewError

    event = load_event("start_human_review")
    del event["input"]["batch"]["output"]
    with pytest.raises(ReviewError, match=r"batch\.output"):
        start_human_review.handler(event, lambda_context)
