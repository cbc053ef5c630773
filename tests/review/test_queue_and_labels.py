"""The SQLite queue (loops, waits, resumptions) and the labels file."""

from __future__ import annotations

import csv

import pytest

from fraudpipe.errors import ResourceNotFoundError, ReviewError
from fraudpipe.review.labels import Label, LabelStore
from fraudpipe.review.queue import ReviewQueue
from fraudpipe.review.resume import (
    mark_resumed,
    pending_resumptions,
    resume_ready,
    review_summary,
)
from fraudpipe.review.service import decide


def test_queue_orders_by_score_and_refuses_double_answers(workspace):
    queue = ReviewQueue(workspace.review_db)
    assert queue.add("l1", "e1", "ev1", 710, {"amt": 1})
    assert queue.add("l2", "e1", "ev2", 880, {"amt": 2})
    assert not queue.add("l1", "e1", "ev1", 710, {"amt": 1})  # a retried start adds nothing
    assert [i.loop_name for i in queue.items("PENDING")] == ["l2", "l1"]
    item = queue.decide("l2", "fraud")
    assert item.answered and item.verdict == "fraud" and item.answered_at.endswith("Z")
    with pytest.raises(ReviewError, match="already answered"):
        queue.decide("l2", "legit")
    with pytest.raises(ResourceNotFoundError, match="nope"):
        queue.decide("nope", "legit")
    with pytest.raises(ValueError, match="verdict must be one of"):
        queue.decide("l1", "perhaps")
    assert queue.counts() == {"pending": 1, "answered": 1}


def test_an_execution_is_ready_to_resume_once_every_loop_is_answered(workspace):
    queue = ReviewQueue(workspace.review_db)
    queue.add("a", "exec-1", "ev1", 800, {})
    queue.add("b", "exec-1", "ev2", 750, {})
    queue.add_wait("exec-1", "token-1", timeout_seconds=60)
    assert pending_resumptions(workspace) == []
    decide(workspace, "a", "fraud")
    assert pending_resumptions(workspace) == []
    decide(workspace, "b", "escalate")
    [ready] = pending_resumptions(workspace)
    assert ready.task_token == "token-1"
    assert ready.output == {"answered": 2, "unanswered": 0, "loop_names": ["a", "b"]}
    sent = []
    assert resume_ready(workspace, lambda **kw: sent.append(kw)) == ["exec-1"]
    assert sent[0]["taskToken"] == "token-1"
    assert pending_resumptions(workspace) == []  # resumed once only
    assert not mark_resumed(workspace, "exec-1")


def test_an_expired_wait_is_not_resumed(workspace):
    queue = ReviewQueue(workspace.review_db)
    queue.add("a", "exec-2", "ev1", 800, {})
    queue.add_wait("exec-2", "token-2", timeout_seconds=0.001)
    decide(workspace, "a", "legit")
    assert pending_resumptions(workspace) == []


def test_a_refused_token_still_closes_the_wait(workspace):
    queue = ReviewQueue(workspace.review_db)
    queue.add_wait("exec-3", "stale", timeout_seconds=60)  # no loops: ready at once

    def refuse(**_):
        raise RuntimeError("TaskTimedOut")

    assert resume_ready(workspace, refuse) == ["exec-3"]
    assert pending_resumptions(workspace) == []


def test_verdicts_become_labels_and_later_ones_win(workspace):
    queue = ReviewQueue(workspace.review_db)
    queue.add("a", "realtime", "ev1", 800, {})
    queue.add("b", "realtime", "ev2", 800, {})
    queue.add("c", "realtime", "ev1", 820, {})
    decide(workspace, "a", "fraud")
    decide(workspace, "b", "escalate")  # no label
    decide(workspace, "c", "legit")  # same event: replaces the first label
    path = workspace.labels_dir / "labels.csv"
    rows = list(csv.DictReader(path.open()))
    assert [(r["EVENT_ID"], r["EVENT_LABEL"], r["source"]) for r in rows] == [
        ("ev1", "legit", "review")
    ]
    assert list(rows[0]) == ["EVENT_ID", "EVENT_LABEL", "LABEL_TIMESTAMP", "source"]
    with pytest.raises(ValueError, match="fraud or legit"):
        LabelStore.local(workspace).upsert([Label("ev9", "maybe", "2020-01-01T00:00:00Z")])


def test_summary_counts_and_url(workspace):
    assert review_summary(workspace) == {
        "pending": 0,
        "answered": 0,
        "url": "http://127.0.0.1:8000/review",
    }
    ReviewQueue(workspace.review_db).add("a", "e", "ev", 800, {})
    assert review_summary(workspace, "e")["pending"] == 1
    assert review_summary(workspace, "other")["pending"] == 0
