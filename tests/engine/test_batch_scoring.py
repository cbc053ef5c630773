"""Batch scoring's fast path gives the output of the plain one: slices of cards on threads,
compiled trees, Arrow timestamps, JSON built once per rule-match pattern."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudpipe.engine import BuiltinEngine, batch_io, scoring
from fraudpipe.engine.artifact import COMPILED_TOLERANCE, half_points, unsure_rows
from fraudpipe.engine.batch_rows import BatchRows
from fraudpipe.engine.calibration import GRID, Calibration
from fraudpipe.engine.dataset import _to_epoch_seconds
from fraudpipe.engine.scoring import score_batch
from tests.engine.conftest import DETECTOR, MODEL


def _batch_with_bad_rows(source: Path, target: Path) -> pd.DataFrame:
    batch = pd.read_csv(source, dtype=str, keep_default_na=False)
    batch.loc[3, "EVENT_TIMESTAMP"] = "not-a-time"
    batch.loc[50, "amt"] = "12,50"
    batch.loc[70, "amt"] = ""
    batch.loc[90, "category"] = "never_seen"
    batch.loc[110, "merchant"] = 'Shop "A", and B'  # quoted in the CSV
    batch.to_csv(target, index=False)
    return batch


@pytest.mark.slow
def test_slices_threads_and_compiled_trees_give_the_output_of_one_piece(
    trained: BuiltinEngine, data_files: tuple[Path, Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a batch with bad rows, an unknown category and a value that needs quoting
    source = tmp_path / "batch.csv"
    batch = _batch_with_bad_rows(data_files[2], source)
    detector = trained.load_detector(DETECTOR)
    # WHEN it is scored in one piece with LightGBM on one thread ...
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 10**9)
    monkeypatch.setattr(scoring, "MAX_THREADS", 1)
    monkeypatch.setattr(scoring, "COMPILED_MIN_ROWS", 10**9)
    plain = score_batch(detector, source, tmp_path / "plain.csv")
    # ... in slices of a few cards on two threads with LightGBM ...
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 300)
    monkeypatch.setattr(scoring, "MAX_THREADS", 2)
    score_batch(detector, source, tmp_path / "threads.csv")
    # ... and so with the compiled trees
    monkeypatch.setattr(scoring, "COMPILED_MIN_ROWS", 0)
    fast = score_batch(detector, source, tmp_path / "fast.csv")
    # THEN the files are byte for byte the same, and so are the summaries
    assert len(batch) > 1000
    assert (tmp_path / "threads.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert {k: v for k, v in fast.items() if not k.startswith("stage")} == {
        k: v for k, v in plain.items() if not k.startswith("stage")}
    assert fast["rows"] == len(batch) and fast["failed_rows"] == 2
    assert set(fast["stage_seconds"]) >= {"read", "parse", "history", "features_and_trees",
                                          "write"}
    out = pd.read_csv(tmp_path / "fast.csv", dtype=str, keep_default_na=False)
    assert out.loc[110, "merchant"] == 'Shop "A", and B'
    assert out.loc[3, "STATUS"] == "EVENT_TIMESTAMP: not an ISO 8601 timestamp"
    assert out.loc[3, ["MODEL_SCORES", "OUTCOMES", "RULE_RESULTS"]].tolist() == ["{}", "[]",
                                                                                 "{}"]
    scores = out["MODEL_SCORES"].map(lambda text: json.loads(text).get(MODEL, -1))
    counts = out["OUTCOMES"].map(json.loads).explode().value_counts().to_dict()
    assert fast["outcome_counts"] == counts
    assert scores.nunique() > 50


def test_compiled_margins_never_change_a_score(
    trained: BuiltinEngine, data_files: tuple[Path, Path, Path]
) -> None:
    # GIVEN compiled trees whose margins are off by 5e-9 (within the tolerance), and a
    # calibration that puts the first row's LightGBM margin exactly on a rounding boundary
    artifact = trained.load_detector(DETECTOR).models[0].artifact
    batch = pd.read_csv(data_files[2], dtype=str, keep_default_na=False).head(400)
    matrix = artifact.matrix(
        pd.factorize(batch["cc_num"])[0],
        pd.to_datetime(batch["EVENT_TIMESTAMP"]).to_numpy(dtype="datetime64[s]").astype(np.int64),
        {"amt": pd.to_numeric(batch["amt"]).to_numpy(),
         "city_pop": pd.to_numeric(batch["city_pop"]).to_numpy(dtype=float)},
        {c: batch[c].to_numpy(dtype=object) for c in ("category", "gender", "state")})
    exact = artifact.booster.predict(matrix, raw_score=True)
    step = 0.01
    calibration = Calibration(exact[0] - (500.5 - GRID) * step)

    class Shifted:
        def raw(self, data: np.ndarray, threads: int = 0) -> np.ndarray:
            return artifact.booster.predict(data, raw_score=True) + 5e-9

    shifted = dataclasses.replace(artifact, calibration=calibration, _compiled=Shifted(),
                                  _half_points=None)
    # WHEN the batch is scored through the compiled path
    scores = calibration.score(shifted.raw(matrix, compiled=True))
    # THEN every score is LightGBM's, though rounding the shifted margin would move one
    assert calibration.score(exact + 5e-9)[0] != calibration.score(exact)[0]
    np.testing.assert_array_equal(scores, calibration.score(exact))


def test_unsure_rows_are_those_near_a_half_point() -> None:
    calibration = Calibration(np.linspace(-5.0, 5.0, 1001))
    half = half_points(calibration)
    raw = np.array([half[0], half[999] + COMPILED_TOLERANCE / 2, half[10] + 3e-8,
                    half[10] - COMPILED_TOLERANCE / 2, -9.0, 9.0, (half[20] + half[21]) / 2])
    assert unsure_rows(half, raw, COMPILED_TOLERANCE).tolist() == [0, 1, 3]


@pytest.mark.parametrize("stamps", [
    ["2020-06-21T12:14:25Z", "2021-01-01T00:00:00Z", "1999-12-31T23:59:59Z"],
    ["2020-06-21T12:14:25+01:00", "2020-06-21T12:14:25-05:30", "2020-06-21T12:14:25Z"],
    ["2020-06-21T12:14:25+0100", "2020-06-21T12:14:25+01", "2020-06-21 12:14:25Z",
     "2020-06-21T12:14Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"],
])
def test_arrow_timestamps_equal_pandas_iso8601(stamps: list[str]) -> None:
    values = pd.Series(stamps * 50, dtype="str")
    seconds, bad = _to_epoch_seconds(values)
    expected = pd.to_datetime(values, utc=True, format="ISO8601").to_numpy(
        dtype="datetime64[s]").astype(np.int64)
    np.testing.assert_array_equal(seconds, expected)
    assert not bad.any()


def test_other_timestamp_spellings_fall_back_to_pandas_and_mark_bad_cells() -> None:
    values = pd.Series(["2020-06-21T12:14:25Z", "2020-06-21 12:14:25", "2020-06-21",
                        "2020-06-21T12:14:25.7Z", "yesterday", "", " 2020-06-21T12:14:25Z"],
                       dtype="str")
    seconds, bad = _to_epoch_seconds(values)
    assert bad.tolist() == [False, False, False, False, True, True, False]
    noon = int(pd.Timestamp("2020-06-21T12:14:25Z").timestamp())
    assert seconds.tolist() == [noon, noon, noon - 44065, noon, 0, 0, noon]


def test_outcome_counts_follow_value_counts_order() -> None:
    texts = ['["low_risk"]', '["high_risk"]', '[]', '["medium_risk", "review"]', '["review"]']
    first = np.array([0, 1, 2, 3, 4])
    counts = np.array([5, 3, 9, 3, 2])
    rows = pd.Series(np.repeat(texts, counts))
    expected: dict[str, int] = {}
    for text, n in rows.value_counts().items():
        for outcome in json.loads(str(text)):
            expected[outcome] = expected.get(outcome, 0) + int(n)
    result = batch_io.outcome_counts(texts, first, counts)
    assert list(result.items()) == list(expected.items())


def test_scores_json_is_what_json_dumps_writes() -> None:
    rng = np.random.default_rng(1)
    scores = {"fraud_model": rng.integers(0, 1001, 500).astype(float),
              "other \"model\"": rng.integers(0, 1001, 500).astype(float)}
    ok = rng.random(500) > 0.1
    texts = batch_io.scores_json(scores, ok).to_pylist()
    expected = [json.dumps({m: float(v[i]) for m, v in scores.items()}) if ok[i] else "{}"
                for i in range(500)]
    assert texts == expected
    single = batch_io.scores_json({"m": scores["fraud_model"]}, np.ones(500, bool))
    assert single.to_pylist() == [json.dumps({"m": v}) for v in scores["fraud_model"]]


@pytest.mark.parametrize("values", [[0, 1, 2, 4, 6], list(range(0, 60000, 7))])
def test_distinct_patterns_equal_numpy_unique(values: list[int]) -> None:
    pattern = np.random.default_rng(2).choice(values, 5000)
    for got, want in zip(batch_io._distinct(pattern),
                         np.unique(pattern, return_index=True, return_inverse=True,
                                   return_counts=True), strict=True):
        np.testing.assert_array_equal(got, want)


def test_slices_hold_whole_cards() -> None:
    codes = np.repeat([0, 1, 2, 3], [3, 1, 2, 9])
    rows = BatchRows(codes, np.array(["a", "b", "c", "d"], dtype=object),
                     np.arange(len(codes)), {}, {}, np.arange(len(codes)))
    assert rows.chunks(4) == [(0, 4), (4, 15)]  # the last card alone is longer than 4
    assert rows.chunks(100) == [(0, 15)]
    assert rows.chunks(1) == [(0, 3), (3, 4), (4, 6), (6, 15)]


def test_a_batch_of_only_bad_rows_completes_with_reasons(
    trained: BuiltinEngine, data_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    batch = pd.read_csv(data_files[2], dtype=str, keep_default_na=False).head(30)
    batch["EVENT_TIMESTAMP"] = "soon"
    batch.to_csv(tmp_path / "bad.csv", index=False)
    summary = score_batch(trained.load_detector(DETECTOR), tmp_path / "bad.csv",
                          tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert summary["failed_rows"] == 30 and summary["outcome_counts"] == {}
    assert set(out["STATUS"]) == {"EVENT_TIMESTAMP: not an ISO 8601 timestamp"}
    assert set(out["MODEL_SCORES"]) == {"{}"} and set(out["OUTCOMES"]) == {"[]"}


def test_per_category_history_dense_and_searched_agree(
    trained: BuiltinEngine, data_files: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fraudpipe.engine import batch_rows as module
    from fraudpipe.engine.dataset import parse_events

    artifact = trained.load_detector(DETECTOR).models[0].artifact
    frame = pd.read_csv(data_files[2], dtype=str, keep_default_na=False)
    events = parse_events(frame, "batch", entity_column="ENTITY_ID")
    rows = module.batch_rows(artifact, events, np.ones(len(frame), bool), None).by_card()
    dense = rows.base(artifact.snapshot)
    monkeypatch.setattr(module, "DENSE_CELLS", 0)
    searched = rows.base(artifact.snapshot)
    assert dense.cat_count is not None and searched.cat_count is not None
    assert dense.cat_count.sum() > 0
    for name in ("cat_count", "cat_sum", "cat_sumsq", "cat_log_sum", "cat_log_sumsq"):
        np.testing.assert_array_equal(getattr(dense, name), getattr(searched, name))
