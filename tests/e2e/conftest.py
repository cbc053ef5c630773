"""Fixtures of the end-to-end tests: small Kaggle-layout data, a fast clock, real handlers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: Small enough to train in seconds, large enough for a meaningful AUC.
CUSTOMERS, START, END = 40, "2019-01-01", "2020-12-31"
FAST_INPUT = {
    "min_auc": 0.5,
    "poll_seconds": {
        "crawler": 10,
        "etl": 10,
        "training": 30,
        "batch": 10,
        "simultaneous_training": 30,
    },
}


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fraudTrain.csv / fraudTest.csv for a few cards (generated once per test session)."""
    from fraudpipe.data import write_kaggle_files

    folder = tmp_path_factory.mktemp("raw")
    write_kaggle_files(folder, customers=CUSTOMERS, start=START, end=END, seed=7)
    return folder


@pytest.fixture
def e2e_env(workspace, monkeypatch: pytest.MonkeyPatch):
    """Real handlers and jobs in worker processes; waits scaled to 1/100."""
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.01")
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "local")
    monkeypatch.delenv("FRAUDPIPE_JOB_MODE", raising=False)
    return workspace


def fast_input(**extra: object) -> str:
    return json.dumps({**FAST_INPUT, **extra})
