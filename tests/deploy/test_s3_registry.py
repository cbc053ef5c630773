"""The built-in engine on AWS: registry in S3, trainings and batches in the worker Lambda.

Against moto S3 and moto Lambda (the worker's handler runs in-process, asynchronously as AWS
runs an Event invocation). Each "sandbox" is a fresh workspace, like a Lambda container's
``/tmp``: what one writes, another must find through S3 alone.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fraudpipe.aws_jobs import LambdaJobs, run_lambda_job
from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.backends import reset_clients
from fraudpipe.engine.registry import Registry
from fraudpipe.engine.rules import default_rules
from fraudpipe.engine.s3_lock import S3LeaseLock
from fraudpipe.engine.s3_registry import S3Registry
from fraudpipe.errors import RegistryLockTimeoutError
from fraudpipe.jobs import FAILED, RUNNING, SUCCEEDED, JobRecord
from fraudpipe.local import moto_patches
from fraudpipe.s3_objects import S3Objects
from fraudpipe.workspace import get_workspace
from tests.conftest import wait_until
from tests.deploy.moto_lambda import asynchronous_events
from tests.engine import synth

BUCKET, WORKER, MODEL, DETECTOR = "fp-data", "fp-run-engine-job", "fraud_model", "fraud_detector"
REGION = "us-east-1"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("FRAUDPIPE_REGISTRY", f"s3://{BUCKET}/registry")
    reset_clients()
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client
    reset_clients()


@pytest.fixture
def worker(s3: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """The engine worker deployed in moto Lambda; its Event invocations run in threads."""
    moto_patches.apply()
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=WORKER, Runtime="python3.12", Role=role, Timeout=900,
        Handler="functions.run_engine_job.handler", Code={"ZipFile": code.getvalue()})
    monkeypatch.setenv("FRAUDPIPE_WORKER_FUNCTION", WORKER)
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "aws")
    with asynchronous_events() as threads:
        yield threads


def _sandbox(tmp_path: Path, name: str) -> BuiltinEngine:
    """An engine as a new Lambda container builds it: empty /tmp, configuration from the env."""
    return BuiltinEngine(get_workspace(tmp_path / name))


# --- the lease lock --------------------------------------------------------------------------
def test_lease_lock_excludes_others_until_released(s3: Any) -> None:
    objects = S3Objects(s3, BUCKET, "registry")
    first, second = S3LeaseLock(objects), S3LeaseLock(objects, timeout=0.3)
    with first.held(), first.held():  # re-entrant within a thread
        with pytest.raises(RegistryLockTimeoutError, match="held by another process"):
            second.acquire()
        assert objects.get_json(".lock")[0]["owner"] == first.owner
    assert objects.get_json(".lock") is None  # released by the outer exit only
    with second.held():
        assert objects.get_json(".lock")[0]["owner"] == second.owner


def test_a_dead_holders_lock_is_taken_over_and_not_released_by_it(s3: Any) -> None:
    objects = S3Objects(s3, BUCKET, "registry")
    dead = S3LeaseLock(objects, lease_seconds=0.2)
    dead.acquire()  # ... and its sandbox dies: the lease runs out
    time.sleep(0.3)
    heir = S3LeaseLock(objects, timeout=2)
    with heir.held():
        dead.release()  # a late release must not free the heir's lock
        assert objects.get_json(".lock")[0]["owner"] == heir.owner
    assert objects.get_json(".lock") is None


def test_records_keep_the_local_layout(s3: Any, tmp_path: Path) -> None:
    registry = _sandbox(tmp_path, "a").registry
    assert isinstance(registry, S3Registry)
    registry.put_model({"modelId": MODEL, "modelType": "TRANSACTION_FRAUD_INSIGHTS"})
    for version in ("1.0", "2.0", "1.0.1"):
        registry.put_version({"modelId": MODEL, "modelVersionNumber": version, "status": "X"})
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert f"registry/models/{MODEL}/versions/1.0.1/version.json" in keys
    assert f"registry/models/{MODEL}/model.json" in keys
    local = Registry(get_workspace(tmp_path / "local"))
    assert local.version_dir(MODEL, "1.0").relative_to(local.root).as_posix() == \
        f"models/{MODEL}/versions/1.0"
    other = _sandbox(tmp_path, "b").registry  # another sandbox reads the same records
    assert other.version_numbers(MODEL) == ["1.0", "1.0.1", "2.0"]
    assert other.list_models() == [MODEL]


# --- worker jobs -----------------------------------------------------------------------------
class _NoLambda:
    """A Lambda client whose events are lost (throttled, dropped after their maximum age)."""

    def invoke(self, **kwargs: Any) -> dict:
        return {"StatusCode": 202}


def test_a_job_nobody_runs_reads_failed_after_its_deadline(s3: Any) -> None:
    jobs = LambdaJobs(S3Objects(s3, BUCKET, "registry/jobs"), _NoLambda(), WORKER)
    jobs.start("training", "fraudpipe.engine.workers:run_training", {}, job_id="j1")
    assert jobs.get("j1").status == RUNNING
    stored = jobs.records.get_json("j1.json")[0]
    jobs.records.put_json("j1.json", {**stored, "deadline": time.time() - 1})
    record = jobs.get("j1")
    assert (record.status, record.error_type) == (FAILED, "WorkerTimedOut")
    assert "was never picked up" in record.error
    assert jobs.records.get_json("j1.json")[0]["status"] == FAILED  # stored for every poller


def test_the_worker_runs_a_job_once_and_records_failure_as_data(
        s3: Any, lambda_context: Any) -> None:
    records = S3Objects(s3, BUCKET, "registry/jobs")
    record = JobRecord(job_id="j2", kind="test", target="json:loads", params={})
    records.put_json("j2.json", asdict(record))
    outcome = run_lambda_job({"job_id": "j2"}, lambda_context, records)
    assert outcome == {"job_id": "j2", "ran": True, "status": FAILED}
    stored = JobRecord(**records.get_json("j2.json")[0])
    assert stored.error_type == "TypeError" and stored.ended_at is not None
    # Lambda delivers the event again: nothing runs twice
    assert run_lambda_job({"job_id": "j2"}, lambda_context, records)["ran"] is False


# --- the whole engine across sandboxes -------------------------------------------------------
@pytest.mark.slow
def test_versions_survive_between_sandboxes(worker: list, s3: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a training file and a batch file in the data bucket
    train, test, batch = synth.write(tmp_path / "data", cards=60, days=60, fraud_cards=0.5,
                                     seed=5)
    for path in (train, test, batch):
        s3.upload_file(str(path), BUCKET, f"data/{path.name}")

    # WHEN one sandbox starts a training, it returns at once and the worker trains
    starter = _sandbox(tmp_path, "create")
    starter.put_model(MODEL)
    started = starter.create_model_version(MODEL, f"s3://{BUCKET}/data/train.csv")
    assert started["status"] == "TRAINING_IN_PROGRESS"

    # THEN another sandbox polls it to TRAINING_COMPLETE, with metrics and the report in S3
    poller = _sandbox(tmp_path, "poll")
    record = wait_until(lambda: poller.get_model_version(MODEL, "1.0"),
                    lambda r: r["status"] != "TRAINING_IN_PROGRESS")
    assert record["status"] == "TRAINING_COMPLETE", record.get("statusReason")
    assert 0.5 < record["trainingResult"]["metrics"]["auc"] <= 1.0
    assert record["reportPath"] == \
        f"s3://{BUCKET}/registry/models/{MODEL}/versions/1.0/report/index.html"
    assert s3.head_object(Bucket=BUCKET, Key=f"registry/models/{MODEL}/versions/1.0/model.txt")
    # (the worker marks the version complete, then its own job record: allow it that moment)
    job = wait_until(lambda: poller.jobs.get(record["jobId"]), lambda j: j.status != RUNNING)
    assert job.status == SUCCEEDED and job.deadline is not None and job.worker

    # WHEN a third sandbox deploys it and a fourth scores the batch through the worker
    deployer = _sandbox(tmp_path, "deploy")
    deployer.update_model_version_status(MODEL, "1.0", "ACTIVE")
    deployer.create_detector_version(
        DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
    deployer.update_detector_version_status(DETECTOR, "1", "ACTIVE")
    output = f"s3://{BUCKET}/out/results.csv"
    _sandbox(tmp_path, "batch").create_batch_prediction_job(
        "b1", f"s3://{BUCKET}/data/batch.csv", output, DETECTOR,
        history_uri=f"s3://{BUCKET}/data/test.csv")
    job = wait_until(lambda: poller.get_batch_prediction_jobs("b1")["batchPredictions"][0],
                 lambda r: r["status"] != "IN_PROGRESS")

    # THEN the results are in S3, one row per batch row
    assert job["status"] == "COMPLETE", job.get("failureReason")
    body = s3.get_object(Bucket=BUCKET, Key="out/results.csv")["Body"].read().decode()
    assert body.count("\n") - 1 == job["processedRecordsCount"] == \
        sum(1 for _ in batch.open()) - 1
    assert "MODEL_SCORES" in body.splitlines()[0]

    # AND a fresh predict container scores with the ACTIVE version from S3
    monkeypatch.setenv("FRAUDPIPE_DETECTOR_TTL", "60")
    predictor = _sandbox(tmp_path, "predict")
    row = synth.split(synth.events(cards=60, days=60, fraud_cards=0.5, seed=5))[1].iloc[0]
    variables = {k: str(row[k]) for k in ("amt", "category", "merchant", "city_pop", "cc_num")}
    answer = predictor.get_event_prediction(DETECTOR, "e1", str(row["EVENT_TIMESTAMP"]),
                                            str(row["cc_num"]), variables)
    assert answer["detectorVersionId"] == "1"
    score = answer["modelScores"][0]["scores"][f"{MODEL}_insightscore"]
    assert 0 <= score <= 1000
    assert (tmp_path / "predict" / "registry-cache" / "models" / MODEL / "versions" / "1.0" /
            "model.txt").exists()
    assert not (tmp_path / "predict" / "registry-cache" / "models" / MODEL / "versions" /
                "1.0" / "report").exists()  # the scorer downloads only what scoring needs

    # WHEN another detector version becomes ACTIVE
    deployer.create_detector_version(
        DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
    deployer.update_detector_version_status(DETECTOR, "2", "ACTIVE")

    # THEN the container keeps the version it read for the TTL, then scores with the new one
    def version_used(event_id: str) -> str:
        return predictor.get_event_prediction(DETECTOR, event_id, str(row["EVENT_TIMESTAMP"]),
                                              str(row["cc_num"]), variables)["detectorVersionId"]

    assert version_used("e2") == "1"
    later = time.monotonic() + 61
    predictor.clock = lambda: later
    assert version_used("e3") == "2"
    assert poller.get_detector_version(DETECTOR, "1")["status"] == "INACTIVE"


def _lost_worker_engine(s3: Any, tmp_path: Path) -> BuiltinEngine:
    """An engine whose worker events are never delivered (the test delivers them, or not)."""
    workspace = get_workspace(tmp_path / "lost")
    registry = S3Registry(workspace, S3Objects(s3, BUCKET, "registry"))
    jobs = LambdaJobs(S3Objects(s3, BUCKET, "registry/jobs"), _NoLambda(), WORKER)
    engine = BuiltinEngine(workspace, jobs=jobs, registry=registry)
    engine.put_model(MODEL)
    return engine


def test_a_training_whose_worker_never_finished_reads_error(s3: Any, tmp_path: Path) -> None:
    engine = _lost_worker_engine(s3, tmp_path)
    engine.create_model_version(MODEL, f"s3://{BUCKET}/data/train.csv")
    job_id = engine.registry.get_version(MODEL, "1.0")["jobId"]
    stored = engine.jobs.records.get_json(f"{job_id}.json")[0]
    engine.jobs.records.put_json(f"{job_id}.json", {**stored, "worker": "req-1",
                                                    "deadline": time.time() - 1})
    record = engine.get_model_version(MODEL, "1.0")
    assert record["status"] == "ERROR"
    assert record["statusReason"].startswith("WorkerTimedOut: the worker Lambda of job")
    assert "did not finish before its deadline" in record["statusReason"]


def test_a_training_that_fails_in_the_worker_reads_error_with_the_reason(
        s3: Any, tmp_path: Path, lambda_context: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="data/train.csv", Body=b"cc_num,amt\n1,2\n")
    engine = _lost_worker_engine(s3, tmp_path)
    engine.create_model_version(MODEL, f"s3://{BUCKET}/data/train.csv")
    job_id = engine.registry.get_version(MODEL, "1.0")["jobId"]
    outcome = run_lambda_job({"job_id": job_id}, lambda_context, engine.jobs.records)
    assert outcome["status"] == FAILED
    record = engine.get_model_version(MODEL, "1.0")
    assert record["status"] == "ERROR"
    assert "train.csv" in record["statusReason"]  # the data error names the file


def test_configuration_picks_the_backends(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from fraudpipe.jobs import LocalJobs

    monkeypatch.delenv("FRAUDPIPE_REGISTRY", raising=False)
    monkeypatch.delenv("FRAUDPIPE_WORKER_FUNCTION", raising=False)
    local = BuiltinEngine(get_workspace(tmp_path / "local"))
    assert type(local.registry) is Registry and isinstance(local.jobs, LocalJobs)
    monkeypatch.setenv("FRAUDPIPE_WORKER_FUNCTION", WORKER)  # a worker cannot see local files
    with pytest.raises(ValueError, match="needs an S3 registry"):
        BuiltinEngine(get_workspace(tmp_path / "local"))
    monkeypatch.setenv("FRAUDPIPE_REGISTRY", "/srv/registry")
    with pytest.raises(ValueError, match="FRAUDPIPE_REGISTRY must be 'local' or an s3:// URI"):
        BuiltinEngine(get_workspace(tmp_path / "local"))
