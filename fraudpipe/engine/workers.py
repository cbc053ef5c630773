"""Entry points of the engine's local jobs (run by :mod:`fraudpipe.jobs` workers).

Why separate: a worker process imports only what the job needs, and the job records its own
outcome in the registry (TRAINING_COMPLETE / ERROR, COMPLETE / FAILED) so that pollers see it
even if the process that started the job is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fraudpipe.engine.builtin import BuiltinEngine, complete_training
from fraudpipe.engine.registry import Registry, now
from fraudpipe.engine.scoring import score_batch
from fraudpipe.engine.training import train_model
from fraudpipe.jobs import ProgressFn
from fraudpipe.workspace import get_workspace

__all__ = ["run_batch", "run_training"]


def run_training(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Train one model version, write its report, mark it TRAINING_COMPLETE."""
    from fraudpipe.engine.report import write_report

    workspace = get_workspace(params["workspace"])
    registry = Registry(workspace)
    folder = registry.version_dir(params["model_id"], params["version"])
    result = train_model(Path(params["training_path"]), folder, progress)
    progress("writing the model report")
    report = write_report(folder, params["model_id"], params["version"], result)
    complete_training(workspace, params["model_id"], params["version"], result, str(report))
    return {"metrics": result["metrics"], "report": str(report)}


def run_batch(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Score a batch file with a detector version and mark the job COMPLETE."""
    workspace = get_workspace(params["workspace"])
    engine = BuiltinEngine(workspace)
    registry = engine.registry
    record = registry.get_batch(params["job_id"])
    detector = engine.load_detector(record["detectorName"], record["detectorVersion"])
    history = record.get("historyPath")
    progress(f"scoring {record['inputPath']}")
    summary = score_batch(
        detector,
        workspace.local_path(record["inputPath"]),
        workspace.local_path(record["outputPath"]),
        workspace.local_path(history) if history else None,
    )
    with registry.locked():
        record = registry.get_batch(params["job_id"])
        record.update(status="COMPLETE", completionTime=now(),
                      processedRecordsCount=summary["rows"], totalRecordsCount=summary["rows"],
                      failedRecordsCount=summary["failed_rows"],
                      outcomeCounts=summary["outcome_counts"])
        registry.put_batch(record)
    return summary
