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

from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import repeat
from operator import attrgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudpipe.engine.dataset import CATEGORICAL_VARIABLES
from fraudpipe.engine.profile import FraudProfile

__all__ = [
    "FEATURES",
    "HISTORY_SPAN",
    "MODEL_CATEGORIES",
    "MODEL_VARIABLES",
    "WINDOWS",
    "CardBase",
    "build_features",
    "history_features",
    "night_hours",
    "time_band",
    "time_features",
    "to_cents",
]

#: Look-back windows of the count/sum features, in seconds.
WINDOWS = {"1h": 3_600, "24h": 86_400, "3d": 259_200, "7d": 604_800}
#: Longest window: events older than this before the newest event never enter a window.
HISTORY_SPAN = max(WINDOWS.values())
HISTORY_FEATURES = [
    "secs_since_prev", "prev_amt", "n_prev", "amt_to_mean", "amt_z",
    *(f"{kind}_{w}" for w in WINDOWS for kind in ("count", "sum")),
    "night_24h", "night_3d", "sum_24h_to_mean", "count_24h_to_7d", "count_24h_to_rate",
    "count_3d_to_rate",
    # the card's own habits: this category, this time of day
    "cat_n_prev", "cat_share", "amt_to_cat_mean", "amt_cat_z", "lamt_cat_z", "band_share",
    # earlier events of the card in the last 24 hours at times of day it rarely uses
    "odd_hour_24h",
    # this amount against the largest of the card's last 7 days, and the largest of its last
    # 24 hours against its usual amount
    "amt_to_max_7d", "max_24h_to_mean",
    # how much this event looks like the population's fraud rather than the card's own
    # spending (profile.FraudProfile.llr), and that evidence summed over the card's earlier
    # events in the last 1h / 6h / 24h / 3d: an episode under way (its events come within
    # hours of each other and it may last three days), weighed rather than counted by flags
    "llr", "llr_1h", "llr_6h", "llr_24h", "llr_3d",
]  # fmt: skip
#: Spans of the sums of earlier events' evidence (``odd_hour`` counts only over 24 hours).
FLAG_WINDOWS = {"1h": 3_600, "6h": 21_600, "24h": 86_400, "3d": 259_200}
#: Times of day a card's habits are counted in: six 4-hour bands, the first 22:00-01:59.
BANDS = 6
TIME_FEATURES = ["hour", "weekday", "night"]
#: Amount relative to the training median of its category.
EVENT_FEATURES = ["amt_to_category"]
#: Model input columns, in order; categorical ones are integer codes (NaN = missing/unknown).
#: Event variables the model reads directly. ``city_pop`` and ``state`` are parsed and imputed
#: (rules may use them) but are not model inputs: per card they identify the customer, and
#: without them the held-out PR-AUC rose from 0.937 to 0.942 (the model learns how fraud looks
#: rather than who had it).
MODEL_VARIABLES = ["amt", "category", "gender"]
#: LightGBM categorical inputs among them.
MODEL_CATEGORIES = [name for name in MODEL_VARIABLES if name in CATEGORICAL_VARIABLES]
FEATURES = [*MODEL_VARIABLES, *EVENT_FEATURES, *TIME_FEATURES,
            *HISTORY_FEATURES]


@dataclass
class CardBase:
    """Per-row summary of a card's events that are *not* among the rows (older history)."""

    count: np.ndarray  # int64 events
    sum_cents: np.ndarray  # int64
    last_ts: np.ndarray  # float64 seconds, NaN if none
    last_cents: np.ndarray  # float64 cents, NaN if none
    sumsq_cents: np.ndarray | None = None  # int64 sum of squared cents
    first_ts: np.ndarray | None = None  # float64 seconds of the card's first event, NaN if none
    # older events of the card in the row's own category: count, cents sum, squared cents sum
    cat_count: np.ndarray | None = None
    cat_sum: np.ndarray | None = None
    cat_sumsq: np.ndarray | None = None
    cat_log_sum: np.ndarray | None = None  # sums of log_cents (integers)
    cat_log_sumsq: np.ndarray | None = None
    band_count: np.ndarray | None = None  # older events of the card in the row's time band

    def __post_init__(self) -> None:
        n = len(self.count)
        if self.sumsq_cents is None:
            self.sumsq_cents = np.zeros(n, np.int64)
        if self.first_ts is None:
            self.first_ts = np.full(n, np.nan)
        for name in ("cat_count", "cat_sum", "cat_sumsq", "cat_log_sum", "cat_log_sumsq",
                     "band_count"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(n, np.int64))

    @classmethod
    def empty(cls, n: int) -> CardBase:
        return cls(
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, np.nan)
        )


def to_cents(amt: np.ndarray) -> np.ndarray:
    """Amounts in integer cents (the unit of every history sum)."""
    return np.rint(np.asarray(amt, dtype=float) * 100.0).astype(np.int64)


def time_band(ts: np.ndarray) -> np.ndarray:
    """Band of the day (0..5) of UTC epoch seconds: 4-hour bands, band 0 is 22:00-01:59."""
    return _band((np.asarray(ts, dtype=np.int64) // 3600) % 24)


def _band(hour: np.ndarray) -> np.ndarray:
    """Band of the day of each hour of day: the one definition time_band and the habit
    groupings use."""
    return ((hour + 2) % 24) // 4


#: Log amounts are summed as integers: round(ln(cents) * LOG_SCALE).
LOG_SCALE = 1024


def log_cents(cents: np.ndarray) -> np.ndarray:
    """``round(ln(cents) * LOG_SCALE)`` as int64 (cents below 1 count as 1)."""
    return np.rint(np.log(np.maximum(cents, 1)) * LOG_SCALE).astype(np.int64)


def window_max(values: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Per row ``i``: the largest of ``values[left[i]:i]`` (-1 where that range is empty).
    ``left`` may hold the starts of several windows, one per row (the result then has a row
    per window): they share every pass.

    Why a sparse table: a window holds up to a few hundred of a card's events, and a loop over
    lags would cost that many passes over a 1.3M-row batch; level ``k`` holds the maxima of
    ranges of ``2**k`` rows, so a range is two overlapping lookups at its level, about
    log2(longest window) passes to build the levels and one lookup for every range.
    """
    n = len(values)
    idx = np.arange(n)
    if n <= len(_EARLIER):  # a realtime card history: (n, n) passes beat the levels' set-up
        # through[i, j]: the largest of values[j:i] (-1 if none), one running maximum per row
        earlier = np.where(_EARLIER[:n, :n], values, -1)
        through = np.maximum.accumulate(earlier[:, ::-1], axis=1)[:, ::-1]
        return through.ravel()[idx * n + left]
    length = idx - left
    has = length > 0
    # exact floor(log2) of integers (empty ranges read level 0, then -1)
    level = np.frexp(np.maximum(length, 1).astype(float))[1].astype(np.int64) - 1
    levels = int(level.max(initial=0)) + 1
    table = np.empty((levels, n), dtype=values.dtype)  # past a level's last full range: unread
    table[0] = values
    for k in range(1, levels):
        half = 1 << (k - 1)
        np.maximum(table[k - 1, :-half], table[k - 1, half:], out=table[k, :-half])
    flat = table.ravel()
    row = level * n
    largest = np.maximum(flat[row + left], flat[row + idx - (1 << level)])
    return np.where(has, largest, -1)


#: ``_EARLIER[i, j]``: row ``j`` comes before row ``i`` (window_max's masks, up to 64 rows).
_EARLIER = np.tri(64, k=-1, dtype=bool)


def night_hours(hour: np.ndarray) -> np.ndarray:
    """Whether each hour of day is night (22:00-03:59): the ``night`` feature and the night
    counts share this one definition."""
    return (hour >= 22) | (hour < 4)


#: night_hours and _band of each hour of the day, looked up (one gather instead of three
#: operations on a card's few rows).
_NIGHT_HOURS = night_hours(np.arange(24))
_BAND_OF_HOUR = _band(np.arange(24))


def _day_parts(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hour of day, weekday (Monday 0) and night of UTC epoch seconds, as integers/booleans
    (the history features reuse the hours)."""
    days, seconds = np.divmod(np.asarray(ts, dtype=np.int64), 86400)  # floored, as ts // 3600
    hour = seconds // 3600
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return hour, weekday, _NIGHT_HOURS[hour]


def time_features(ts: np.ndarray) -> dict[str, np.ndarray]:
    """Hour of day, weekday (Monday 0) and night (22:00-03:59) from UTC epoch seconds."""
    hour, weekday, night = _day_parts(ts)
    return {"hour": hour.astype(float), "weekday": weekday.astype(float), "night": night * 1.0}


def history_features(
    card: np.ndarray, ts: np.ndarray, cents: np.ndarray, base: CardBase | None = None,
    category: np.ndarray | None = None, profile: FraudProfile | None = None,
) -> dict[str, np.ndarray]:
    """History features of every row from the earlier rows of its card (and ``base``).

    ``card`` holds integer card codes, ``category`` integer category codes (-1 = unknown;
    default all unknown); results are in input order. Without a ``profile`` (the fraud
    profile of a trained model version) ``llr`` is NaN and its window sums 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        block, order = _history_block(card, ts, cents, base, category, profile)
    if order is not None:
        back = np.empty_like(block)
        back[:, order] = block
        block = back
    return dict(zip(HISTORY_FEATURES, block, strict=True))


def _index(rows: list[int]) -> slice | np.ndarray:
    """``rows`` as a slice where they are evenly spaced (indexing then gives a view, not a
    copy), else as an index array."""
    step = rows[1] - rows[0] if len(rows) > 1 else 1
    if step > 0 and rows == list(range(rows[0], rows[-1] + 1, step)):
        return slice(rows[0], rows[-1] + 1, step)
    return np.array(rows)


#: Row of each feature in the history block (see :func:`_history_block`).
_ROW = {name: j for j, name in enumerate(HISTORY_FEATURES)}


def _rows(names: list[str]) -> slice:
    """The rows of the history block holding ``names`` (evenly spaced, in order) as one
    slice, so features computed stacked are stored in one assignment."""
    rows = _index([_ROW[name] for name in names])
    assert isinstance(rows, slice), names
    return rows


_COUNTS = _rows([f"count_{w}" for w in WINDOWS])
_SUMS = _rows([f"sum_{w}" for w in WINDOWS])
_NIGHTS = _rows(["night_24h", "night_3d"])
_HABITS = _rows(["cat_n_prev", "cat_share", "amt_to_cat_mean", "amt_cat_z", "lamt_cat_z"])
_LLR_SUMS = _rows([f"llr_{w}" for w in FLAG_WINDOWS])
_SHARES = _rows(["cat_share", "band_share"])
#: Rows of the running sums' values (see _history_rows) the three z-scores read.
_Z_ROWS = np.array([1, 1, 3])
#: Every look-back span, searched for at once; the rows of the windows' and the evidence
#: sums' spans among them, and of the night counts' and the maxima's among the windows.
_SPANS = sorted({*WINDOWS.values(), *FLAG_WINDOWS.values()})
_SPAN_COLUMN = np.array(_SPANS, dtype=np.int64)[:, None]
_WINDOW_SPANS = _index([_SPANS.index(span) for span in WINDOWS.values()])
_FLAG_SPANS = _index([_SPANS.index(span) for span in FLAG_WINDOWS.values()])
_NIGHT_WINDOWS = _index([list(WINDOWS).index(w) for w in ("24h", "3d")])
_MAX_WINDOWS = _index([list(WINDOWS).index(w) for w in ("24h", "7d")])
_W24, _W3D, _W7D = (list(WINDOWS).index(w) for w in ("24h", "3d", "7d"))
#: Floors of the variances of the card's amounts, its amounts in the category and its log
#: amounts there (LOG_SCALE units).
_VARIANCE_FLOOR = np.array([[1.0], [1.0], [LOG_SCALE**2 / 100]])
_BASE_FIELDS = tuple(item.name for item in fields(CardBase))  # the order _history_rows unpacks
_base_fields = attrgetter(*_BASE_FIELDS)  # all of them in one call


def _history_block(
    card: np.ndarray, ts: np.ndarray, cents: np.ndarray, base: CardBase | None,
    category: np.ndarray | None, profile: FraudProfile | None,
    day: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The history features as a ``(len(HISTORY_FEATURES), n)`` block whose columns are the
    rows sorted by (card, time, input order), and that order (None when the rows already were
    in it: realtime's card history plus its event, batch's slices). ``day``: the rows' hours
    of day and whether they are night, if already known. Call under
    ``np.errstate(divide="ignore", invalid="ignore")``.

    Why in slices of :data:`SLICE_ROWS` rows of whole cards: a row's features read only its
    card's rows, and the stacked values of :func:`_history_rows` then stay in the CPU's
    cache (on 1.3M rows at once they would not: training's features were slower).
    """
    n = len(ts)
    base = base or CardBase.empty(n)
    if category is None:
        category = np.full(n, -1, dtype=np.int64)
    hour, night = _day_parts(ts)[::2] if day is None else day
    idx = np.arange(n)
    order: np.ndarray | None = np.lexsort((idx, ts, card))
    columns = [card, ts, cents, category, hour, night, *_base_fields(base)]
    if (order == idx).all():
        order = None  # plain views: the same values without a dozen fancy-index copies
    else:
        columns = [np.asarray(values)[order] for values in columns]
    for name in (0, 1, 3):  # card, time, category
        columns[name] = columns[name].astype(np.int64, copy=False)
    block = np.empty((len(HISTORY_FEATURES), n))
    if n <= SLICE_ROWS:
        _history_rows(block, idx, columns, profile)
        return block, order
    card = columns[0]
    cuts = [0, *np.unique(np.searchsorted(card, card[SLICE_ROWS::SLICE_ROWS], side="right")
                          ).tolist()]
    for start, stop in zip(cuts, [*cuts[1:], n], strict=True):
        if stop > start:
            _history_rows(block[:, start:stop], idx[:stop - start],
                          [values[start:stop] for values in columns], profile)
    return block, order


#: Rows of whole cards whose history features are worked out together (see _history_block).
SLICE_ROWS = 32_768


def _history_rows(block: np.ndarray, idx: np.ndarray, columns: list[np.ndarray],
                  profile: FraudProfile | None) -> None:
    """Fills ``block`` (one row per history feature, one column per row) from ``columns``:
    card, time, cents, category, hour, night and the :data:`_BASE_FIELDS` of rows sorted by
    card and time; ``idx`` is ``arange`` of their number.

    Why values stacked: realtime builds these for a few dozen rows, where each numpy call
    costs far more than its rows, so values that get the same operations go through them
    together (the running sums of five values in one cumsum, both habit groupings in one
    sort, the three mean/variance pairs in one pass, every window start in one search) and
    every feature is written straight into its row of the block, which the caller moves into
    the model matrix in one copy.
    """
    n = len(idx)
    (c, t, a, cat, hour, night, b_count, b_sum, b_last_ts, b_last_cents, b_sumsq, b_first,
     b_cat_count, b_cat_sum, b_cat_sumsq, b_log_sum, b_log_sumsq, b_band_count) = columns

    # each row's card: its first row, and whether the row is that first one
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(c[1:], c[:-1], out=first[1:])
    start = np.maximum.accumulate(idx * first)
    n_prev = idx - start + b_count
    # the card's earlier rows in this row's category (unknown ones are one category) and in
    # its time band: both groupings in one stable sort, which keeps time order in a group
    card_key = c << 32
    groups = np.empty((2, n), dtype=np.int64)
    np.add(card_key, np.maximum(cat, -1), out=groups[0])
    np.add(card_key, _BAND_OF_HOUR[hour], out=groups[1])
    by_group = groups.argsort(axis=1, kind="stable")
    new = np.empty((2, n), dtype=bool)  # first row of its group, in group order
    new[:, :1] = True
    for keys, order_g, new_g in zip(groups, by_group, new, strict=True):
        keys = keys[order_g]  # (row by row: numpy's 2-D fancy indexing is several times slower)
        np.not_equal(keys[1:], keys[:-1], out=new_g[1:])
    group_start = np.maximum.accumulate(idx * new, axis=1)
    # per row, over the card's earlier rows (the older ones of ``base`` added below): sums
    # and sums of squares of amounts, of amounts in this category and of log amounts there,
    # then counts of events in this category and in this time band
    prior = np.empty((8, n), dtype=np.int64)
    in_group = prior[6:]
    for counts_g, order_g, start_g in zip(in_group, by_group, group_start, strict=True):
        counts_g[order_g] = idx - start_g

    # running sums (a leading 0, then through each row) in card order of night, cents,
    # squared cents, log cents and squared log cents, and of the last four in category
    # order. Integer sums may wrap around in the running total, but differences stay exact.
    la = log_cents(a)
    running = np.zeros((9, n + 1), dtype=np.int64)
    own = running[:5, 1:]
    own[0] = night
    own[1] = a
    np.multiply(a, a, out=own[2])
    own[3] = la
    np.multiply(la, la, out=own[4])
    amounts = own[_Z_ROWS]  # cents, cents, log cents: the amounts the z-scores below rate
    running[5:, 1:] = own[1:].take(by_group[0], axis=1)
    running.cumsum(axis=1, out=running)
    before = running[:, :-1]  # per row, the sums over the rows before it
    np.subtract(before[1:3], running[1:3].take(start, axis=1), out=prior[:2])
    in_category = before[5:] - running[5:].take(group_start[0], axis=1)  # in group order
    position = np.empty(n, dtype=np.int64)  # of each row in category order
    position[by_group[0]] = idx
    prior[2:6] = in_category.take(position, axis=1)
    prior += np.array([b_sum, b_sumsq, b_cat_sum, b_cat_sumsq, b_log_sum, b_log_sumsq,
                       b_cat_count, b_band_count])  # one addition for all (int64 sums)
    totals = prior[:6].reshape(3, 2, n)
    cat_n, band_n = in_group
    counts = np.empty((3, n), dtype=np.int64)
    counts[0] = n_prev
    counts[1:] = cat_n
    at_least_1 = np.maximum(counts, 1)
    per_event = totals / at_least_1[:, None]
    some = counts > 0
    mean = np.where(some, per_event[:, 0], np.nan)
    var = np.where(counts > 1, per_event[:, 1] - mean**2, np.nan)
    sd = np.sqrt(np.maximum(var, _VARIANCE_FLOOR))
    mean_prev = mean[0]
    z = (amounts - mean) / sd  # amount z-scores: card, category, log amount in the category

    np.subtract(t, np.where(first, b_last_ts, t[idx - 1]), out=block[_ROW["secs_since_prev"]])
    np.divide(np.where(first, b_last_cents, a[idx - 1]), 100.0, out=block[_ROW["prev_amt"]])
    block[_ROW["n_prev"]] = n_prev
    np.divide(a, mean_prev, out=block[_ROW["amt_to_mean"]])
    block[_ROW["amt_z"]] = z[0]

    # every window's first row (the evidence sums' spans too) in one search
    key = card_key + t
    starts = np.searchsorted(key, key - _SPAN_COLUMN, side="right")
    lefts = starts[_WINDOW_SPANS]
    in_window = idx - lefts
    block[_COUNTS] = in_window
    np.divide(before[1] - running[1][lefts], 100.0, out=block[_SUMS])
    np.subtract(before[0], running[0][lefts[_NIGHT_WINDOWS]], out=block[_NIGHTS])
    largest_24h, largest_7d = window_max(a, lefts[_MAX_WINDOWS])
    block[_ROW["amt_to_max_7d"]] = np.where(largest_7d > 0, a / largest_7d, np.nan)
    block[_ROW["max_24h_to_mean"]] = np.where(largest_24h > 0, largest_24h / mean_prev, np.nan)
    first_ts = np.fmin(b_first, t[start])
    daily_rate = n_prev / np.maximum((t - first_ts) / 86_400.0, 1.0)
    np.divide(block[_ROW["sum_24h"]] * 100.0, mean_prev, out=block[_ROW["sum_24h_to_mean"]])
    np.divide(in_window[_W24], in_window[_W7D] + 1.0, out=block[_ROW["count_24h_to_7d"]])
    np.divide(in_window[_W24], daily_rate, out=block[_ROW["count_24h_to_rate"]])
    np.divide(in_window[_W3D], 3.0 * daily_rate, out=block[_ROW["count_3d_to_rate"]])

    # the card's own habits before each row: how often and how much it spent in this row's
    # category, and how often in this time band. Why: fraud is unusual *for the card* -- a
    # category it never uses, an amount far from what it usually pays there, an hour it is
    # usually asleep -- while the same amount, category or hour is ordinary for other
    # cardholders. Unknown categories get no category habits.
    known = cat >= 0
    seen = np.where(some[0], 1.0, np.nan)
    np.multiply(in_group / at_least_1[0], seen, out=block[_SHARES])
    habits = block[_HABITS]  # cat_n_prev, cat_share, amt_to_cat_mean, amt_cat_z, lamt_cat_z
    habits[0] = cat_n
    np.divide(a, mean[1], out=habits[2])
    habits[3:] = z[1:]
    habits[:, ~known] = np.nan
    llr = _event_llr(profile, cat, hour, la, cat_n, n_prev, habits[4], sd[2])
    block[_ROW["llr"]] = llr
    # per event, from its own earlier history: how much it looks like fraud rather than the
    # card's own spending, and whether it falls in a time band the card rarely uses. Summed
    # as integers (the evidence in hundredths), so window sums are exact however the events
    # are batched. (Counts of flagged events -- a category new to the card, an amount far
    # above its usual one, big night amounts -- added nothing once these sums were there.)
    flags = np.zeros((2, n + 1), dtype=np.int64)
    if profile is not None:
        flags[0, 1:] = np.rint(np.maximum(llr, 0) * 100)  # (integral: the cast is exact)
    flags[1, 1:] = (band_n * 10 < n_prev) & (n_prev >= 10)
    flags.cumsum(axis=1, out=flags)
    np.subtract(flags[0, :-1], flags[0][starts[_FLAG_SPANS]], out=block[_LLR_SUMS])
    np.subtract(flags[1, :-1], flags[1][lefts[_W24]], out=block[_ROW["odd_hour_24h"]])


def _event_llr(profile: FraudProfile | None, cat: np.ndarray, hour: np.ndarray, la: np.ndarray,
               cat_n: np.ndarray, n_prev: np.ndarray, lz: np.ndarray, lsd: np.ndarray
               ) -> np.ndarray:
    """Per row, :meth:`FraudProfile.llr` of the event against the card's earlier events in its
    category (``la``, ``lsd``: log amounts and their spread in LOG_SCALE units; ``lz``: the
    amount's z-score there); NaN without a profile."""
    if profile is None:
        return np.full(len(cat), np.nan)
    # the card's share of this category, half an event added to each of the profile's
    # categories (the same in a batch and in a realtime card history)
    share = (cat_n + 0.5) / (n_prev + 0.5 * len(profile.fraud_category))
    return profile.llr(cat, hour, la, LOG_SCALE, share, cat_n, lz, lsd)


#: Up to this many values of an Arrow array are looked up in a dict (at 200 values: ~45 µs
#: against Arrow's ~80 µs).
ARROW_DICT_MAX = 256


@lru_cache(maxsize=64)
def _code_map(vocabulary: tuple[str, ...]) -> dict[str, float]:
    return {value: float(code) for code, value in enumerate(vocabulary)}


def category_codes(values: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    """Codes of ``values`` in ``vocabulary`` as floats; unknown or empty values are NaN.

    Few values (realtime, also several cards scored together; a batch's small slices) are
    looked up in a dict; more in one Arrow hash lookup. Arrow's call alone costs ~80 µs; the
    crossover measured here lay between 500 and 3,000 values of a numpy array or list, and
    near 500 for an Arrow array (whose values must first become Python strings).
    """
    arrow = isinstance(values, pa.Array | pa.ChunkedArray)
    if len(values) <= (ARROW_DICT_MAX if arrow else 1024):
        # map() over a Python list: about half the cost of a comprehension over the array
        items = values.to_pylist() if arrow else (
            values.tolist() if isinstance(values, np.ndarray) else list(values))
        return np.fromiter(map(_code_map(tuple(vocabulary)).get, items, repeat(np.nan)),
                           dtype=float, count=len(items))
    found = pc.index_in(pa.array(values, type=pa.string(), from_pandas=True),
                        value_set=pa.array(vocabulary, type=pa.string()))
    return found.to_numpy(zero_copy_only=False).astype(float)


def amount_to_category(
    amt: np.ndarray, category: np.ndarray, medians: list[float] | None
) -> np.ndarray:
    """``amt`` divided by the median amount of its category (``category``: integer codes, -1
    for unknown, which gets NaN)."""
    if not medians:
        return np.full(len(amt), np.nan)
    return amt / _median_table(tuple(medians))[category]


@lru_cache(maxsize=64)
def _median_table(medians: tuple[float, ...]) -> np.ndarray:
    """The medians followed by NaN, the value code -1 (unknown) reads."""
    return np.append(np.asarray(medians, dtype=float), np.nan)


#: Column of each feature in the model matrix; the history features are its last columns.
COLUMN = {name: j for j, name in enumerate(FEATURES)}
_HISTORY_COLUMNS = slice(len(FEATURES) - len(HISTORY_FEATURES), len(FEATURES))
assert FEATURES[_HISTORY_COLUMNS] == HISTORY_FEATURES


def build_features(
    card: np.ndarray,
    ts: np.ndarray,
    numeric: dict[str, np.ndarray],
    categorical: dict[str, np.ndarray],
    vocabularies: dict[str, list[str]],
    base: CardBase | None = None,
    category_amounts: list[float] | None = None,
    profile: FraudProfile | None = None,
) -> np.ndarray:
    """The model matrix (rows in input order, columns :data:`FEATURES`).

    ``numeric`` values must already be imputed; ``categorical`` holds strings (of
    :data:`MODEL_CATEGORIES` at least);
    ``category_amounts`` are the training medians of ``amt`` per ``category`` vocabulary entry;
    ``profile`` is the model version's fraud profile (:mod:`fraudpipe.engine.profile`).
    Each column is written straight into the matrix (one copy of each value).
    """
    matrix = np.empty((len(ts), len(FEATURES)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in MODEL_VARIABLES:  # codes of categories the model does not read: not needed
            matrix[:, COLUMN[name]] = (
                category_codes(categorical[name], vocabularies.get(name, []))
                if name in MODEL_CATEGORIES else numeric[name])
        codes = matrix[:, COLUMN["category"]]  # NaN (unknown) -> -1; where() is nan_to_num
        category = np.where(np.isnan(codes), -1.0, codes).astype(np.int64)  # without its cost
        matrix[:, COLUMN["amt_to_category"]] = amount_to_category(numeric["amt"], category,
                                                                  category_amounts)
        hour, weekday, night = _day_parts(ts)
        matrix[:, COLUMN["hour"]] = hour
        matrix[:, COLUMN["weekday"]] = weekday
        matrix[:, COLUMN["night"]] = night
        block, order = _history_block(card, ts, to_cents(numeric["amt"]), base, category,
                                      profile, (hour, night))
    if order is None:
        matrix[:, _HISTORY_COLUMNS] = block.T
    else:
        matrix[order, _HISTORY_COLUMNS] = block.T
    return matrix
