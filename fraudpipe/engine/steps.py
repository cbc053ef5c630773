"""The engine's task states as library functions (one per handler in ``functions/``).

Why here and not in the handlers: each handler parses its event and calls one of these; the
logic is then testable without Step Functions, and the returned dicts are exactly the results
docs/contracts.md promises at each state's ResultPath.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from fraudpipe.config import settings
from fraudpipe.engine import get_engine
from fraudpipe.engine.dataset import EVENT_VARIABLES
from fraudpipe.engine.rules import rules_from_input
from fraudpipe.engine.versions import ACTIVE, TRAINING_COMPLETE
from fraudpipe.errors import DataValidationError, QualityGateError
from fraudpipe.handler import StateEvent
from fraudpipe.s3_objects import split_uri
from fraudpipe.workspace import Workspace, get_workspace

__all__ = [
    "create_model_version",
    "deploy_detector_version",
    "get_batch_status",
    "get_training_status",
    "quality_gate",
    "start_batch_prediction",
]

BATCH_STATUS = {"IN_PROGRESS_INITIALIZING": "IN_PROGRESS", "IN_PROGRESS": "IN_PROGRESS",
                "CANCEL_IN_PROGRESS": "IN_PROGRESS", "COMPLETE": "COMPLETE",
                "FAILED": "FAILED", "CANCELED": "FAILED"}


def _engine(event: StateEvent, workspace: Workspace | None, client: Any) -> Any:
    return get_engine(str(event.input.get("engine") or "builtin"),
                      workspace or get_workspace(), client)


def create_model_version(
    event: StateEvent, workspace: Workspace | None = None, client: Any = None
) -> dict[str, Any]:
    """CreateModelVersion: start training (``create`` -> next major, ``update`` -> next minor).

    Raises SimultaneousTrainingError when the major is already training (the ASL catches it).
    """
    inp = event.input
    model_id = str(inp.get("model_id") or "fraud_model")
    training_uri = event.section("etl").get("outputs", {}).get("training")
    if not training_uri:
        raise DataValidationError("CreateModelVersion needs $.etl.outputs.training (run the ETL)")
    engine = _engine(event, workspace, client)
    engine.put_model(model_id)
    if inp.get("mode", "create") == "update":
        if inp.get("model_version") in (None, ""):
            raise DataValidationError("mode 'update' needs model_version (the major, e.g. '1')")
        result = engine.update_model_version(model_id, str(inp["model_version"]), training_uri,
                                             EVENT_VARIABLES)
    else:
        result = engine.create_model_version(model_id, training_uri, EVENT_VARIABLES)
    return {"model_id": model_id, "model_version": result["modelVersionNumber"],
            "status": result["status"]}


def get_training_status(
    event: StateEvent, workspace: Workspace | None = None, client: Any = None
) -> dict[str, Any]:
    """GetTrainingStatus: the version's AFD status, metrics and report once complete."""
    training = event.section("training")
    model_id, version = training["model_id"], training["model_version"]
    record = _engine(event, workspace, client).get_model_version(model_id, version)
    result = record.get("trainingResult") or {}
    metrics = result.get("metrics") or {}
    if not metrics and result.get("trainingMetrics"):
        metrics = {"auc": result["trainingMetrics"].get("auc")}
    return {"model_id": model_id, "model_version": version, "status": record["status"],
            "error": record.get("statusReason"), "metrics": metrics,
            "report": record.get("reportPath")}


def quality_gate(event: StateEvent) -> dict[str, Any]:
    """QualityGate: AUC >= min_auc, else QualityGateError naming both and the version."""
    training = event.section("training")
    min_auc = float(event.input.get("min_auc", 0.9))
    auc = (training.get("metrics") or {}).get("auc")
    name = f"{training.get('model_id')} {training.get('model_version')}"
    if auc is None:
        raise QualityGateError(f"no AUC was measured for {name}")
    if float(auc) < min_auc:
        raise QualityGateError(f"AUC {float(auc):.4f} is below min_auc {min_auc} for {name}")
    return {"passed": True, "auc": float(auc), "min_auc": min_auc,
            "reason": f"AUC {float(auc):.4f} >= min_auc {min_auc}"}


def deploy_detector_version(
    event: StateEvent, workspace: Workspace | None = None, client: Any = None
) -> dict[str, Any]:
    """DeployDetectorVersion: activate the model version, create a detector version with it
    and the rules, make that ACTIVE (the previous ACTIVE one becomes INACTIVE)."""
    training = event.section("training")
    model_id, version = training["model_id"], training["model_version"]
    detector_id = str(event.input.get("detector_id") or "fraud_detector")
    engine = _engine(event, workspace, client)
    if engine.get_model_version(model_id, version)["status"] == TRAINING_COMPLETE:
        engine.update_model_version_status(model_id, version, ACTIVE)
    rules, mode = rules_from_input(event.input.get("rules"), model_id)
    created = engine.create_detector_version(
        detector_id, [{"modelId": model_id, "modelVersionNumber": version}], rules, mode)
    detector_version = created["detectorVersionId"]
    engine.update_detector_version_status(detector_id, detector_version, ACTIVE)
    return {"detector_id": detector_id, "detector_version": detector_version, "status": ACTIVE,
            "rules": rules, "rule_execution_mode": mode}


def start_batch_prediction(
    event: StateEvent, workspace: Workspace | None = None, client: Any = None
) -> dict[str, Any]:
    """StartBatchPrediction: score the ETL's batch file with the deployed detector version."""
    outputs = event.section("etl").get("outputs", {})
    if not outputs.get("batch"):
        raise DataValidationError("StartBatchPrediction needs $.etl.outputs.batch")
    detector = event.section("detector")
    bucket = str(event.input.get("bucket") or "fraudpipe-local")
    job_id = f"{event.execution_name}-batch"
    output = f"s3://{bucket}/batch_output/{event.execution_name}/DetectorBatchResults.csv"
    engine = _engine(event, workspace, client)
    # a sample gets its cards' recent history from the test file; a full batch is that file
    sample = (event.input.get("batch") or {}).get("mode", "sample") != "full"
    kwargs = {"history_uri": outputs.get("test")} if engine.name == "builtin" and sample else {}
    engine.create_batch_prediction_job(
        job_id, outputs["batch"], output, str(event.input.get("detector_id") or "fraud_detector"),
        detector.get("detector_version"), **kwargs)
    return {"job_id": job_id, "status": "IN_PROGRESS", "output": output}


def _read_output(uri: str, workspace: Workspace) -> pd.DataFrame:
    if settings().is_aws and uri.startswith("s3://"):
        import boto3

        bucket, key = split_uri(uri)
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
    return pd.read_csv(workspace.local_path(uri), dtype=str, keep_default_na=False)


def get_batch_status(
    event: StateEvent, workspace: Workspace | None = None, client: Any = None
) -> dict[str, Any]:
    """GetBatchStatus: job status; once COMPLETE also outcome counts and how many rows fall in
    the review band (``review.min <= score <= review.max``) as ``review_candidates``."""
    batch = event.section("batch")
    ws = workspace or get_workspace()
    job = _engine(event, ws, client).get_batch_prediction_jobs(batch["job_id"])
    record = job["batchPredictions"][0]
    status = BATCH_STATUS.get(record["status"], "FAILED")
    result: dict[str, Any] = {"job_id": batch["job_id"], "status": status,
                              "error": record.get("failureReason"),
                              "output": batch.get("output") or record.get("outputPath"),
                              "rows": None, "outcome_counts": {}, "review_candidates": 0}
    if status != "COMPLETE":
        return result
    frame = _read_output(result["output"], ws)
    review = event.input.get("review") or {}
    low, high = float(review.get("min", 700)), float(review.get("max", 900))
    ok = frame["STATUS"] == "SUCCESS"
    scores = frame.loc[ok, "MODEL_SCORES"].map(
        lambda text: max(json.loads(text).values(), default=float("nan")))
    counts: dict[str, int] = {}
    for text, n in frame.loc[ok, "OUTCOMES"].value_counts().items():
        for outcome in json.loads(str(text)):
            counts[outcome] = counts.get(outcome, 0) + int(n)
    result.update(rows=len(frame), failed_rows=int((~ok).sum()), outcome_counts=counts,
                  review_candidates=int(((scores >= low) & (scores <= high)).sum()))
    return result
