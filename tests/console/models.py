"""A real trained model version and detector version, for the models page and report tests.

Trains with the built-in engine (real LightGBM) on a few thousand generated rows in the ETL's
training-file layout, so the page shows what a pipeline run would leave behind.
"""

from __future__ import annotations

import time
from pathlib import Path

from fraudpipe.engine import get_engine
from fraudpipe.engine.rules import default_rules
from fraudpipe.workspace import Workspace
from tests.engine import synth

MODEL, DETECTOR = "fraud_model", "fraud_detector"
VARIABLES = [
    "cc_num", "merchant", "category", "amt", "first", "last", "gender", "street",
    "city", "state", "zip", "city_pop", "job", "trans_num",
]  # fmt: skip


def training_file(folder: Path) -> Path:
    """A small training file in the ETL's layout (the engine tests' generator)."""
    return synth.write(folder, cards=60, days=90, seed=3)[0]


def train_and_deploy(ws: Workspace, data: Path, timeout: float = 120) -> dict:
    """Model version 1.0 ACTIVE in detector version 1 ACTIVE; returns the version record."""
    engine = get_engine("builtin", workspace=ws)
    try:
        engine.put_model(MODEL)
        engine.create_model_version(MODEL, str(data), VARIABLES)
        deadline = time.monotonic() + timeout
        record = engine.get_model_version(MODEL, "1.0")
        while record["status"] == "TRAINING_IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(0.1)
            record = engine.get_model_version(MODEL, "1.0")
        assert record["status"] == "TRAINING_COMPLETE", record
        engine.update_model_version_status(MODEL, "1.0", "ACTIVE")
        engine.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL)
        )
        engine.update_detector_version_status(DETECTOR, "1", "ACTIVE")
        return engine.get_model_version(MODEL, "1.0")
    finally:
        engine.close()
