"""Scores 0-1000 calibrated to false-positive rate, as Amazon Fraud Detector's are.

Why: rules are written against scores (``> 900``), so a score must mean the same thing for every
model version. AFD documents two points: score 600 ~ 10% FPR and 900 ~ 2% FPR. fraudpipe maps a
score ``s`` to a target FPR that is piecewise linear in ``log10(FPR)`` through the knots

    s:    0     600    900    1000
    FPR:  100%  10%    2%     0.01%

and, on the validation slice's *legit* events, finds the raw model margin at which that share
of legit events scores at or above it. Scoring interpolates the raw margin in that table
(monotone), so ``score >= s`` flags about ``target_fpr(s)`` of legit traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KNOTS", "Calibration", "target_fpr"]

KNOTS = ((0.0, 1.0), (600.0, 0.10), (900.0, 0.02), (1000.0, 0.0001))
GRID = np.arange(0, 1001, dtype=float)


def target_fpr(score: np.ndarray | float) -> np.ndarray:
    """The FPR a score stands for (the knots above, log-linear in between)."""
    xs = np.array([k[0] for k in KNOTS])
    ys = np.log10([k[1] for k in KNOTS])
    return 10 ** np.interp(score, xs, ys)


@dataclass
class Calibration:
    """Raw-margin thresholds for scores 0..1000 (increasing)."""

    thresholds: np.ndarray

    @classmethod
    def fit(cls, legit_raw: np.ndarray) -> Calibration:
        """Fit on the raw margins of the validation slice's legit events."""
        legit_raw = np.sort(np.asarray(legit_raw, dtype=float))
        if len(legit_raw) == 0:
            raise ValueError("calibration needs at least one legit event in the validation slice")
        quantile = 1.0 - target_fpr(GRID)
        thresholds = np.quantile(legit_raw, quantile, method="linear")
        # strictly increasing so interpolation is well defined even where margins tie
        span = max(float(thresholds[-1] - thresholds[0]), 1.0)
        thresholds = np.maximum.accumulate(thresholds + GRID * span * 1e-9)
        return cls(thresholds=thresholds)

    def score(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated integer scores (as floats, AFD's shape) for raw margins."""
        return np.rint(np.interp(raw, self.thresholds, GRID))

    def to_dict(self) -> dict[str, Any]:
        return {"knots": [list(k) for k in KNOTS], "thresholds": self.thresholds.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(thresholds=np.asarray(data["thresholds"], dtype=float))
