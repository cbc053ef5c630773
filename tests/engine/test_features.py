"""History and time features: only earlier events of the same card, exact window sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fraudpipe.engine.batch_rows import base_from_snapshot
from fraudpipe.engine.entities import CardState, Snapshot
from fraudpipe.engine.features import (
    CardBase,
    category_codes,
    history_features,
    time_features,
    to_cents,
)
from fraudpipe.engine.profile import fit_profile

T0 = int(pd.Timestamp("2020-06-01T12:00:00Z").timestamp())


def test_history_uses_only_earlier_events_of_the_card() -> None:
    # card 0: events at +0s, +30min, +2h, +2d ; card 1 interleaved
    card = np.array([0, 1, 0, 0, 1, 0])
    ts = T0 + np.array([0, 60, 1800, 7200, 90_000, 2 * 86400])
    cents = to_cents(np.array([10.0, 99.0, 20.0, 30.5, 1.0, 40.0]))
    f = history_features(card, ts, cents)
    assert np.isnan(f["secs_since_prev"][0]) and np.isnan(f["secs_since_prev"][1])
    assert f["secs_since_prev"][[2, 3, 4, 5]].tolist() == [1800, 5400, 89_940, 2 * 86400 - 7200]
    assert f["prev_amt"][[2, 3, 5]].tolist() == [10.0, 20.0, 30.5]
    assert f["n_prev"].tolist() == [0, 0, 1, 2, 1, 3]
    assert f["count_1h"].tolist() == [0, 0, 1, 0, 0, 0]
    assert f["count_24h"].tolist() == [0, 0, 1, 2, 0, 0]
    assert f["sum_24h"].tolist() == [0, 0, 10.0, 30.0, 0, 0]
    assert f["count_7d"][5] == 3 and f["sum_7d"][5] == 60.5
    # amount relative to the card's running mean of earlier amounts
    assert f["amt_to_mean"][3] == 30.5 / 15.0
    assert np.isnan(f["amt_to_mean"][0])


def test_ties_count_in_input_order_and_results_keep_input_order() -> None:
    card = np.array([5, 5, 5])
    ts = np.array([T0 + 10, T0, T0 + 10])
    f = history_features(card, ts, to_cents(np.array([1.0, 2.0, 3.0])))
    # time order is row 1, row 0, row 2 (row 0 before row 2 at equal time)
    assert f["n_prev"].tolist() == [1, 0, 2]
    assert f["prev_amt"][2] == 1.0


def test_older_history_comes_from_the_base_summary() -> None:
    base = CardBase(np.array([4]), np.array([10_000]), np.array([float(T0 - 100)]),
                    np.array([2500.0]))
    f = history_features(np.array([0]), np.array([T0]), to_cents(np.array([50.0])), base)
    assert f["n_prev"][0] == 4 and f["secs_since_prev"][0] == 100 and f["prev_amt"][0] == 25.0
    assert f["amt_to_mean"][0] == 5000 / 2500
    assert f["count_24h"][0] == 0  # the base only summarises events outside every window


@pytest.mark.parametrize("with_profile", [False, True])
def test_snapshot_plus_later_events_equals_the_whole_sequence(with_profile: bool) -> None:
    # the batch/realtime condition: a card's later events scored from the snapshot's summary
    # plus its recent events get exactly the values of the whole sequence (the llr and its
    # window sums too, with a fraud profile)
    rng = np.random.default_rng(1)
    n = 400
    card = rng.integers(0, 5, n)
    ts = np.sort(T0 + rng.integers(0, 30 * 86400, n))
    cents = rng.integers(100, 50_000, n)
    names = np.array(["gas", "home", "travel"], dtype=object)[rng.integers(0, 3, n)]
    category = pd.Categorical(names, categories=["gas", "home", "travel"]).codes.astype(np.int64)
    profile = (fit_profile(category, ts, cents, rng.random(n) < 0.1, k=3)
               if with_profile else None)
    whole = history_features(card, ts, cents, category=category, profile=profile)
    cut = 250
    keys = np.array([f"k{c}" for c in card], dtype=object)
    snap = Snapshot.from_events(keys[:cut], ts[:cut], cents[:cut], names[:cut])
    # rebuild the later rows from the snapshot: recent rows as context + older summary as base
    ctx = snap.recent
    all_keys = np.concatenate([ctx["key"].to_numpy(dtype=object), keys[cut:]])
    all_names = np.concatenate([ctx["category"].to_numpy(dtype=object), names[cut:]])
    all_ts = np.concatenate([ctx["ts"].to_numpy(), ts[cut:]])
    codes, uniques = pd.factorize(all_keys)
    base = base_from_snapshot(snap, uniques, codes, all_names, all_ts)
    part = history_features(
        codes, all_ts, np.concatenate([ctx["cents"].to_numpy(), cents[cut:]]), base,
        pd.Categorical(all_names, categories=["gas", "home", "travel"]).codes.astype(np.int64),
        profile)
    assert ("llr" in whole) and np.isfinite(whole["llr"]).all() == with_profile
    for name, values in whole.items():
        np.testing.assert_array_equal(part[name][len(ctx):], values[cut:], err_msg=name)


def test_card_state_moves_events_out_of_the_window_into_older() -> None:
    state = CardState()
    state.add(T0, 100)
    state.add(T0 + 3600, 200)
    state.add(T0 + 8 * 86400, 300)
    assert state.recent == [(T0 + 8 * 86400, 300)]
    assert (state.older_count, state.older_sum, state.last_ts, state.last_cents) == (
        2, 300, float(T0 + 3600), 200.0)


def test_time_features() -> None:
    ts = np.array([int(pd.Timestamp(s).timestamp()) for s in
                   ("2020-06-01T23:30:00Z", "2020-06-06T12:00:00Z", "2020-06-07T03:59:00Z")])
    f = time_features(ts)
    assert f["hour"].tolist() == [23, 12, 3]
    assert f["weekday"].tolist() == [0, 5, 6]  # Monday, Saturday, Sunday
    assert f["night"].tolist() == [1, 0, 1]


@pytest.mark.parametrize("n", [5, 300, 3000])
def test_category_codes_are_the_same_from_arrow_and_numpy_of_any_size(n: int) -> None:
    vocabulary = ["gas", "grocery", "travel"]
    values = np.resize(np.array(["gas", "", "never_seen", "travel", "grocery"], dtype=object), n)
    from_numpy = category_codes(values, vocabulary)
    from_arrow = category_codes(pa.array(values.tolist(), type=pa.large_string()), vocabulary)
    np.testing.assert_array_equal(from_arrow, from_numpy)
    assert from_numpy[:5].tolist()[::3] == [0.0, 2.0] and np.isnan(from_numpy[1:3]).all()


def test_a_snapshot_card_keeps_integer_sums_above_2_to_the_53_exact() -> None:
    # GIVEN a card whose older squared cents pass 2**53 (where float64 stops counting by one)
    day = 86_400
    cents = np.array([10**8 + 1, 10**8 + 3, 500])
    snap = Snapshot.from_events(np.array(["k", "k", "k"], dtype=object),
                                np.array([0, day, 30 * day]), cents)
    # WHEN realtime reads the card's state from the snapshot
    state = snap.card("k")
    # THEN its sums are the exact integers batch scoring reads from the same snapshot
    assert state.older_sumsq == (10**8 + 1) ** 2 + (10**8 + 3) ** 2 > 2**53
    assert state.older_sumsq == int(snap.older.loc["k", "older_sumsq"])
    assert (state.older_count, state.older_sum) == (2, 2 * 10**8 + 4)
