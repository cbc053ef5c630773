"""A workspace with a trained, ACTIVE detector, on small data from the project's generator.

Used by the API tests (once per test worker) and by ``benchmarks/bench_api.py``. The Kaggle
layout is turned into the ETL's file layouts here with the seed's mapping (trans_date_trans_time
→ EVENT_TIMESTAMP, is_fraud → fraud/legit, EVENT_ID = trans_num, ENTITY_ID = cc_num).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fraudpipe.data import generate_kaggle_frames
from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.rules import default_rules
from fraudpipe.workspace import Workspace
from tests.conftest import wait_until

MODEL, DETECTOR = "fraud_model", "fraud_detector"
VARIABLES = ["cc_num", "merchant", "category", "amt", "first", "last", "gender", "street",
             "city", "state", "zip", "city_pop", "job", "trans_num"]  # fmt: skip


def trainable(labels: pd.Series) -> bool:
    """The engine validates on the last 15% of events: both parts need both labels."""
    cut = int(len(labels) * 0.85)
    parts = (labels.iloc[:cut], labels.iloc[cut:])
    return all(part.eq(1).any() and part.eq(0).any() for part in parts)


def kaggle_frames(customers: int, start: str, end: str, seed: int) -> tuple[pd.DataFrame, ...]:
    """Generated frames for the first seed from ``seed`` whose training part is trainable.

    Small data may put no fraud in the last 15%; trying the next seeds keeps the tests
    independent of the generator's exact draws.
    """
    for candidate in range(seed, seed + 50):
        train, test = generate_kaggle_frames(customers, start, end, candidate)
        ordered = train.sort_values("trans_date_trans_time", kind="stable")
        if trainable(ordered["is_fraud"].astype(int).reset_index(drop=True)):
            return train, test, candidate
    raise RuntimeError(f"no trainable data for {customers} customers from seed {seed}")


def event_files(folder: Path, customers: int = 12, seed: int = 11) -> tuple[Path, Path, Path]:
    """(training, test, batch) files in the ETL's layouts; test and batch in time order."""
    train, test, _ = kaggle_frames(customers, "2019-01-01", "2019-12-31", seed)

    def events(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[VARIABLES].astype(str).copy()
        stamps = pd.to_datetime(frame["trans_date_trans_time"])
        out["EVENT_TIMESTAMP"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["EVENT_LABEL"] = frame["is_fraud"].astype(int).map({1: "fraud", 0: "legit"})
        return out.sort_values("EVENT_TIMESTAMP", kind="stable").reset_index(drop=True)

    training, testing = events(train), events(test)
    testing.insert(15, "ENTITY_TYPE", "card")
    testing.insert(16, "ENTITY_ID", testing["cc_num"])
    testing.insert(17, "EVENT_ID", testing["trans_num"])
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "train.csv", folder / "test.csv", folder / "batch.csv"
    training.to_csv(paths[0], index=False)
    testing.to_csv(paths[1], index=False)
    testing.drop(columns=["EVENT_LABEL"]).to_csv(paths[2], index=False)
    return paths


def train_active_detector(ws: Workspace, customers: int = 12, seed: int = 11) -> dict:
    """Train model 1.0 on generated data and make it ACTIVE in detector version 1."""
    paths = event_files(ws.data_dir / "api", customers, seed)
    engine = BuiltinEngine(ws)
    try:
        engine.put_model(MODEL)
        engine.create_model_version(MODEL, str(paths[0]))
        record = wait_until(
            lambda: engine.get_model_version(MODEL, "1.0"),
            lambda r: r["status"] != "TRAINING_IN_PROGRESS",
        )
        if record["status"] != "TRAINING_COMPLETE":
            raise RuntimeError(f"training failed: {record}")
        engine.update_model_version_status(MODEL, "1.0", "ACTIVE")
        engine.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL)
        )
        engine.update_detector_version_status(DETECTOR, "1", "ACTIVE")
    finally:
        engine.close()
    return {"train": paths[0], "test": paths[1], "batch": paths[2]}


def test_events(ws: Workspace, limit: int | None = None) -> list[dict[str, str]]:
    """Rows of the test file (time order), as strings."""
    frame = pd.read_csv(ws.data_dir / "api" / "test.csv", dtype=str, keep_default_na=False)
    rows = frame.to_dict("records")
    return rows if limit is None else rows[:limit]


def batch_score(ws: Workspace, batch_file: Path, job_id: str = "api-equality") -> pd.DataFrame:
    """Score ``batch_file`` with a batch job of the ACTIVE detector; returns the output rows."""
    engine = BuiltinEngine(ws)
    output = ws.root / "batch-output" / f"{job_id}.csv"
    try:
        engine.create_batch_prediction_job(job_id, str(batch_file), str(output), DETECTOR)
        record = wait_until(
            lambda: engine.get_batch_prediction_jobs(job_id)["batchPredictions"][0],
            lambda r: r["status"] != "IN_PROGRESS",
        )
    finally:
        engine.close()
    if record["status"] != "COMPLETE":
        raise RuntimeError(f"batch job failed: {record}")
    return pd.read_csv(output, dtype=str, keep_default_na=False)


test_events.__test__ = False  # a helper, not a test
