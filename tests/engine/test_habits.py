"""The card's own habits: per-category amounts, time-band shares and the 24h sums of earlier
events' fraud evidence, all from the card's *earlier* events, the same however they are
batched."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudpipe.engine.entities import CardState, Snapshot, bases_of
from fraudpipe.engine.features import history_features, log_cents, time_band, to_cents
from fraudpipe.engine.profile import fit_profile

T0 = int(pd.Timestamp("2020-06-01T12:00:00Z").timestamp())  # 12:00 UTC: band 3
GAS, HOME = 0, 1


def test_category_habits_use_only_earlier_events_of_the_card_in_that_category() -> None:
    # GIVEN card 0 paying gas 40, 60, then home 500, then gas 10; card 1 paying gas 1000
    card = np.array([0, 0, 1, 0, 0])
    ts = T0 + np.array([0, 3600, 4000, 7200, 10_800])
    cents = to_cents(np.array([40.0, 60.0, 1000.0, 500.0, 10.0]))
    category = np.array([GAS, GAS, GAS, HOME, GAS])
    # WHEN the features are computed
    f = history_features(card, ts, cents, category=category)
    # THEN each row sees the earlier events of its own card and category only
    assert f["cat_n_prev"].tolist() == [0, 1, 0, 0, 2]
    assert np.isnan(f["amt_to_cat_mean"][0]) and np.isnan(f["amt_to_cat_mean"][3])
    assert f["amt_to_cat_mean"][1] == 60 / 40
    assert f["amt_to_cat_mean"][4] == 10 / 50  # card 1's 1000 does not count
    assert f["cat_share"][4] == 2 / 3  # two of the card's three earlier events were gas
    assert f["cat_share"][3] == 0.0  # a category new to the card
    assert np.isnan(f["cat_share"][0])  # no earlier events at all
    # log-amount z-score against the card's earlier gas amounts (40 and 60)
    logs = log_cents(np.array([4000, 6000, 1000]))
    mean = logs[:2].mean()
    std = np.sqrt((logs[:2] ** 2).mean() - mean**2)
    assert np.isclose(f["lamt_cat_z"][4], (logs[2] - mean) / std)


def test_unknown_category_gets_no_habit_features() -> None:
    f = history_features(np.array([0, 0]), T0 + np.array([0, 60]), np.array([100, 200]),
                         category=np.array([-1, -1]))
    assert np.isnan(f["cat_n_prev"]).all() and np.isnan(f["amt_to_cat_mean"]).all()


def test_time_band_share_counts_earlier_events_in_the_same_band() -> None:
    # GIVEN three day-time events then one at 23:30 and one at 13:00 the next day
    night = int(pd.Timestamp("2020-06-01T23:30:00Z").timestamp())
    ts = np.array([T0, T0 + 600, T0 + 1200, night, night + 13 * 3600 + 1800])
    assert time_band(ts).tolist() == [3, 3, 3, 0, 3]
    f = history_features(np.zeros(5, dtype=np.int64), ts, np.full(5, 1000))
    assert np.isnan(f["band_share"][0])
    assert f["band_share"][1:].tolist() == [1.0, 1.0, 0.0, 3 / 4]


def test_big_amounts_weigh_for_the_next_24_hours() -> None:
    # GIVEN a card that pays ~20 at the grocer ten times, then 400 twice, then 20 again, and a
    # fraud profile in which fraud pays ~400 there
    n = 13
    ts = T0 + np.arange(n) * 3600
    cents = np.array([2000] * 10 + [40_000, 40_000, 2000])
    profile = fit_profile(np.zeros(40, dtype=np.int64), np.full(40, T0),
                          np.r_[np.full(20, 40_000), np.full(20, 2_000)],
                          np.r_[np.ones(20), np.zeros(20)], k=1)
    f = history_features(np.zeros(n, dtype=np.int64), ts, cents,
                         category=np.zeros(n, dtype=np.int64), profile=profile)
    # THEN each big payment's evidence counts for the later events only
    evidence = np.rint(np.clip(f["llr"], 0, None) * 100)
    assert (evidence[10:12] > 0).all()
    assert f["llr_24h"].tolist() == [*np.cumsum(np.r_[0, evidence[:-1]])]


def test_card_state_keeps_category_and_band_history_when_events_age() -> None:
    # GIVEN a card with a gas and a home event, then one 8 days later
    state = CardState()
    state.add(T0, 4000, "gas")
    state.add(T0 + 3600, 50_000, "home")
    state.add(T0 + 8 * 86400, 1000, "gas")
    # THEN the two old events moved to the older summary with their category and band
    assert state.recent == [(T0 + 8 * 86400, 1000)] and state.recent_categories == ["gas"]
    assert state.older_categories["gas"][:3] == [1, 4000, 4000 * 4000]
    assert state.older_categories["home"][0] == 1
    assert state.older_bands[3] == 2 and sum(state.older_bands) == 2
    # AND a row's base carries the older events of its own category and band
    base = bases_of([state], [["gas", "travel"]], [[T0, T0]])
    assert base.cat_count.tolist() == [1, 0] and base.cat_sum.tolist() == [4000, 0]
    assert base.band_count.tolist() == [2, 2]


def test_snapshot_card_state_equals_adding_the_events_one_by_one() -> None:
    rng = np.random.default_rng(4)
    n = 120
    ts = np.sort(T0 + rng.integers(0, 20 * 86400, n))
    cents = rng.integers(100, 90_000, n)
    names = np.array(["gas", "home", "travel"], dtype=object)[rng.integers(0, 3, n)]
    snap = Snapshot.from_events(np.full(n, "k", dtype=object), ts, cents, names)
    state = CardState()
    for t, a, c in zip(ts, cents, names, strict=True):
        state.add(int(t), int(a), c)
    from_snapshot = snap.card("k")
    assert from_snapshot.recent == state.recent
    assert from_snapshot.recent_categories == state.recent_categories
    assert from_snapshot.older_categories == state.older_categories
    assert from_snapshot.older_bands == state.older_bands
    assert from_snapshot.older_count == state.older_count


def test_night_amounts_above_the_cards_usual_weigh_for_the_events_after_them() -> None:
    # GIVEN a card paying ~20 in one category by day, then 100 at 23:00 twice, then 20 by day,
    # and a fraud profile in which fraud happens at night
    day = T0 + np.arange(10) * 3600 * 24  # 12:00 on ten days
    late = int(pd.Timestamp("2020-06-11T23:00:00Z").timestamp())
    ts = np.concatenate([day, [late, late + 600, late + 13 * 3600]])
    cents = np.array([2000] * 10 + [10_000, 10_000, 2000])
    profile = fit_profile(np.zeros(40, dtype=np.int64), np.r_[np.full(20, late), day, day],
                          np.r_[np.full(20, 10_000), np.full(20, 2_000)],
                          np.r_[np.ones(20), np.zeros(20)], k=1)
    f = history_features(np.zeros(13, dtype=np.int64), ts, cents,
                         category=np.zeros(13, dtype=np.int64), profile=profile)
    # THEN the night payments look like fraud for this card, and their evidence counts only
    # for the events after them
    assert f["llr"][10] > 0 and f["llr"][11] > 0 and f["llr"][12] < f["llr"][11]
    assert f["llr_24h"][:11].tolist() == [0] * 11
    assert f["llr_24h"][12] > f["llr_24h"][11] > 0
