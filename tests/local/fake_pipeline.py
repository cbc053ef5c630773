"""Stand-in handlers for every task of the real pipeline definition, shaped like the contract.

Why: the ASL's branches (retry, catch, simultaneous training, review choice) are tested on the
real ``pipeline.asl.json`` in well under a second, without data or training. Behaviour is set
per test in ``$FRAUDPIPE_HOME/fake.json``; every call is counted in ``calls.jsonl``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fraudpipe.errors import QualityGateError, SimultaneousTrainingError, TransientError
from statemachines.pipeline import FUNCTIONS
from tests.local.handlers import _record


def _conf() -> dict[str, Any]:
    path = Path(os.environ["FRAUDPIPE_HOME"]) / "fake.json"
    return json.loads(path.read_text()) if path.exists() else {}


def start_crawler(event: dict, context: Any) -> dict:
    n = _record("start_crawler", event)
    if n <= _conf().get("crawler_transient_failures", 0):
        raise TransientError(f"crawler API throttled ({n})")
    return {"crawler_name": "c", "database": "d", "table": "t", "state": "RUNNING"}


def get_crawler_status(event: dict, context: Any) -> dict:
    _record("get_crawler_status", event)
    last = _conf().get("crawl_result", "SUCCEEDED")
    return {
        "crawler_name": "c",
        "database": "d",
        "table": "t",
        "state": "READY",
        "last_crawl": last,
        "error": None if last == "SUCCEEDED" else "headers differ",
    }


def start_etl(event: dict, context: Any) -> dict:
    _record("start_etl", event)
    return {"job_run_id": "jr-1", "status": "RUNNING"}


def get_etl_status(event: dict, context: Any) -> dict:
    n = _record("get_etl_status", event)
    status = "RUNNING" if n < 2 else "SUCCEEDED"
    return {"job_run_id": "jr-1", "status": status, "error": None, "outputs": {}, "counts": {}}


def create_model_version(event: dict, context: Any) -> dict:
    n = _record("create_model_version", event)
    if n <= _conf().get("simultaneous", 0):
        raise SimultaneousTrainingError("Simultaneous training for fraud_model major 1")
    return {"model_id": "fraud_model", "model_version": "1.0", "status": "TRAINING_IN_PROGRESS"}


def get_training_status(event: dict, context: Any) -> dict:
    _record("get_training_status", event)
    conf = _conf()
    return {
        "model_id": "fraud_model",
        "model_version": "1.0",
        "status": conf.get("training_status", "TRAINING_COMPLETE"),
        "error": conf.get("training_error"),
        "metrics": {"auc": conf.get("auc", 0.97), "pr_auc": 0.8},
        "report": "/tmp/r.html",
    }


def quality_gate(event: dict, context: Any) -> dict:
    _record("quality_gate", event)
    auc = _conf().get("auc", 0.97)
    min_auc = event["input"]["min_auc"]
    if auc < min_auc:
        raise QualityGateError(f"AUC {auc} is below min_auc {min_auc}")
    return {"passed": True, "auc": auc, "min_auc": min_auc, "reason": "ok"}


def deploy_detector_version(event: dict, context: Any) -> dict:
    _record("deploy_detector_version", event)
    return {
        "detector_id": "fraud_detector",
        "detector_version": "1",
        "status": "ACTIVE",
        "rules": [],
    }


def start_batch_prediction(event: dict, context: Any) -> dict:
    _record("start_batch_prediction", event)
    return {"job_id": "b-1", "status": "IN_PROGRESS"}


def get_batch_status(event: dict, context: Any) -> dict:
    _record("get_batch_status", event)
    return {
        "job_id": "b-1",
        "status": "COMPLETE",
        "error": None,
        "output": "s3://b/o.csv",
        "rows": 142,
        "outcome_counts": {"high_risk": 3, "medium_risk": 2, "low_risk": 137},
        "review_candidates": _conf().get("review_candidates", 2),
    }


def start_human_review(event: dict, context: Any) -> dict:
    _record("start_human_review", event)
    if event.get("task_token"):
        _record("start_human_review_wait", event)
    return {"loops_started": 2, "loop_names": ["a", "b"], "queue_url": "u", "waiting": False}


def collect_verdicts(event: dict, context: Any) -> dict:
    _record("collect_verdicts", event)
    return {"answered": 0, "unanswered": 2, "labels_stored": 0}


#: placeholder key -> handler string, for ``LocalRuntime(functions=...)``
HANDLERS = {key: f"tests.local.fake_pipeline.{module}" for module, key in FUNCTIONS.items()}
