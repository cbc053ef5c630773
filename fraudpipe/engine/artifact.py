"""A trained model version on disk and in memory: LightGBM text model + JSON metadata.

Why a class: batch and realtime scoring need the same steps (impute, encode, build features,
predict, calibrate) with the booster loaded once per process. Files: ``model.txt``
(LightGBM's own text format), ``metadata.json`` (features, vocabularies, medians, calibration),
``entities_*.parquet`` (the card-history snapshot). Nothing is pickled.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from fraudpipe.engine.calibration import GRID, Calibration
from fraudpipe.engine.compiled import CompiledPredictor, compiled_predictor
from fraudpipe.engine.entities import CardState, Snapshot, bases_of
from fraudpipe.engine.features import FEATURES, MODEL_CATEGORIES, CardBase, build_features
from fraudpipe.engine.profile import FraudProfile, profile_of
from fraudpipe.engine.single_row import RowPredictor, single_row_predictor
from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import read_json

__all__ = ["ModelArtifact", "half_points", "load_artifact", "unsure_rows"]

MODEL_FILE, METADATA_FILE = "model.txt", "metadata.json"
#: Batches of at least this many rows are scored by the compiled trees (below it, compiling or
#: loading the compiled object costs more than it saves).
COMPILED_MIN_ROWS = 20_000
#: Bound on how far a compiled margin may be from LightGBM's. Both add the same 64-bit leaf
#: values, only in another order: for 120 trees that moves a margin by ~1e-13 at most, and the
#: test bound is 1e-9. Rows whose score this distance could change are scored by LightGBM.
COMPILED_TOLERANCE = 1e-8


@dataclass
class ModelArtifact:
    """A loaded model version, ready to score."""

    folder: Path
    booster: lgb.Booster
    metadata: dict[str, Any]
    calibration: Calibration
    snapshot: Snapshot
    _compiled: CompiledPredictor | bool | None = field(default=False, repr=False)
    _half_points: np.ndarray | None = field(default=None, repr=False)
    _row: RowPredictor | None = field(default=None, repr=False)

    @property
    def medians(self) -> dict[str, float]:
        return self.metadata["medians"]

    @property
    def vocabularies(self) -> dict[str, list[str]]:
        return self.metadata["vocabularies"]

    @cached_property
    def profile(self) -> FraudProfile | None:
        """The version's fraud profile, converted from its metadata once (realtime scoring
        builds features for every event)."""
        return profile_of(self.metadata.get("fraud_profile"))

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
        imputed: bool = False,
    ) -> np.ndarray:
        """The model matrix; ``imputed``: ``numeric`` has no missing values left."""
        return build_features(
            card, ts, numeric if imputed else self.impute(numeric), categorical,
            self.vocabularies, base,
            self.metadata.get("category_amounts"), self.profile,
        )

    def states_matrix(
        self, states: list[CardState], ts: list[int], numbers: list[dict[str, Any]],
        variables: list[dict[str, str]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The matrix of each card's recent events followed by its new event (cards must
        differ); returns the matrix and the row of each new event. ``numbers``: each event's
        numeric variables, numbers or one-value arrays (NaN when missing, imputed here as
        :meth:`impute` does).

        Why here: realtime scoring must build exactly the rows batch scoring builds for the
        same history (the recent events with their categories, the older summary per row).

        Why: realtime requests that arrive together are scored together, and building the
        features costs per numpy call far more than per row, so one call for several events
        costs about what one event costs. Each card's rows get a card code of their own, so
        they get exactly the values they would get alone. The columns are
        laid out as Python lists and turned into arrays once (a few dozen rows: per-card
        numpy calls and concatenations cost more than the values).
        """
        medians = self.medians
        card_codes: list[int] = []
        times: list[int] = []
        numeric: dict[str, list[float]] = {name: [] for name in numbers[0]}
        # the categories the model reads (build_features' contract: MODEL_CATEGORIES at least)
        text: dict[str, list[str]] = {name: [] for name in MODEL_CATEGORIES}
        rows, categories, card_times_all = [], [], []
        for code, (state, t, values, names) in enumerate(
                zip(states, ts, numbers, variables, strict=True)):
            recent = state.recent
            k = len(recent)
            for name, column in numeric.items():  # imputed as impute() does, one value
                value = values[name]  # a number, or a one-value array (as batch columns are)
                value = float(value) if isinstance(value, (float, int)) else float(value[0])
                column += [a / 100.0 for _, a in recent] if name == "amt" else [0.0] * k
                column.append(float(medians[name]) if math.isnan(value) else value)
            card_times = [r[0] for r in recent]
            card_times.append(t)
            times += card_times
            card_codes += [code] * (k + 1)
            rows.append(len(card_codes) - 1)
            card_categories = state.categories_of_recent()
            card_categories.append(names.get("category", "").strip())
            for name, column in text.items():
                if name == "category":
                    column += card_categories
                else:
                    column += [""] * k
                    column.append(names.get(name, "").strip())
            categories.append(card_categories)
            card_times_all.append(card_times)
        return self.matrix(
            np.array(card_codes, dtype=np.int64), np.array(times, dtype=np.int64),
            {name: np.array(column, dtype=float) for name, column in numeric.items()},
            {name: np.array(column, dtype=object) for name, column in text.items()},
            bases_of(states, categories, card_times_all), imputed=True,
        ), np.array(rows, dtype=np.int64)

    def raw(self, matrix: np.ndarray, threads: int = 0, compiled: bool | None = None
            ) -> np.ndarray:
        """Raw margins (log-odds) of the booster; big batches through its compiled form.

        ``compiled`` forces the choice (a batch split into parts decides once for the whole
        batch); by default batches of :data:`COMPILED_MIN_ROWS` rows or more use it. A compiled
        margin can differ from LightGBM's in the last bits, so where that could change the
        integer score (the calibrated value lies within :data:`COMPILED_TOLERANCE` of a
        rounding boundary) the row's margin is LightGBM's: scores never depend on the path.
        """
        predictor = self.compiled() if (
            len(matrix) >= COMPILED_MIN_ROWS if compiled is None else compiled) else None
        if predictor is None:
            return self.booster.predict(matrix, raw_score=True, num_threads=threads)
        raw = predictor.raw(matrix, threads)
        if self._half_points is None:  # threads may both compute it: the same values
            self._half_points = half_points(self.calibration)
        unsure = unsure_rows(self._half_points, raw, COMPILED_TOLERANCE)
        if len(unsure):
            raw[unsure] = self.booster.predict(matrix[unsure], raw_score=True, num_threads=1)
        return raw

    def row_predictor(self) -> RowPredictor:
        """LightGBM's single-row path for this booster (realtime scoring), set up once per
        loaded version and released with it."""
        if self._row is None:
            self._row = single_row_predictor(self.booster)
        return self._row

    def compiled(self) -> CompiledPredictor | None:
        """The compiled trees (compiled once per process, cached on disk), or None. Safe to
        call from the threads of a batch: the first caller loads them, the others wait."""
        if self._compiled is False:
            with _COMPILE_LOCK:
                if self._compiled is False:
                    self._compiled = compiled_predictor(self.folder / MODEL_FILE)
        return self._compiled  # type: ignore[return-value]


def half_points(calibration: Calibration) -> np.ndarray:
    """The margins at which the calibrated value is k + 0.5 (k = 0..999), where a score
    changes: the thresholds increase strictly, so interpolating the other way inverts the
    mapping (up to rounding far below :data:`COMPILED_TOLERANCE`)."""
    return np.interp(np.arange(0.5, 1000.0), GRID, calibration.thresholds)


def unsure_rows(half: np.ndarray, raw: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows whose integer score could change if their margin moved by up to ``tolerance``:
    a half point (:func:`half_points`) lies within ``tolerance`` of the margin (one binary
    search per row)."""
    at = np.searchsorted(half, raw - tolerance)
    inside = at < len(half)
    near = half[np.minimum(at, len(half) - 1)] <= raw + tolerance
    return np.flatnonzero(inside & near)


_CACHE: dict[tuple[str, float], ModelArtifact] = {}
#: Model versions kept loaded per process, least recently used dropped first: a server that
#: lives through many trainings would otherwise keep every booster and snapshot it ever used.
MAX_LOADED = 8
_LOCK = threading.Lock()
_COMPILE_LOCK = threading.Lock()


def load_artifact(folder: Path) -> ModelArtifact:
    """Load (once per process, keyed by path and modification time; at most
    :data:`MAX_LOADED` versions kept) a model version folder."""
    meta_path = folder / METADATA_FILE
    try:
        stamp = meta_path.stat().st_mtime
    except FileNotFoundError as exc:
        raise ResourceNotFoundError(f"no trained model in {folder}") from exc
    key = (str(folder), stamp)
    with _LOCK:
        cached = _CACHE.pop(key, None)
        if cached is not None:
            _CACHE[key] = cached  # the most recently used is last
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
        # a rewritten version replaces its earlier load (a process serving for days would
        # otherwise keep every booster, snapshot and compiled tree it ever loaded from it)
        for stale in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[stale]
        _CACHE[key] = artifact
        while len(_CACHE) > MAX_LOADED:
            del _CACHE[next(iter(_CACHE))]
        return artifact

