"""Small batch outputs for review tests, in the batch output's columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fraudpipe.workspace import Workspace

COLUMNS = [
    "cc_num", "merchant", "category", "amt", "first", "last", "gender", "street", "city",
    "state", "zip", "city_pop", "job", "trans_num", "EVENT_TIMESTAMP", "ENTITY_TYPE",
    "ENTITY_ID", "EVENT_ID", "MODEL_SCORES", "OUTCOMES", "RULE_RESULTS", "STATUS",
]  # fmt: skip


def batch_row(event_id: str, score: float, status: str = "SUCCESS") -> dict[str, str]:
    outcome = "high_risk" if score > 900 else "medium_risk" if score > 700 else "low_risk"
    return {
        "cc_num": "4111111111111111",
        "merchant": "fraud_Kirlin and Sons",
        "category": "shopping_net",
        "amt": "512.25",
        "first": "Jennifer",
        "last": "Banks",
        "gender": "F",
        "street": "561 Perry Cove",
        "city": "Moravian Falls",
        "state": "NC",
        "zip": "28654",
        "city_pop": "3495",
        "job": "Psychologist, counselling",
        "trans_num": event_id,
        "EVENT_TIMESTAMP": "2020-10-13T09:21:53Z",
        "ENTITY_TYPE": "card",
        "ENTITY_ID": "4111111111111111",
        "EVENT_ID": event_id,
        "MODEL_SCORES": json.dumps({"fraud_model": score}),
        "OUTCOMES": json.dumps([outcome]),
        "RULE_RESULTS": json.dumps({"rule": [outcome]}),
        "STATUS": status,
    }


def write_batch_output(path: Path, scores: dict[str, float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for event_id, score in scores.items():
            writer.writerow(batch_row(event_id, score))
    return path


def execution_input(ws: Workspace, execution: str, scores: dict[str, float], **review) -> dict:
    """An execution's state data after GetBatchStatus, with its batch output written."""
    uri = f"s3://fraudpipe-local/batch_output/{execution}/DetectorBatchResults.csv"
    write_batch_output(ws.local_path(uri), scores)
    settings = {"enabled": True, "min": 700, "max": 900, "wait": False,
                "timeout_seconds": 3600, "max_items": 100, **review}  # fmt: skip
    return {"bucket": "fraudpipe-local", "review": settings,
            "batch": {"job_id": "j1", "status": "COMPLETE", "output": uri}}  # fmt: skip
