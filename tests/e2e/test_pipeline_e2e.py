"""Whole executions of the real pipeline on small generated data: every service is real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudpipe.cli import app
from fraudpipe.local.rawdata import ensure_raw_data
from fraudpipe.local.runtime import LocalRuntime
from fraudpipe.local.summary import state_runs
from tests.conftest import pipeline_path, visited_once
from tests.e2e.conftest import FAST_INPUT, fast_input

pytestmark = pytest.mark.slow

PIPELINE = pipeline_path(review=False)


def test_run_json_summary_of_a_complete_execution(e2e_env, raw_dir, monkeypatch):
    ws = e2e_env
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    # WHEN `fraudpipe run --raw-dir DIR --json` runs the whole pipeline
    result = CliRunner().invoke(
        app, ["run", "--raw-dir", str(raw_dir), "--json", "--input", fast_input()]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN the summary has every key, with real values
    assert summary["status"] == "SUCCEEDED"
    assert summary["model_version"] == "1.0"
    assert 0.5 <= summary["metrics"]["auc"] <= 1 and 0 <= summary["metrics"]["pr_auc"] <= 1
    assert sum(summary["outcome_counts"].values()) > 0
    visited = [s["name"] for s in summary["states"]]
    assert visited_once(visited, PIPELINE) == PIPELINE
    assert all(s["status"] == "SUCCEEDED" for s in summary["states"])
    batch = ws.local_path(summary["batch_output"])
    assert batch.exists() and "MODEL_SCORES" in batch.read_text().splitlines()[0]
    assert summary["report"] and Path(summary["report"]).exists()
    assert summary["review"]["url"].endswith("/review")
    # AND the raw files were taken from --raw-dir
    raw = ws.local_path("s3://fraudpipe-local/input/fraudTrain.csv")
    assert raw.read_bytes() == (raw_dir / "fraudTrain.csv").read_bytes()


def test_two_executions_at_once_get_their_own_versions_and_files(e2e_env, raw_dir, monkeypatch):
    ws = e2e_env
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")
    ensure_raw_data(ws, "fraudpipe-local", "input/", raw_dir)
    # WHEN two executions run at the same time in one workspace
    with LocalRuntime(ws) as runtime:
        names = [runtime.start_execution(dict(FAST_INPUT)) for _ in range(2)]
        records = [runtime.wait(n, timeout=400) for n in names]
    # THEN each got its own model version, detector version and files
    assert [r["status"] for r in records] == ["SUCCEEDED", "SUCCEEDED"], records
    versions = {r["output"]["training"]["model_version"] for r in records}
    assert versions == {"1.0", "2.0"}
    trainings = {r["output"]["etl"]["outputs"]["training"] for r in records}
    assert len(trainings) == 2
    outputs = {r["output"]["batch"]["output"] for r in records}
    assert len(outputs) == 2 and all(ws.local_path(o).exists() for o in outputs)
    detectors = {r["output"]["detector"]["detector_version"] for r in records}
    assert len(detectors) == 2


def _events(ws, name: str) -> list[dict]:
    path = ws.executions_dir / name / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def test_sigkill_during_training_then_redrive_succeeds(e2e_env, raw_dir):
    ws = e2e_env
    name = "killed-mid-training"
    env = {**os.environ, "FRAUDPIPE_HOME": str(ws.root)}
    # GIVEN a run killed with SIGKILL while it waits for training
    slow_poll = {**FAST_INPUT, "poll_seconds": {**FAST_INPUT["poll_seconds"], "training": 300}}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fraudpipe.cli",
            "run",
            "--name",
            name,
            "--quiet",
            "--raw-dir",
            str(raw_dir),
            "--input",
            json.dumps(slow_poll),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(
        e.get("stateEnteredEventDetails", {}).get("name") == "WaitForTraining"
        for e in _events(ws, name)
    ):
        assert child.poll() is None, "the run ended before training"
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    # WHEN it is listed, then redriven
    listed = CliRunner().invoke(app, ["executions", "list", "--json"])
    assert json.loads(listed.stdout)[0]["status"] == "ABORTED"
    # (in this process: what matters is that the process that started the run is gone)
    redrive = CliRunner().invoke(app, ["redrive", name, "--json"])
    # THEN it succeeds as the same execution, without re-running what had succeeded
    assert redrive.exit_code == 0, redrive.output[-2000:]
    summary = json.loads(redrive.stdout.strip().splitlines()[-1])
    assert summary["status"] == "SUCCEEDED" and summary["redrive_count"] == 1
    record = json.loads((ws.executions_dir / name / "execution.json").read_text())
    assert record["redrive_from"] == "WaitForTraining"
    runs = state_runs(_events(ws, name), "SUCCEEDED")
    assert [r["name"] for r in runs].count("StartEtl") == 1
    assert [r["name"] for r in runs].count("CreateModelVersion") == 1
    assert runs[-1]["name"] == "PipelineSucceeded"
