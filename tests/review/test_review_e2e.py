"""Whole executions on the local runtime: a review wait resumed by answering through the review
API, then an update training whose training file holds the corrected labels, and a wait that
times out with its unanswered loops recorded."""

from __future__ import annotations

import csv
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from fraudpipe.api.keys import ensure_api_key
from fraudpipe.data import write_kaggle_files
from fraudpipe.review.queue import ReviewQueue
from fraudpipe.server import create_app
from tests.api.trained import kaggle_frames

pytestmark = pytest.mark.slow

BUCKET = "fraudpipe-local"
FAST = {"crawler": 1, "etl": 1, "training": 1, "batch": 1, "simultaneous_training": 1}


def _input(**overrides) -> dict:
    base = {
        "bucket": BUCKET,
        "min_auc": 0.5,
        "batch": {"mode": "sample", "fraud_samples": 4, "legit_samples": 16, "seed": 7},
        "poll_seconds": FAST,
    }
    return {**base, **overrides}


def _wait_for_loops(runtime, ws, execution: str, count: int, timeout: float = 240) -> list:
    deadline = time.monotonic() + timeout
    queue = ReviewQueue(ws.review_db)
    while time.monotonic() < deadline:
        if ws.review_db.exists():
            items = queue.items(execution_name=execution)
            if len(items) >= count:
                return items
        record = runtime.describe(execution)
        assert record["status"] == "RUNNING", (record["error"], record["cause"])
        time.sleep(0.2)
    raise AssertionError(f"no {count} review loops for {execution} after {timeout}s")


def test_verdicts_resume_the_execution_and_correct_the_next_training(
    workspace, monkeypatch, output_dir
):
    from fraudpipe.local.runtime import LocalRuntime

    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.05")
    # GIVEN a year of generated transactions of a few cards in the raw prefix
    raw = workspace.local_path(f"s3://{BUCKET}/input/")
    span = {"customers": 20, "start": "2019-01-01", "end": "2019-09-30"}
    *_, seed = kaggle_frames(seed=5, **span)  # a seed whose training part is trainable
    _, test_csv = write_kaggle_files(raw, seed=seed, **span)
    original = pd.read_csv(test_csv, usecols=["trans_num", "is_fraud", "trans_date_trans_time"],
                           dtype={"trans_num": str})  # fmt: skip
    with LocalRuntime(workspace) as runtime:
        # WHEN an execution waits for reviewers on three loops (a band no score can miss)
        first = runtime.start_execution(_input(review={
            "enabled": True, "min": 0, "max": 1000, "wait": True, "max_items": 3,
            "timeout_seconds": 600}))  # fmt: skip
        items = _wait_for_loops(runtime, workspace, first, 3)
        assert runtime.describe(first)["status"] == "RUNNING"
        # AND a reviewer answers each loop through the review API with the opposite label
        truth = dict(zip(original["trans_num"], original["is_fraud"], strict=True))
        verdicts = {i.event_id: ("legit" if truth[i.event_id] else "fraud") for i in items}
        with TestClient(create_app(workspace)) as client:
            client.headers["x-api-key"] = ensure_api_key(workspace)
            for item in items:
                answer = client.post(f"/review/api/items/{item.loop_name}",
                                     json={"verdict": verdicts[item.event_id]})  # fmt: skip
                assert answer.status_code == 200, answer.text
        # THEN the execution resumes, and CollectVerdicts stores the three labels
        record = runtime.wait(first, timeout=240)
        assert record["status"] == "SUCCEEDED", record
        assert record["output"]["review"]["answered"] == 3
        assert record["output"]["verdicts"]["labels_stored"] == 3
        labels = {r["EVENT_ID"]: r for r in
                  csv.DictReader((workspace.labels_dir / "labels.csv").open())}  # fmt: skip
        assert {k: v["EVENT_LABEL"] for k, v in labels.items()} == verdicts
        assert {v["source"] for v in labels.values()} == {"review"}

        # WHEN an update training takes in the reviewed period, and its review wait times out
        stamps = original.set_index("trans_num")["trans_date_trans_time"]
        cutoff = pd.Timestamp(max(stamps[e] for e in verdicts)) + pd.Timedelta(seconds=1)
        iso = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
        second = runtime.start_execution(_input(
            mode="update", model_version="1", train_cutoff=iso, test_cutoff=iso,
            review={"enabled": True, "min": 0, "max": 1000, "wait": True, "max_items": 2,
                    "timeout_seconds": 2}))  # fmt: skip
        record2 = runtime.wait(second, timeout=300)
    # THEN its training file carries the reviewers' labels, not the original ones
    assert record2["status"] == "SUCCEEDED", record2
    training = workspace.local_path(record2["output"]["etl"]["outputs"]["training"])
    frame = pd.read_csv(training, dtype=str)
    relabelled = frame[frame["trans_num"].isin(verdicts)]
    assert dict(zip(relabelled["trans_num"], relabelled["EVENT_LABEL"], strict=True)) == verdicts
    # AND the timed-out wait went on to CollectVerdicts, which recorded the unanswered loops
    assert "review_timeout" in record2["output"]
    assert record2["output"]["verdicts"]["answered"] == 0
    assert record2["output"]["verdicts"]["unanswered"] == 2
    assert len(record2["output"]["verdicts"]["unanswered_loops"]) == 2
    (output_dir / "executions.txt").write_text(f"{first}: {record['output']['verdicts']}\n"
                                              f"{second}: {record2['output']['verdicts']}\n")
