"""LightGBM's fast single-row prediction, for realtime scoring.

Why: ``Booster.predict`` on one row spends ~100 µs in Python (an inner predictor per call,
parameter strings, input checks) around a prediction that takes a few µs in C++. LightGBM's
C API has a path made for this, ``LGBM_BoosterPredictForMatSingleRowFast``, whose set-up
(``...FastInit``: prediction type, iterations, feature count, ``num_threads=1``) is done once
per loaded model version (:meth:`ModelArtifact.row_predictor` keeps it). It runs the same
trees on the same float64 values, so its raw margin is the one ``Booster.predict(...,
raw_score=True)`` gives (a test checks that); batch scoring keeps ``Booster.predict`` (and
the compiled trees for big batches).

The Python package does not wrap this C function, so this module calls it through the
library handle the package loads (``lightgbm.basic._LIB``, pinned LightGBM 4.7). If that
handle or the function were missing, :func:`single_row_predictor` returns a predictor that
calls ``Booster.predict`` instead.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Protocol

import lightgbm as lgb
import numpy as np

__all__ = ["RowPredictor", "SingleRowPredictor", "single_row_predictor"]

_RAW_SCORE, _FLOAT64 = 1, 1  # C_API_PREDICT_RAW_SCORE, C_API_DTYPE_FLOAT64


class RowPredictor(Protocol):
    """Raw margin of one feature row."""

    def raw(self, row: np.ndarray) -> float: ...

    def raw_rows(self, matrix: np.ndarray, rows: list[int]) -> list[float]: ...


class SingleRowPredictor:
    """Raw margin of one feature row through a FastConfig of ``booster`` (thread-safe)."""

    def __init__(self, booster: lgb.Booster) -> None:
        from lightgbm.basic import _LIB, _safe_call

        self._lib, self._check = _LIB, _safe_call
        self.n_features = booster.num_feature()
        self._booster = booster  # the FastConfig points into the booster: keep it alive
        self._config = ctypes.c_void_p()
        self._check(self._lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(_RAW_SCORE), ctypes.c_int(0),
            ctypes.c_int(booster.best_iteration), ctypes.c_int(_FLOAT64),
            ctypes.c_int32(self.n_features), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self._config),
        ))  # fmt: skip
        weakref.finalize(self, self._lib.LGBM_FastConfigFree, self._config)
        self._out = np.zeros(1, dtype=np.float64)
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64(0)
        self._out_len_ref = ctypes.byref(self._out_len)
        self._predict = self._lib.LGBM_BoosterPredictForMatSingleRowFast
        self._lock = threading.Lock()

    def raw(self, row: np.ndarray) -> float:
        """Raw margin (log-odds) of ``row`` (``n_features`` values)."""
        values = np.asarray(row, dtype=np.float64).reshape(1, -1)
        if values.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {values.shape[1]}")
        return self.raw_rows(values, [0])[0]

    def raw_rows(self, matrix: np.ndarray, rows: list[int]) -> list[float]:
        """Raw margins of the given rows of ``matrix`` (rows x ``n_features``).

        Why: a per-row set-up (a contiguous copy check, a ctypes pointer object, ``byref``)
        cost more than LightGBM's prediction; here the matrix is checked once and each row's
        address is its offset in it (:meth:`raw` is one row of a one-row matrix).
        """
        values = np.ascontiguousarray(matrix, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape "
                             f"{values.shape}")
        start, step = values.ctypes.data, values.strides[0]
        out: list[float] = []
        with self._lock:
            for row in map(int, rows):
                if not 0 <= row < values.shape[0]:
                    raise IndexError(f"row {row} of a {values.shape[0]}-row matrix")
                code = self._predict(self._config, ctypes.c_void_p(start + row * step),
                                     self._out_len_ref, self._out_ptr)
                if code != 0:
                    self._check(code)
                out.append(float(self._out[0]))
        return out


class _BoosterPredict:
    """Fallback: ``Booster.predict`` with one thread."""

    def __init__(self, booster: lgb.Booster) -> None:
        self._booster = booster

    def raw(self, row: np.ndarray) -> float:
        matrix = np.asarray(row, dtype=np.float64).reshape(1, -1)
        return float(self._booster.predict(matrix, raw_score=True, num_threads=1)[0])

    def raw_rows(self, matrix: np.ndarray, rows: list[int]) -> list[float]:
        return [self.raw(matrix[row]) for row in rows]


def single_row_predictor(booster: lgb.Booster) -> RowPredictor:
    """A fast single-row predictor of ``booster`` (its set-up costs a few ms: keep it with the
    loaded model, as :meth:`~fraudpipe.engine.artifact.ModelArtifact.row_predictor` does)."""
    try:
        return SingleRowPredictor(booster)
    except (ImportError, AttributeError):
        return _BoosterPredict(booster)
