"""The fast single-row LightGBM path gives the margins ``Booster.predict`` gives."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from fraudpipe.engine.artifact import ModelArtifact
from fraudpipe.engine.single_row import SingleRowPredictor, single_row_predictor


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 5))
    x[:, 4] = rng.integers(0, 6, size=600)  # a categorical column
    x[rng.random(600) < 0.1, 1] = np.nan  # and missing values
    y = ((x[:, 0] + (x[:, 4] == 3) + rng.normal(scale=0.5, size=600)) > 1).astype(int)
    data = lgb.Dataset(x, y, categorical_feature=[4], free_raw_data=False)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1,
              "min_data_in_leaf": 5}  # fmt: skip
    return lgb.train(params, data, num_boost_round=15)


def test_single_row_margins_equal_booster_predict(booster):
    rng = np.random.default_rng(8)
    rows = rng.normal(size=(40, 5))
    rows[:, 4] = rng.integers(-1, 8, size=40)  # unseen categories too
    rows[::7, 1] = np.nan
    expected = booster.predict(rows, raw_score=True, num_threads=1)
    fast = single_row_predictor(booster)
    assert isinstance(fast, SingleRowPredictor)
    assert [fast.raw(row) for row in rows] == expected.tolist()
    # several rows of one matrix at once (realtime scoring's call), any order, and repeated
    picked = [39, 0, 7, 7, 21]
    assert fast.raw_rows(rows, picked) == expected[picked].tolist()
    assert fast.raw_rows(np.asfortranarray(rows), np.array(picked)) == expected[picked].tolist()


def test_rows_outside_the_matrix_or_of_the_wrong_width_are_refused(booster):
    fast = single_row_predictor(booster)
    with pytest.raises(IndexError):
        fast.raw_rows(np.zeros((3, 5)), [3])
    with pytest.raises(ValueError, match="expected rows of 5 features"):
        fast.raw_rows(np.zeros((3, 4)), [0])


def test_a_loaded_model_keeps_its_predictor_and_releases_it_with_itself(booster):
    # GIVEN a loaded model version (only its booster matters here)
    artifact = ModelArtifact(Path("unused"), booster, {}, None, None)  # type: ignore[arg-type]
    # WHEN realtime scoring asks for its single-row predictor twice
    fast = artifact.row_predictor()
    # THEN it is set up once, on this model, and nothing else keeps it
    assert artifact.row_predictor() is fast
    assert ModelArtifact(Path("unused"), booster, {}, None, None).row_predictor() is not fast
    gone = weakref.ref(fast)
    del artifact, fast
    gc.collect()
    assert gone() is None


def test_a_row_of_the_wrong_width_is_refused(booster):
    with pytest.raises(ValueError, match="expected 5 features, got 4"):
        single_row_predictor(booster).raw(np.zeros(4))
