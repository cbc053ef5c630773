"""Fixtures of the engine tests: small generated data and one trained detector per session.

Training once per test worker and copying its registry into each test's workspace keeps the
engine's share of the suite short while every test still gets a fresh workspace.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.rules import default_rules
from fraudpipe.workspace import Workspace, get_workspace
from tests.engine import synth

MODEL, DETECTOR = "fraud_model", "fraud_detector"


@pytest.fixture(autouse=True)
def _thread_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs run in threads unless a test asks for processes (faster start)."""
    monkeypatch.setenv("FRAUDPIPE_JOB_MODE", "thread")


@pytest.fixture(scope="session")
def data_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(training, test, batch) files of ~150 cards over 120 days."""
    return synth.write(tmp_path_factory.mktemp("data"), cards=150, days=120, seed=3)


@pytest.fixture(scope="session")
def tiny_training_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training file small enough that a training takes well under a second."""
    return synth.write(tmp_path_factory.mktemp("tiny"), cards=60, days=60, fraud_cards=0.5,
                       seed=5)[0]


def wait_training(engine: BuiltinEngine, version: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = engine.get_model_version(MODEL, version)
        if record["status"] != "TRAINING_IN_PROGRESS" or time.monotonic() > deadline:
            return record
        time.sleep(0.05)


def wait_batch(engine: BuiltinEngine, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = engine.get_batch_prediction_jobs(job_id)["batchPredictions"][0]
        if record["status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return record
        time.sleep(0.05)


@pytest.fixture(scope="session")
def trained_registry(
    tmp_path_factory: pytest.TempPathFactory, data_files: tuple[Path, Path, Path]
) -> Path:
    """A registry with model version 1.0 ACTIVE in ACTIVE detector version 1."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FRAUDPIPE_JOB_MODE", "thread")
    ws = get_workspace(tmp_path_factory.mktemp("trained"))
    engine = BuiltinEngine(ws)
    engine.put_model(MODEL)
    engine.create_model_version(MODEL, str(data_files[0]))
    record = wait_training(engine, "1.0")
    assert record["status"] == "TRAINING_COMPLETE", record
    engine.update_model_version_status(MODEL, "1.0", "ACTIVE")
    engine.create_detector_version(
        DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL)
    )
    engine.update_detector_version_status(DETECTOR, "1", "ACTIVE")
    engine.close()
    mp.undo()
    return ws.registry_dir


@pytest.fixture
def trained(workspace: Workspace, trained_registry: Path) -> Iterator[BuiltinEngine]:
    """A fresh workspace holding a copy of the trained registry (no entity store yet)."""
    shutil.copytree(trained_registry, workspace.registry_dir,
                    ignore=shutil.ignore_patterns("entity_store.sqlite*", ".lock"))
    engine = BuiltinEngine(workspace)
    yield engine
    engine.close()
