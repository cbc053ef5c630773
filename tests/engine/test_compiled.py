"""The compiled trees (lleaves) are a cache of the text model: same margins, safe fallbacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.artifact import MODEL_FILE
from fraudpipe.engine.compiled import CACHE_DIR, compiled_predictor
from tests.engine.conftest import DETECTOR, MODEL


def test_compiled_margins_equal_lightgbm_and_the_cache_is_reused(
    trained: BuiltinEngine, data_files: tuple[Path, Path, Path]
) -> None:
    # GIVEN the trained model and the matrix of a batch, with missing values and unknown
    # categories mixed in
    artifact = trained.load_detector(DETECTOR).models[0].artifact
    folder = trained.registry.version_dir(MODEL, "1.0")
    batch = pd.read_csv(data_files[2], dtype=str, keep_default_na=False).head(3000)
    batch.loc[::7, "category"] = "never_seen"
    batch.loc[::11, "amt"] = ""
    events = np.random.default_rng(0)
    matrix = artifact.matrix(
        pd.factorize(batch["cc_num"])[0], pd.to_datetime(batch["EVENT_TIMESTAMP"]).to_numpy(
            dtype="datetime64[s]").astype(np.int64),
        {"amt": pd.to_numeric(batch["amt"], errors="coerce").to_numpy(),
         "city_pop": pd.to_numeric(batch["city_pop"]).to_numpy(dtype=float)},
        {c: batch[c].to_numpy(dtype=object) for c in ("category", "gender", "state")})
    matrix[events.random(matrix.shape) < 0.05] = np.nan
    # WHEN it is compiled (once) and scored both ways
    compiled = compiled_predictor(folder / MODEL_FILE)
    assert compiled is not None
    cached = list((folder / CACHE_DIR).glob("*.o"))
    assert len(cached) == 1
    expected = artifact.booster.predict(matrix, raw_score=True)
    # THEN the margins agree, and a second load uses the cached object
    np.testing.assert_allclose(compiled.raw(matrix), expected, rtol=0, atol=1e-9)
    again = compiled_predictor(folder / MODEL_FILE)
    assert again is not None and list((folder / CACHE_DIR).glob("*.o")) == cached
    np.testing.assert_allclose(again.raw(matrix, threads=1), expected, rtol=0, atol=1e-9)


def test_a_changed_text_model_never_loads_a_stale_object(
    trained: BuiltinEngine, tmp_path: Path
) -> None:
    folder = trained.registry.version_dir(MODEL, "1.0")
    copy = tmp_path / "model.txt"
    copy.write_text((folder / MODEL_FILE).read_text())
    assert compiled_predictor(copy) is not None
    first = {p.name for p in (tmp_path / CACHE_DIR).glob("*.o")}
    # the same trees with one leaf value changed are another model
    text = copy.read_text()
    at = text.index("leaf_value=") + len("leaf_value=")
    copy.write_text(text[:at] + "0.5" + text[text.index(" ", at):])
    assert compiled_predictor(copy) is not None
    second = {p.name for p in (tmp_path / CACHE_DIR).glob("*.o")}
    assert len(second) == 2 and first < second
