"""Model performance in AFD's shape: AUC, PR-AUC and ``metricDataPoints`` by score threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = ["metric_data_points", "performance", "rates_at"]


def rates_at(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """FPR, TPR and precision when events with ``score > threshold`` are flagged."""
    flagged = scores > threshold
    positives = labels == 1
    tp = int(np.sum(flagged & positives))
    fp = int(np.sum(flagged & ~positives))
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return {
        "threshold": float(threshold),
        "fpr": fp / n_neg if n_neg else 0.0,
        "tpr": tp / n_pos if n_pos else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
    }


def metric_data_points(
    scores: np.ndarray, labels: np.ndarray, step: int = 10
) -> list[dict[str, float]]:
    """One point per threshold 0, step, ..., 1000 (AFD's ``metricDataPoints``)."""
    positives = labels == 1
    pos_sorted, neg_sorted = np.sort(scores[positives]), np.sort(scores[~positives])
    n_pos, n_neg = len(pos_sorted), len(neg_sorted)
    points = []
    for threshold in range(0, 1001, step):
        tp = n_pos - np.searchsorted(pos_sorted, threshold, side="right")
        fp = n_neg - np.searchsorted(neg_sorted, threshold, side="right")
        points.append(
            {
                "threshold": float(threshold),
                "fpr": round(fp / n_neg, 6) if n_neg else 0.0,
                "tpr": round(tp / n_pos, 6) if n_pos else 0.0,
                "precision": round(tp / (tp + fp), 6) if tp + fp else 1.0,
            }
        )
    return points


def performance(scores: np.ndarray, labels: np.ndarray, raw: np.ndarray) -> dict[str, Any]:
    """AUC and PR-AUC (from the raw margins, so ties at score 1000 do not blur them), plus
    recall at 1% FPR and the measured FPR at scores 700 and 900."""
    if len(np.unique(labels)) < 2:
        raise ValueError("the validation slice needs both fraud and legit events")
    legit_raw = np.sort(raw[labels == 0])
    at_1pct = legit_raw[int(np.floor(0.99 * (len(legit_raw) - 1)))]
    return {
        "auc": round(float(roc_auc_score(labels, raw)), 6),
        "pr_auc": round(float(average_precision_score(labels, raw)), 6),
        "recall_at_1pct_fpr": round(float(np.mean(raw[labels == 1] > at_1pct)), 6),
        "fpr_at_700": round(rates_at(scores, labels, 700)["fpr"], 6),
        "fpr_at_900": round(rates_at(scores, labels, 900)["fpr"], 6),
        "tpr_at_900": round(rates_at(scores, labels, 900)["tpr"], 6),
        "fraud_rate": round(float(np.mean(labels == 1)), 6),
        "events": len(labels),
    }
