"""Entry points of the engine's asynchronous jobs (local worker processes or the worker Lambda).

Why separate: a worker imports only what the job needs, and the job records its own outcome in
the registry (TRAINING_COMPLETE / ERROR, COMPLETE / FAILED) so that pollers see it even if the
process that started the job is gone. The same two functions run locally (files in the
workspace) and on AWS (the registry in S3, data copied through the worker's ``/tmp``): the
registry's ``fetch`` / ``publish`` / ``save_artifacts`` do nothing locally and copy on S3.
"""

from __future__ import annotations

from typing import Any

from fraudpipe.engine.builtin import BuiltinEngine, complete_training
from fraudpipe.engine.registry import now
from fraudpipe.engine.scoring import score_batch
from fraudpipe.engine.training import train_model
from fraudpipe.jobs import ProgressFn
from fraudpipe.workspace import get_workspace

__all__ = ["run_batch", "run_training"]


def run_training(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Train one model version, write its report, mark it TRAINING_COMPLETE."""
    from fraudpipe.engine.report import write_report

    registry = BuiltinEngine(get_workspace(params["workspace"])).registry
    model_id, version = params["model_id"], params["version"]
    folder = registry.version_dir(model_id, version)
    # "training_path": job files written before the registry could live in S3
    source = params.get("training_uri") or params["training_path"]
    progress(f"reading {source}")
    training_file = registry.fetch(source)
    try:
        result = train_model(training_file, folder, progress)
    finally:
        registry.forget(training_file)
    progress("writing the model report")
    report = write_report(folder, model_id, version, result)
    registry.save_artifacts(model_id, version)
    location = registry.artifact_location(model_id, version, report)
    complete_training(registry, model_id, version, result, location)
    return {"metrics": result["metrics"], "report": location}


def run_batch(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Score a batch file with a detector version and mark the job COMPLETE."""
    engine = BuiltinEngine(get_workspace(params["workspace"]))
    registry = engine.registry
    record = registry.get_batch(params["job_id"])
    detector = engine.load_detector(record["detectorName"], record["detectorVersion"])
    history = record.get("historyPath")
    progress(f"scoring {record['inputPath']}")
    batch_file = registry.fetch(record["inputPath"])
    history_file = registry.fetch(history) if history else None
    output = registry.output_path(record["outputPath"])
    try:
        summary = score_batch(detector, batch_file, output, history_file)
        registry.publish(output, record["outputPath"])
    finally:
        registry.forget(*(p for p in (batch_file, history_file, output) if p is not None))
    with registry.locked():
        record = registry.get_batch(params["job_id"])
        record.update(status="COMPLETE", completionTime=now(),
                      processedRecordsCount=summary["rows"], totalRecordsCount=summary["rows"],
                      failedRecordsCount=summary["failed_rows"],
                      outcomeCounts=summary["outcome_counts"])
        registry.put_batch(record)
    return summary
