"""A trained model version on disk and in memory: LightGBM text model + JSON metadata.

Why a class: batch and realtime scoring need the same steps (impute, encode, build features,
predict, calibrate) with the booster loaded once per process. Files: ``model.txt``
(LightGBM's own text format), ``metadata.json`` (features, vocabularies, medians, calibration),
``entities_*.parquet`` (the card-history snapshot). Nothing is pickled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from fraudpipe.engine.calibration import Calibration
from fraudpipe.engine.compiled import CompiledPredictor, compiled_predictor
from fraudpipe.engine.dataset import CATEGORICAL_VARIABLES
from fraudpipe.engine.entities import CardState, Snapshot
from fraudpipe.engine.features import FEATURES, CardBase, build_features
from fraudpipe.engine.single_row import RowPredictor, single_row_predictor
from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import read_json

__all__ = ["ModelArtifact", "load_artifact"]

MODEL_FILE, METADATA_FILE = "model.txt", "metadata.json"
#: Batches of at least this many rows are scored by the compiled trees (below it, compiling or
#: loading the compiled object costs more than it saves).
COMPILED_MIN_ROWS = 20_000


@dataclass
class ModelArtifact:
    """A loaded model version, ready to score."""

    folder: Path
    booster: lgb.Booster
    metadata: dict[str, Any]
    calibration: Calibration
    snapshot: Snapshot
    _compiled: CompiledPredictor | bool | None = field(default=False, repr=False)
    _row: RowPredictor | None = field(default=None, repr=False)

    @property
    def medians(self) -> dict[str, float]:
        return self.metadata["medians"]

    @property
    def vocabularies(self) -> dict[str, list[str]]:
        return self.metadata["vocabularies"]

    def impute(self, numeric: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Missing numbers get the training median, as AFD imputes numeric variables."""
        return {
            name: np.where(np.isnan(values), self.medians[name], values)
            for name, values in numeric.items()
        }

    def matrix(
        self,
        card: np.ndarray,
        ts: np.ndarray,
        numeric: dict[str, np.ndarray],
        categorical: dict[str, np.ndarray],
        base: CardBase | None = None,
    ) -> np.ndarray:
        return build_features(
            card, ts, self.impute(numeric), categorical, self.vocabularies, base,
            self.metadata.get("category_amounts"),
        )

    def state_matrix(
        self, state: CardState, ts: int, numbers: dict[str, np.ndarray],
        variables: dict[str, str],
    ) -> np.ndarray:
        """The matrix of one card's recent events plus a new event (the last row).

        Why here: realtime scoring must build exactly the rows batch scoring builds for the
        same history (the recent events with their categories, the older summary per row).
        """
        k = len(state.recent)
        imputed = self.impute(numbers)
        hist_ts = np.array([t for t, _ in state.recent] + [ts], dtype=np.int64)
        numeric = {name: np.concatenate([np.zeros(k), imputed[name]]) for name in imputed}
        numeric["amt"] = np.array([a / 100.0 for _, a in state.recent] + [imputed["amt"][0]])
        categorical = {
            name: np.array([""] * k + [variables.get(name, "").strip()], dtype=object)
            for name in CATEGORICAL_VARIABLES
        }
        categorical["category"][:k] = state.categories_of_recent()
        base = state.base(k + 1, categorical["category"], hist_ts)
        return self.matrix(np.zeros(k + 1, dtype=np.int64), hist_ts, numeric, categorical, base)

    def raw(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        """Raw margins (log-odds) of the booster; big batches through its compiled form."""
        if len(matrix) >= COMPILED_MIN_ROWS:
            compiled = self.compiled()
            if compiled is not None:
                return compiled.raw(matrix, threads)
        return self.booster.predict(matrix, raw_score=True, num_threads=threads)

    def row_predictor(self) -> RowPredictor:
        """LightGBM's single-row path for this booster (realtime scoring), set up once per
        loaded version and released with it."""
        if self._row is None:
            self._row = single_row_predictor(self.booster)
        return self._row

    def compiled(self) -> CompiledPredictor | None:
        """The compiled trees (compiled once per process, cached on disk), or None."""
        if self._compiled is False:
            self._compiled = compiled_predictor(self.folder / MODEL_FILE)
        return self._compiled  # type: ignore[return-value]

    def scores(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        """Calibrated 0-1000 scores."""
        return self.calibration.score(self.raw(matrix, threads))


_CACHE: dict[tuple[str, float], ModelArtifact] = {}
_LOCK = threading.Lock()


def load_artifact(folder: Path) -> ModelArtifact:
    """Load (once per process, keyed by path and modification time) a model version folder."""
    meta_path = folder / METADATA_FILE
    try:
        stamp = meta_path.stat().st_mtime
    except FileNotFoundError as exc:
        raise ResourceNotFoundError(f"no trained model in {folder}") from exc
    key = (str(folder), stamp)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        metadata = read_json(meta_path)
        if metadata.get("features") != FEATURES:
            raise ResourceNotFoundError(
                f"model in {folder} was trained with other features; retrain it"
            )
        booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
        artifact = ModelArtifact(
            folder=folder,
            booster=booster,
            metadata=metadata,
            calibration=Calibration.from_dict(metadata["calibration"]),
            snapshot=Snapshot.load(folder),
        )
        _CACHE[key] = artifact
        return artifact

