"""Episode evidence over several spans and the card's recent largest amounts: computed from the
card's *earlier* events only, the same whichever way the events are batched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fraudpipe.engine.artifact import ModelArtifact
from fraudpipe.engine.entities import CardState
from fraudpipe.engine.features import FEATURES, history_features, to_cents, window_max
from fraudpipe.engine.profile import fit_profile

T0 = int(pd.Timestamp("2020-06-01T12:00:00Z").timestamp())
DAY = 86_400


def test_window_max_is_the_largest_earlier_value_in_each_range() -> None:
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(1, 400))
        values = rng.integers(0, 10**7, n)
        left = np.minimum(np.sort(rng.integers(0, n, n)), np.arange(n))
        expected = [values[lo:i].max() if i > lo else -1 for i, lo in enumerate(left)]
        assert window_max(values, left).tolist() == expected


def test_amount_against_the_cards_largest_of_the_last_7_days() -> None:
    # GIVEN card 0 paying 50, 200 (a day later), 30 (7 days after the 50), 100 (8 days after
    # the 200: the 200 has left the window); card 1 paying 9000 in between
    card = np.array([0, 0, 1, 0, 0])
    ts = T0 + np.array([0, DAY, 2 * DAY, 7 * DAY, 9 * DAY])
    cents = np.array([5_000, 20_000, 900_000, 3_000, 10_000])
    f = history_features(card, ts, cents)
    # THEN each row compares with its own card's earlier events inside 7 days only
    assert np.isnan(f["amt_to_max_7d"][0]) and np.isnan(f["amt_to_max_7d"][2])
    assert f["amt_to_max_7d"][1] == 20_000 / 5_000
    assert f["amt_to_max_7d"][3] == 3_000 / 20_000  # the 50 is exactly 7 days old: out
    assert f["amt_to_max_7d"][4] == 10_000 / 3_000


def test_largest_of_the_last_24_hours_against_the_cards_usual_amount() -> None:
    # GIVEN a card paying 20 ten times 20 hours apart, then 500, then 20 an hour later
    hours = 3600
    ts = T0 + np.r_[np.arange(11) * 20 * hours, 200 * hours + 3600]
    cents = np.r_[np.full(10, 2_000), 50_000, 2_000]
    f = history_features(np.zeros(12, dtype=np.int64), ts, cents)
    assert np.isnan(f["max_24h_to_mean"][0])  # nothing earlier
    assert f["max_24h_to_mean"][1] == 1.0  # the 20 paid 20 hours earlier
    assert f["max_24h_to_mean"][10] == 1.0  # the 500 itself is not earlier than itself
    assert f["max_24h_to_mean"][11] == 50_000 / np.mean(np.r_[np.full(10, 2_000), 50_000])


def test_earlier_evidence_sums_over_1h_6h_24h_and_3d() -> None:
    # GIVEN a card paying ~20 in one category for ten days, then 400 at +0h, +2h and +30h,
    # and a fraud profile in which fraud pays ~400 there
    day = T0 - 10 * DAY + np.arange(10) * DAY
    ts = np.r_[day, T0, T0 + 2 * 3600, T0 + 30 * 3600, T0 + 30 * 3600 + 60]
    cents = np.r_[np.full(10, 2_000), 40_000, 40_000, 40_000, 2_000]
    category = np.zeros(len(ts), dtype=np.int64)
    profile = fit_profile(np.zeros(40, dtype=np.int64), np.full(40, T0),
                          np.r_[np.full(20, 40_000), np.full(20, 2_000)],
                          np.r_[np.ones(20), np.zeros(20)], k=1)
    f = history_features(np.zeros(len(ts), dtype=np.int64), ts, cents, category=category,
                         profile=profile)
    tail = slice(10, None)
    evidence = np.rint(np.clip(f["llr"], 0, None) * 100)
    big = evidence[10]
    # THEN the big payments weigh for fraud (less and less as the card's own history holds
    # them too), the 20 after them does not
    assert (evidence[10:13] > 0).all() and evidence[10] > evidence[11] and evidence[13] == 0
    # AND each one's evidence counts for the later events within each span, never for itself
    assert f["llr_1h"][tail].tolist() == [0, 0, 0, evidence[12]]
    assert f["llr_6h"][tail].tolist() == [0, big, 0, evidence[12]]
    assert f["llr_24h"][tail].tolist() == [0, big, 0, evidence[12]]  # +30h: first two too old
    assert f["llr_3d"][tail].tolist() == [0, big, big + evidence[11], evidence[10:13].sum()]


def test_realtime_rows_equal_batch_rows_for_every_feature(tmp_path: Path) -> None:
    # GIVEN one card's 80 events over 12 days: everyday amounts by day, a burst of big night
    # payments in new categories on day 9, events ageing out of the 7-day window
    rng = np.random.default_rng(5)
    n = 80
    ts = np.sort(T0 + rng.integers(0, 12 * DAY, n))
    ts[60:66] = T0 + 9 * DAY + 11 * 3600 + np.arange(6) * 900  # 23:00-00:15 UTC
    ts = np.sort(ts)
    amt = np.round(rng.lognormal(3.0, 0.6, n), 2)
    amt[60:66] = [850.0, 920.5, 300.0, 12.0, 780.0, 15.5]
    vocabulary = ["gas_transport", "grocery_pos", "shopping_net", "misc_net"]
    names = np.array(vocabulary[:2], dtype=object)[rng.integers(0, 2, n)]
    names[60:66] = ["shopping_net", "misc_net", "grocery_pos", "gas_transport", "shopping_net",
                    "misc_net"]
    artifact = ModelArtifact(
        folder=tmp_path, booster=None, calibration=None, snapshot=None,  # type: ignore[arg-type]
        metadata={"medians": {"amt": 30.0, "city_pop": 1000.0},
                  "vocabularies": {"category": vocabulary, "gender": ["F", "M"], "state": []},
                  "category_amounts": [40.0, 60.0, 80.0, 70.0],
                  # a fraud profile, so the llr features are compared too
                  "fraud_profile": fit_profile(
                      rng.integers(0, 4, 400), T0 + rng.integers(0, DAY, 400),
                      rng.integers(100, 100_000, 400), rng.integers(0, 2, 400), k=4).to_dict()})
    other = {"gender": np.full(n, "F", dtype=object), "state": np.full(n, "", dtype=object)}
    # WHEN the whole sequence is one batch, and each event is scored alone from the card state
    batch = artifact.matrix(np.zeros(n, dtype=np.int64), ts,
                            {"amt": amt, "city_pop": np.full(n, 1000.0)},
                            {"category": names, **other})
    state = CardState()
    for i in range(n):
        matrix, _ = artifact.states_matrix([state], [int(ts[i])],
                                           [{"amt": amt[i:i + 1], "city_pop": np.array([1000.0])}],
                                           [{"category": names[i], "gender": "F"}])
        row = matrix[-1]
        # THEN the realtime row equals the batch row, feature by feature
        for j, name in enumerate(FEATURES):
            np.testing.assert_array_equal(row[j], batch[i, j], err_msg=f"event {i} {name}")
        state.add(int(ts[i]), int(to_cents(amt[i:i + 1])[0]), names[i])
    assert batch[:, FEATURES.index("llr_6h")].max() > 0 and np.isfinite(  # the burst was seen
        batch[:, FEATURES.index("llr")]).all()
    assert np.nanmin(batch[:, FEATURES.index("amt_to_max_7d")]) < 1 < np.nanmax(
        batch[:, FEATURES.index("amt_to_max_7d")])
