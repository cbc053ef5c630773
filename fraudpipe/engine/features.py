"""Model features: event variables, time features and per-card history features.

Why one vectorised implementation: training (1.3M rows), batch scoring and realtime scoring all
call :func:`build_features` so that a realtime score equals the batch score of the same event
sequence. Realtime calls it with a handful of rows (the card's stored recent events plus the new
event), batch and training with everything at once; no per-row Python loops.

History features use only the card's *earlier* events: rows are ordered by (card, timestamp,
input order), so at equal timestamps the row that came first counts as earlier. Amounts are
summed in integer cents, so window sums are exact and identical however the events are batched.
Events older than what the rows carry are summarised by a :class:`CardBase` (count, sum, last
event) per row, which the entity store and the training snapshot provide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fraudpipe.engine.dataset import CATEGORICAL_VARIABLES, NUMERIC_VARIABLES

__all__ = [
    "FEATURES",
    "HISTORY_SPAN",
    "WINDOWS",
    "CardBase",
    "build_features",
    "history_features",
    "time_features",
    "to_cents",
]

#: Look-back windows of the count/sum features, in seconds.
WINDOWS = {"1h": 3_600, "24h": 86_400, "7d": 604_800}
#: Longest window: events older than this before the newest event never enter a window.
HISTORY_SPAN = max(WINDOWS.values())
HISTORY_FEATURES = [
    "secs_since_prev", "prev_amt", "n_prev", "amt_to_mean",
    *(f"{kind}_{w}" for w in WINDOWS for kind in ("count", "sum")),
    "sum_24h_to_mean", "count_24h_to_7d",
]  # fmt: skip
TIME_FEATURES = ["hour", "weekday", "night"]
#: Model input columns, in order; categorical ones are integer codes (NaN = missing/unknown).
FEATURES = [*NUMERIC_VARIABLES, *CATEGORICAL_VARIABLES, *TIME_FEATURES, *HISTORY_FEATURES]


@dataclass
class CardBase:
    """Per-row summary of a card's events that are *not* among the rows (older history)."""

    count: np.ndarray  # int64 events
    sum_cents: np.ndarray  # int64
    last_ts: np.ndarray  # float64 seconds, NaN if none
    last_cents: np.ndarray  # float64 cents, NaN if none

    @classmethod
    def empty(cls, n: int) -> CardBase:
        return cls(
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, np.nan)
        )


def to_cents(amt: np.ndarray) -> np.ndarray:
    """Amounts in integer cents (the unit of every history sum)."""
    return np.rint(np.asarray(amt, dtype=float) * 100.0).astype(np.int64)


def time_features(ts: np.ndarray) -> dict[str, np.ndarray]:
    """Hour of day, weekday (Monday 0) and night (22:00-03:59) from UTC epoch seconds."""
    ts = np.asarray(ts, dtype=np.int64)
    hour = (ts // 3600) % 24
    weekday = (ts // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    night = (hour >= 22) | (hour < 4)
    return {"hour": hour.astype(float), "weekday": weekday.astype(float), "night": night * 1.0}


def history_features(
    card: np.ndarray, ts: np.ndarray, cents: np.ndarray, base: CardBase | None = None
) -> dict[str, np.ndarray]:
    """History features of every row from the earlier rows of its card (and ``base``).

    ``card`` holds integer card codes; results are in input order.
    """
    n = len(ts)
    base = base or CardBase.empty(n)
    order = np.lexsort((np.arange(n), ts, card))
    c, t, a = card[order].astype(np.int64), ts[order].astype(np.int64), cents[order]
    b_count, b_sum = base.count[order], base.sum_cents[order]
    b_last_ts, b_last_cents = base.last_ts[order], base.last_cents[order]
    idx = np.arange(n)
    first = np.ones(n, dtype=bool)
    first[1:] = c[1:] != c[:-1]
    start = np.maximum.accumulate(np.where(first, idx, 0))
    cs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(a, out=cs[1:])
    pos = idx - start
    n_prev = pos + b_count
    sum_prev = cs[idx] - cs[start] + b_sum
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_prev = np.where(n_prev > 0, sum_prev / np.maximum(n_prev, 1), np.nan)
        prev_ts = np.where(first, b_last_ts, np.roll(t, 1).astype(float))
        prev_cents = np.where(first, b_last_cents, np.roll(a, 1).astype(float))
        out = {
            "secs_since_prev": t - prev_ts,
            "prev_amt": prev_cents / 100.0,
            "n_prev": n_prev.astype(float),
            "amt_to_mean": a / mean_prev,
        }
        key = (c << 32) + t
        for name, span in WINDOWS.items():
            left = np.searchsorted(key, key - span, side="right")
            out[f"count_{name}"] = (idx - left).astype(float)
            out[f"sum_{name}"] = (cs[idx] - cs[left]) / 100.0
        out["sum_24h_to_mean"] = out["sum_24h"] * 100.0 / mean_prev
        out["count_24h_to_7d"] = out["count_24h"] / (out["count_7d"] + 1.0)
    result = {}
    for name, values in out.items():
        back = np.empty(n, dtype=float)
        back[order] = values
        result[name] = back
    return result


def category_codes(values: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    """Codes of ``values`` in ``vocabulary`` as floats; unknown or empty values are NaN."""
    codes = pd.Categorical(values, categories=vocabulary).codes.astype(float)
    codes[codes < 0] = np.nan
    return codes


def build_features(
    card: np.ndarray,
    ts: np.ndarray,
    numeric: dict[str, np.ndarray],
    categorical: dict[str, np.ndarray],
    vocabularies: dict[str, list[str]],
    base: CardBase | None = None,
) -> np.ndarray:
    """The model matrix (rows in input order, columns :data:`FEATURES`).

    ``numeric`` values must already be imputed; ``categorical`` holds strings.
    """
    n = len(ts)
    columns: dict[str, np.ndarray] = {name: numeric[name] for name in NUMERIC_VARIABLES}
    for name in CATEGORICAL_VARIABLES:
        columns[name] = category_codes(categorical[name], vocabularies.get(name, []))
    columns.update(time_features(ts))
    columns.update(history_features(card, ts, to_cents(numeric["amt"]), base))
    matrix = np.empty((n, len(FEATURES)), dtype=float)
    for j, name in enumerate(FEATURES):
        matrix[:, j] = columns[name]
    return matrix
