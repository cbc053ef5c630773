"""Model-version numbering and status rules (AFD semantics), and the registry under stress."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from fraudpipe.engine import SIMULTANEOUS_TRAINING_MESSAGE, BuiltinEngine
from fraudpipe.engine.rules import default_rules
from fraudpipe.engine.versions import next_major, next_minor, parse_major
from fraudpipe.errors import (
    ResourceNotFoundError,
    SimultaneousTrainingError,
    StatusTransitionError,
)
from fraudpipe.jobs import LocalJobs
from fraudpipe.workspace import Workspace, get_workspace
from tests.engine.conftest import DETECTOR, MODEL, wait_training


def test_numbering_create_is_next_major_and_update_next_minor() -> None:
    assert next_major([]) == "1.0"
    assert next_major(["1.0", "1.0.1", "2.0"]) == "3.0"
    assert next_minor(["1.0"], 1) == "1.0.1"
    assert next_minor(["1.0", "1.0.1", "1.0.2", "2.0"], 1) == "1.0.3"
    assert next_minor(["1.0", "2.0"], 2) == "2.0.1"
    with pytest.raises(ResourceNotFoundError, match=r"3\.0 does not exist"):
        next_minor(["1.0"], 3)
    assert parse_major("1") == parse_major("1.0") == parse_major(1) == 1
    with pytest.raises(ValueError, match="major"):
        parse_major("1.0.1")


@pytest.mark.slow
def test_create_update_numbering_and_simultaneous_training(
    workspace: Workspace, tiny_training_file: Path
) -> None:
    # GIVEN a model with version 1.0 trained
    engine = BuiltinEngine(workspace)
    engine.put_model(MODEL)
    uri = str(tiny_training_file)
    assert engine.create_model_version(MODEL, uri)["modelVersionNumber"] == "1.0"
    assert wait_training(engine, "1.0")["status"] == "TRAINING_COMPLETE"
    # WHEN major 1 is updated twice in a row, the second while the first trains
    started = engine.update_model_version(MODEL, "1", str(tiny_training_file))
    assert (started["modelVersionNumber"], started["status"]) == ("1.0.1", "TRAINING_IN_PROGRESS")
    with pytest.raises(SimultaneousTrainingError) as caught:
        engine.update_model_version(MODEL, "1.0", str(tiny_training_file))
    assert str(caught.value) == SIMULTANEOUS_TRAINING_MESSAGE
    # THEN another major may train meanwhile, and once 1.0.1 is done the next update is 1.0.2
    assert engine.create_model_version(MODEL, uri)["modelVersionNumber"] == "2.0"
    record = wait_training(engine, "1.0.1")
    assert record["status"] == "TRAINING_COMPLETE", record["statusReason"]
    assert engine.update_model_version(MODEL, 1, str(tiny_training_file))["modelVersionNumber"] == (
        "1.0.2"
    )
    for version in ("2.0", "1.0.2"):
        record = wait_training(engine, version)
        assert record["status"] == "TRAINING_COMPLETE", record["statusReason"]
    with pytest.raises(ResourceNotFoundError):
        engine.update_model_version(MODEL, "7", str(tiny_training_file))


def test_status_transitions(trained: BuiltinEngine) -> None:
    engine = trained
    with pytest.raises(StatusTransitionError, match="from ACTIVE to TRAINING_COMPLETE"):
        engine.update_model_version_status(MODEL, "1.0", "TRAINING_COMPLETE")
    engine.update_model_version_status(MODEL, "1.0", "INACTIVE")
    assert engine.get_model_version(MODEL, "1.0")["status"] == "INACTIVE"
    with pytest.raises(StatusTransitionError, match="only ACTIVE model versions"):
        engine.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
    engine.update_model_version_status(MODEL, "1.0", "ACTIVE")


def test_at_most_one_active_detector_version(trained: BuiltinEngine) -> None:
    engine = trained
    created = engine.create_detector_version(
        DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL, 950))
    assert created == {"detectorId": DETECTOR, "detectorVersionId": "2", "status": "DRAFT"}
    assert engine.get_active_detector_version(DETECTOR)["detectorVersionId"] == "1"
    engine.update_detector_version_status(DETECTOR, "2", "ACTIVE")
    statuses = {v["detectorVersionId"]: v["status"] for v in engine.list_detector_versions()}
    assert statuses == {"1": "INACTIVE", "2": "ACTIVE"}
    assert engine.get_active_detector_version(DETECTOR)["detectorVersionId"] == "2"
    with pytest.raises(StatusTransitionError, match="from ACTIVE to DRAFT"):
        engine.update_detector_version_status(DETECTOR, "2", "DRAFT")


def test_failed_training_reads_error_with_reason(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("cc_num,amt,EVENT_TIMESTAMP,EVENT_LABEL\n1,2.0,yesterday,fraud\n")
    engine = BuiltinEngine(workspace)
    engine.put_model(MODEL)
    engine.create_model_version(MODEL, str(bad))
    record = wait_training(engine, "1.0")
    assert record["status"] == "ERROR"
    assert "row 2 column EVENT_TIMESTAMP" in record["statusReason"]
    with pytest.raises(StatusTransitionError):
        engine.update_model_version_status(MODEL, "1.0", "ACTIVE")


def test_killed_training_worker_reads_error(
    workspace: Workspace, data_files: tuple[Path, Path, Path]
) -> None:
    # GIVEN a training in a real worker process
    engine = BuiltinEngine(workspace, jobs=LocalJobs(workspace, mode="process"))
    engine.put_model(MODEL)
    engine.create_model_version(MODEL, str(data_files[0]))
    job_id = engine.get_model_version(MODEL, "1.0")["jobId"]
    pid = json.loads((workspace.jobs_dir / f"{job_id}.json").read_text())["pid"]
    # WHEN the worker is killed mid-training
    os.kill(pid, signal.SIGKILL)
    LocalJobs._children[job_id].wait()
    # THEN the version reads ERROR (not a half-written TRAINING_COMPLETE) and major 1 is free
    record = engine.get_model_version(MODEL, "1.0")
    assert record["status"] == "ERROR"
    assert "WorkerDied" in record["statusReason"]
    assert not (engine.registry.version_dir(MODEL, "1.0") / "metadata.json").exists()


def test_crash_while_writing_keeps_the_old_record(
    trained: BuiltinEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = trained.registry.version_dir(MODEL, "1.0") / "version.json"
    before = path.read_text()

    def crash(*_args: object) -> None:
        raise OSError("disk died")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk died"):
        trained.update_model_version_status(MODEL, "1.0", "INACTIVE")
    monkeypatch.undo()
    assert path.read_text() == before
    assert not list(path.parent.glob(".version.json.*"))


def _create_versions(root: str, count: int) -> None:
    engine = BuiltinEngine(get_workspace(root), jobs=LocalJobs(get_workspace(root), "thread"))
    for _ in range(count):
        engine.create_model_version(MODEL, str(Path(root) / "missing.csv"))
        time.sleep(0.001)


@pytest.mark.slow
def test_two_processes_creating_versions_get_distinct_numbers(workspace: Workspace) -> None:
    BuiltinEngine(workspace).put_model(MODEL)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_create_versions, args=(str(workspace.root), 4))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    numbers = BuiltinEngine(workspace).registry.version_numbers(MODEL)
    assert numbers == [f"{i}.0" for i in range(1, 9)]
    for number in numbers:
        record = json.loads(
            (workspace.registry_dir / "models" / MODEL / "versions" / number / "version.json")
            .read_text())
        assert record["modelVersionNumber"] == number
    # Thread-mode jobs are waited for at process exit: every training (of a missing file)
    # recorded its failure; none was cut off mid-import and left RUNNING.
    jobs = [json.loads(path.read_text()) for path in workspace.jobs_dir.glob("*.json")]
    assert len(jobs) == 8
    assert {job["status"] for job in jobs} == {"FAILED"}
